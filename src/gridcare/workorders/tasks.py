"""Background job "workorders.scan_due": warnings at 80 % of a step's limit, breaches at 100 %.

Idempotent and batched: due rows are selected by index (partial indexes on the not-yet-flagged rows),
flagged with a guarded UPDATE (so a step entered meanwhile is never flagged for the old deadline),
and each flag writes one event and one notification to the step's owner, in the same transaction.
The events and notifications are written set-based (INSERT … SELECT), so a batch costs a handful of
statements, not a Python loop. Running the scan twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, case, func, insert, literal, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from gridcare.db import transaction
from gridcare.models import Notification, WorkOrder
from gridcare.models.types import UTCDateTime, utcnow
from gridcare.workorders.defaults import OPEN_STEPS, STEPS
from gridcare.workorders.process import LOG


@dataclass
class ScanResult:
    warnings: int = 0
    breaches: int = 0


_KINDS = {
    "warning": (WorkOrder.step_warn_at, WorkOrder.step_warned, "即将超时"),
    "breach": (WorkOrder.step_deadline, WorkOrder.step_breached, "已超时"),
}
# Written exactly as the partial indexes' predicates (ix_work_orders_warn, ix_work_orders_due): SQLAlchemy
# would render `~flag` as `flag = 0` on SQLite, which its planner does not match to `NOT flag`.
_NOT_FLAGGED = {"warning": text("NOT step_warned"), "breach": text("NOT step_breached")}


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


def _batch(session: Session, kind: str, now: datetime, size: int) -> int:
    when, flag, label = _KINDS[kind]
    ids: Sequence[int] = session.scalars(
        select(WorkOrder.id)
        .where(_NOT_FLAGGED[kind], when <= now, WorkOrder.step.in_(OPEN_STEPS))
        .order_by(when)
        .limit(size)
    ).all()
    if not ids:
        return 0
    flagged = session.scalars(
        update(WorkOrder)
        .where(WorkOrder.id.in_(ids), _NOT_FLAGGED[kind], when <= now)
        .values({flag: True})
        .returning(WorkOrder.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not flagged:
        return 0
    dialect = session.get_bind().dialect.name
    at = literal(now, UTCDateTime())
    message = _message(dialect, label)
    these = WorkOrder.id.in_(flagged)
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
    return len(flagged)


def scan_due(
    factory: sessionmaker[Session], *, now: datetime | None = None, batch_size: int = 1000
) -> ScanResult:
    """Flag every due warning and breach, one committed batch at a time."""
    now = now or utcnow()
    result = ScanResult()
    for kind in ("warning", "breach"):
        while True:
            with transaction(factory) as session:
                n = _batch(session, kind, now, batch_size)
            if kind == "warning":
                result.warnings += n
            else:
                result.breaches += n
            if n < batch_size:
                break
    return result
