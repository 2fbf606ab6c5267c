"""The frequent-outage watch: 2 counted outages in 2 months → watch list, 3 → flagged; exclusions;
and the bundling warning when planning on customers already out in the last 60 days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from gridcare.config import Settings
from gridcare.outages import frequent, service
from gridcare.outages.schemas import OutageCreate, OutageScope
from tests.outages.conftest import Grid, bj, restored_fault

NOW = bj("2026-12-20 12:00")


def outage(
    s: Session,
    grid: Grid,
    settings: Settings,
    days_ago: float,
    minutes: int,
    cause_class: str = "company",
    **scope: list[int],
) -> None:
    restored_fault(s, grid, settings, NOW - timedelta(days=days_ago), minutes, cause_class, **scope)


def test_watch_list_and_flags(grid: Grid, session_factory: sessionmaker[Session], settings: Settings) -> None:
    with session_factory() as s:
        switch, line, area = [grid.switch.id], [grid.feeder.id], [grid.on_feeder.id]
        outage(s, grid, settings, 10, 90, branch_switches=switch)
        outage(s, grid, settings, 20, 60, feeders=line)
        outage(
            s, grid, settings, 15, 240, "disaster", branch_switches=switch
        )  # declared disaster: not counted
        outage(s, grid, settings, 95, 60, branch_switches=switch)  # more than 2 months ago
        for minute in (0, 10, 20, 30):  # four flickers in one day: the fourth counts
            outage(s, grid, settings, 30 - minute / 1440, 2, transformer_areas=area)
        s.commit()
        staff = grid.principal(s, "staff_a1")
        watched = {w.account_no: w for w in frequent.watch_list(s, principal=staff, now=NOW)}
        expected = {grid.customers[k].account_no for k in ("plain", "important", "no_phone", "on_feeder")}
        assert set(watched) == expected
        assert {w.outages for w in watched.values()} == {2}
        assert {w.level for w in watched.values()} == {"watch"}

        outage(s, grid, settings, 5, 45, branch_switches=switch)
        s.commit()
        watched = {w.account_no: w for w in frequent.watch_list(s, principal=staff, now=NOW)}
        assert watched[grid.customers["plain"].account_no].level == "flagged"
        assert watched[grid.customers["plain"].account_no].outages == 3
        assert watched[grid.customers["on_feeder"].account_no].level == "watch"
        # Another station's staff sees none of them.
        assert frequent.watch_list(s, principal=grid.principal(s, "staff_b1"), now=NOW) == []


def test_planning_warns_about_customers_out_in_the_last_60_days(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        recent = bj("2026-12-01 08:00")
        who = grid.principal(s, "dispatcher_a")
        made = service.create(
            s,
            principal=who,
            settings=settings,
            data=OutageCreate(
                kind="fault",
                title="故障",
                cause="线路故障",
                scope=OutageScope(branch_switches=[grid.switch.id]),
                planned_start=recent,
                planned_end=recent + timedelta(hours=2),
            ),
            now=recent,
        )
        service.restore(
            s,
            principal=who,
            settings=settings,
            outage_id=made.id,
            version=made.version,
            now=recent + timedelta(hours=1),
        )
        s.commit()
        shown = service.preview(
            s, principal=who, scope=OutageScope(feeders=[grid.feeder.id]), now=recent + timedelta(days=50)
        )
        assert shown["customers"] == 4
        assert shown["recently_out"] == 3
        later = service.preview(
            s, principal=who, scope=OutageScope(feeders=[grid.feeder.id]), now=recent + timedelta(days=70)
        )
        assert later["recently_out"] == 0
