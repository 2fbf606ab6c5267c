"""Repair calls from inside a fault outage attach to it; its restoration moves them to their callbacks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.config import Settings
from gridcare.models import WorkOrder, WorkOrderEvent
from gridcare.outages import service
from gridcare.outages.schemas import OutageCreate, OutageScope
from tests.outages.conftest import Grid, bj, no_power_call

NOW = bj("2026-12-05 20:00")


def repair_call(s: Session, grid: Grid, settings: Settings, account_no: str, minutes: int) -> WorkOrder:
    return no_power_call(s, grid, settings, account_no, NOW + timedelta(minutes=minutes))


def test_calls_attach_to_the_fault_and_move_on_when_it_is_restored(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        fault = service.create(
            s,
            principal=who,
            settings=settings,
            data=OutageCreate(
                kind="fault",
                title="东山2号分支故障",
                cause="分支线路故障",
                scope=OutageScope(branch_switches=[grid.switch.id]),
                planned_start=NOW,
                planned_end=NOW + timedelta(hours=3),
            ),
            now=NOW,
        )
        inside = repair_call(s, grid, settings, grid.customers["plain"].account_no, 5)
        outside = repair_call(s, grid, settings, grid.customers["on_feeder"].account_no, 6)
        s.commit()
        assert (inside.step, inside.outage_id) == ("merged", fault.id)
        assert (outside.step, outside.outage_id) == ("pending_dispatch", None)

        service.restore(
            s,
            principal=who,
            settings=settings,
            outage_id=fault.id,
            version=fault.version,
            now=NOW + timedelta(hours=2),
        )
        s.commit()
        s.refresh(inside)
        s.refresh(outside)
        assert inside.step == "pending_callback"
        assert inside.reply is not None
        assert fault.number in inside.reply
        assert outside.step == "pending_dispatch"
        actions = list(
            s.scalars(
                select(WorkOrderEvent.action)
                .where(WorkOrderEvent.order_id == inside.id)
                .order_by(WorkOrderEvent.id)
            )
        )
        assert actions == ["create", "attach_outage", "outage_restored"]
