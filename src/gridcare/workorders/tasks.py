"""Background job "workorders.scan_due": warnings at 80 % of a step's limit, breaches at 100 %.

The alarms still to raise wait in `step_alarms` (written when an order enters a step, removed when it
leaves it or its clock is paused). A pass takes the due ones by time, oldest first, in batches: each
batch deletes its alarms (RETURNING what it took, so two scanners never raise one twice) and writes, set
based, one event per alarm through the engine's log and one message to the step's handler — a handful
of statements per batch, and not one update of the wide, much-indexed work_orders row. Running the scan
twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, case, delete, func, insert, literal, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from gridcare.db import transaction
from gridcare.models import Notification, StepAlarm, WorkOrder
from gridcare.models.types import UTCDateTime, utcnow
from gridcare.workorders.defaults import STEPS
from gridcare.workorders.process import LOG


@dataclass
class ScanResult:
    warnings: int = 0
    breaches: int = 0


_KINDS = {
    "warning": (WorkOrder.step_warn_at, "即将超时"),
    "breach": (WorkOrder.step_deadline, "已超时"),
}


def _step_name() -> ColumnElement[str]:
    """The step's Chinese name, as steps.step_name gives it, computed in SQL."""
    repair_contact = (WorkOrder.step == "pending_contact") & (WorkOrder.business_type == "fault_repair")
    return case(
        (repair_contact, "待到达现场"),
        *((WorkOrder.step == code, name) for code, name in STEPS.items()),
        else_=WorkOrder.step,
    )


def _deadline_text(dialect: str) -> ColumnElement[str]:
    """The step's deadline in Beijing time, "YYYY-MM-DD HH:MM"."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M", WorkOrder.step_deadline, "+8 hours")
    return func.to_char(func.timezone("Asia/Shanghai", WorkOrder.step_deadline), "YYYY-MM-DD HH24:MI")


def _message(dialect: str, label: str) -> ColumnElement[str]:
    return (
        literal("工单 ")
        + WorkOrder.number
        + "「"
        + _step_name()
        + "」"
        + label
        + "（时限 "
        + func.coalesce(_deadline_text(dialect), "")
        + "）"
    )


def _owner_json(dialect: str) -> ColumnElement[Any]:
    build = func.json_object if dialect == "sqlite" else func.json_build_object
    return build("owner_user_id", WorkOrder.handler_user_id)


def _raise(session: Session, kind: str, ids: Sequence[int], now: datetime) -> None:
    """The events and messages of `kind` for these orders (their alarms just taken)."""
    _, label = _KINDS[kind]
    dialect = session.get_bind().dialect.name
    at = literal(now, UTCDateTime())
    message = _message(dialect, label)
    these = WorkOrder.id.in_(ids)
    LOG.append_select(
        session,
        ["item", "at", "action", "from_step", "note", "data", "step_entered_at", "step_deadline", "unit_id"],
        select(
            WorkOrder.id,
            at,
            literal(kind),
            WorkOrder.step,
            message,
            _owner_json(dialect),
            WorkOrder.step_entered_at,
            WorkOrder.step_deadline,
            WorkOrder.station_id,
        ).where(these),
    )
    notifications = cast(Table, Notification.__table__)
    session.execute(
        insert(notifications).from_select(
            ["user_id", "order_id", "kind", "message", "created_at"],
            select(WorkOrder.handler_user_id, WorkOrder.id, literal(kind), message, at).where(
                these, WorkOrder.handler_user_id.is_not(None)
            ),
        )
    )


def _batch(session: Session, now: datetime, size: int) -> tuple[ScanResult, int]:
    """One batch: (what was raised, how many alarms were due in it)."""
    due = session.execute(
        select(StepAlarm.order_id, StepAlarm.kind)
        .where(StepAlarm.at <= now)
        .order_by(StepAlarm.at)
        .limit(size)
    ).all()
    result = ScanResult()
    if not due:
        return result, 0
    taken = session.execute(
        delete(StepAlarm)
        .where(tuple_(StepAlarm.order_id, StepAlarm.kind).in_([tuple(d) for d in due]), StepAlarm.at <= now)
        .returning(StepAlarm.order_id, StepAlarm.kind)
        .execution_options(synchronize_session=False)
    ).all()
    for kind in ("warning", "breach"):
        ids = [order_id for order_id, k in taken if k == kind]
        if ids:
            _raise(session, kind, ids, now)
    result.warnings = sum(1 for _, k in taken if k == "warning")
    result.breaches = len(taken) - result.warnings
    return result, len(due)


def scan_due(
    factory: sessionmaker[Session], *, now: datetime | None = None, batch_size: int = 1000
) -> ScanResult:
    """Raise every due warning and breach, one committed batch at a time."""
    now = now or utcnow()
    result = ScanResult()
    while True:
        with transaction(factory) as session:
            done, due = _batch(session, now, batch_size)
        result.warnings += done.warnings
        result.breaches += done.breaches
        if due < batch_size:
            break
    return result
