"""SAIFI, SAIDI, CAIDI, RS-1 and CEMI-n on a hand-computed day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gridcare.config import Settings
from gridcare.outages.reliability import Where, indices
from tests.outages.conftest import Grid, bj, restored_fault

DAY = bj("2026-12-01 00:00")


def fault(
    s: Session,
    grid: Grid,
    settings: Settings,
    start_hour: float,
    minutes: int,
    cause_class: str = "company",
    **scope: list[int],
) -> None:
    restored_fault(s, grid, settings, DAY + timedelta(hours=start_hour), minutes, cause_class, **scope)


def test_indices_on_a_hand_computed_day(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        fault(s, grid, settings, 1, 120, branch_switches=[grid.switch.id])  # 3 customers × 2 h
        fault(s, grid, settings, 6, 60, feeders=[grid.feeder.id])  # 4 customers × 1 h
        fault(s, grid, settings, 9, 2, transformer_areas=[grid.on_feeder.id])  # momentary: left out
        fault(
            s, grid, settings, 12, 300, "disaster", branch_switches=[grid.switch.id]
        )  # declared disaster: left out
        fault(s, grid, settings, 30, 60, feeders=[grid.feeder.id])  # the next day: another period
        s.commit()
        line = indices(
            s,
            start=DAY,
            end=DAY + timedelta(days=1),
            where=Where(feeder_id=grid.feeder.id),
            now=DAY + timedelta(days=3),
        )
        assert line["customers_served"] == 4
        assert line["interruptions"] == 2
        assert line["customers_interrupted"] == 7
        assert line["saifi"] == 1.75
        assert line["saidi_hours"] == 2.5  # (3 × 2 + 4 × 1) / 4
        assert line["caidi_hours"] == pytest.approx(1.4286)
        assert line["rs1"] == pytest.approx(89.5833)  # (1 − 2.5 / 24) × 100
        assert line["cemi"] == {"1": 75.0, "2": 0.0, "3": 0.0}

        station = grid.world.units["station_a1"]
        unit = indices(
            s,
            start=DAY,
            end=DAY + timedelta(days=1),
            where=Where(unit_path=station.path),
            now=DAY + timedelta(days=3),
        )
        assert unit["customers_served"] == 5  # the station's own customer on another feeder too
        assert unit["saifi"] == 1.4
        assert unit["saidi_hours"] == 2.0
        assert unit["cemi"]["1"] == 60.0
