"""Background job "workorders.scan_due": warnings at 80 % of a step's limit, breaches at 100 %.

Idempotent and batched: due rows are selected by index (partial indexes on the not-yet-flagged rows),
flagged with a guarded UPDATE (so a step entered meanwhile is never flagged for the old deadline),
and each flag writes one event and one notification to the step's owner, in the same transaction.
Running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from gridcare.db import transaction
from gridcare.models import Notification, WorkOrder, WorkOrderEvent
from gridcare.models.types import utcnow
from gridcare.workorders.defaults import OPEN_STEPS
from gridcare.workorders.steps import step_name


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


def _batch(session: Session, kind: str, now: datetime, size: int) -> int:
    when, flag, label = _KINDS[kind]
    rows = session.execute(
        select(
            WorkOrder.id,
            WorkOrder.number,
            WorkOrder.step,
            WorkOrder.business_type,
            WorkOrder.handler_user_id,
            WorkOrder.station_id,
            WorkOrder.step_entered_at,
            WorkOrder.step_deadline,
        )
        .where(_NOT_FLAGGED[kind], when <= now, WorkOrder.step.in_(OPEN_STEPS))
        .order_by(when)
        .limit(size)
    ).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    flagged = (
        session.execute(
            update(WorkOrder)
            .where(WorkOrder.id.in_(ids), _NOT_FLAGGED[kind], when <= now)
            .values({flag: True})
            .returning(WorkOrder.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    done = set(flagged)
    events: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    for r in rows:
        if r.id not in done:
            continue
        step = step_name(r.step, r.business_type)
        message = f"工单 {r.number}「{step}」{label}（时限 {r.step_deadline:%Y-%m-%d %H:%M} UTC）"
        events.append(
            {
                "order_id": r.id,
                "at": now,
                "action": kind,
                "from_step": r.step,
                "note": message,
                "step_entered_at": r.step_entered_at,
                "step_deadline": r.step_deadline,
                "step_unit_id": r.station_id,
                "data": {"owner_user_id": r.handler_user_id},
            }
        )
        if r.handler_user_id:
            notices.append(
                {
                    "user_id": r.handler_user_id,
                    "order_id": r.id,
                    "kind": kind,
                    "message": message,
                    "created_at": now,
                }
            )
    # Core inserts on the tables: thousands of plain rows, no ORM bookkeeping needed.
    if events:
        session.execute(insert(cast(Table, WorkOrderEvent.__table__)), events)
    if notices:
        session.execute(insert(cast(Table, Notification.__table__)), notices)
    return len(done)


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
