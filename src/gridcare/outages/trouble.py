"""Trouble-call analysis (故障研判, docs/domain.md §7).

"No power" repair calls (the fault kinds in `trouble_categories`) not yet tied to an outage, within
`trouble_window_minutes`, point upstream: `trouble_area_calls` customers of one 台区 predict an outage
of that 台区; calls from `trouble_switch_areas` 台区 behind one branch switch predict one at the switch;
from `trouble_feeder_areas` 台区 on one feeder, at the feeder. The highest element reached wins. The
prediction is saved as a fault outage in state 研判中 (predicted): the customers under it are
affected, the calls so far and later ones attach to it, and nothing is published until a dispatcher
confirms it (then every affected customer is told) or dismisses it (the calls go back to dispatch).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gridcare.auth.principal import SYSTEM, Principal
from gridcare.config import Settings
from gridcare.engine import machine
from gridcare.errors import InvalidInput
from gridcare.models import Outage, OutageCustomer, TransformerArea, WorkOrder
from gridcare.outages import attach, hooks, notices, service
from gridcare.outages.process import OUTAGES
from gridcare.outages.schemas import OutageCreate, OutageScope

# What a prediction says as its cause until a dispatcher confirms it with the real one.
UNCONFIRMED_CAUSE = "原因待查明"


def _categories(settings: Settings) -> list[str]:
    return [c.strip() for c in settings.trouble_categories.split(",") if c.strip()]


def _not_by_index(session: Session, column: InstrumentedAttribute[str]) -> ColumnElement[str]:
    """The column as an expression SQLite will not look up by index: in a storm the (type, created_at)
    index holds thousands of calls of the window, the (台区, created_at) one a few — SQLite's planner,
    without fresh statistics, takes the first."""
    if session.get_bind().dialect.name == "sqlite":
        return column.op("||")("")
    return column.expression


def analyse(session: Session, order: WorkOrder, *, settings: Settings, now: datetime) -> Outage | None:
    """After a repair call that attached to nothing: is an outage upstream? Save and attach if so."""
    if (
        order.business_type != "fault_repair"
        or order.category not in _categories(settings)
        or order.outage_id is not None
        or order.transformer_area_id is None
    ):
        return None
    area = session.get(TransformerArea, order.transformer_area_id)
    assert area is not None
    since = now - timedelta(minutes=settings.trouble_window_minutes)
    # The 台区 on the same feeder (or this one alone) and their switches: the calls of the window are read
    # per 台区, by the (台区, created_at) index — one short read however many calls the province takes.
    if area.feeder_id is not None:
        peers: dict[int, int | None] = {
            int(i): s
            for i, s in session.execute(
                select(TransformerArea.id, TransformerArea.branch_switch_id).where(
                    TransformerArea.feeder_id == area.feeder_id
                )
            )
        }
    else:
        peers = {area.id: area.branch_switch_id}
    rows = [
        (a, int(n), first)
        for a, n, first in session.execute(
            select(
                WorkOrder.transformer_area_id,
                func.count(func.distinct(WorkOrder.customer_id)),
                func.min(WorkOrder.created_at),
            )
            .where(
                WorkOrder.transformer_area_id.in_(list(peers)),
                # created_at is accepted_at at intake, and it is indexed with the 台区.
                WorkOrder.created_at >= since,
                _not_by_index(session, WorkOrder.business_type) == "fault_repair",
                WorkOrder.category.in_(_categories(settings)),
                WorkOrder.outage_id.is_(None),
                WorkOrder.step == "pending_dispatch",
            )
            .group_by(WorkOrder.transformer_area_id)
        )
        if a is not None
    ]
    scope: OutageScope | None = None
    reason = ""
    found: list[tuple[int, int, Any]] = []
    if area.feeder_id is not None and len(rows) >= settings.trouble_feeder_areas:
        found = rows
        scope, reason = OutageScope(feeders=[area.feeder_id]), f"同一线路{len(found)}个台区报修无电"
    if scope is None and area.branch_switch_id is not None:
        found = [r for r in rows if peers.get(r[0]) == area.branch_switch_id]
        if len(found) >= settings.trouble_switch_areas:
            scope = OutageScope(branch_switches=[area.branch_switch_id])
            reason = f"同一开关下{len(found)}个台区报修无电"
    if scope is None:
        found = [r for r in rows if r[0] == area.id]
        if found and found[0][1] >= settings.trouble_area_calls:
            scope, reason = OutageScope(transformer_areas=[area.id]), f"同一台区{found[0][1]}户报修无电"
    if scope is None:
        return None
    first_call = min(r[2] for r in found)
    outage = service.create(
        session,
        principal=SYSTEM,
        settings=settings,
        data=OutageCreate(
            kind="fault",
            title="故障研判：疑似停电",
            cause=UNCONFIRMED_CAUSE,
            scope=scope,
            planned_start=first_call,
            planned_end=now + timedelta(hours=4),
        ),
        now=now,
        predicted=True,
        analysis=f"故障研判：{reason}",
    )
    waiting = session.scalars(
        select(WorkOrder).where(
            WorkOrder.business_type == "fault_repair",
            # created_at is accepted_at at intake, and it is indexed with the type: the calls of the
            # window are a short index range, not every repair call ever taken.
            WorkOrder.created_at >= since,
            WorkOrder.outage_id.is_(None),
            WorkOrder.step == "pending_dispatch",
            WorkOrder.transformer_area_id.in_(
                select(OutageCustomer.transformer_area_id).where(OutageCustomer.outage_id == outage.id)
            ),
        )
    )
    for call in waiting:
        attach.attach_repair(session, call, settings=settings, now=now)
    return outage


def confirm(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    outage_id: int,
    version: int,
    cause: str,
    expected_restore_at: datetime,
    now: datetime,
) -> Outage:
    """A dispatcher confirms a predicted outage with the cause and the expected restoration customers
    will read (the internal analysis is never published): it goes to every affected customer."""
    outage = service.load_for(session, principal, outage_id, version, "confirm")
    cause = cause.strip()
    if len(cause) < 2:
        raise InvalidInput("请填写告知客户的停电原因", details=[{"field": "cause", "reason": "必填"}])
    if expected_restore_at.tzinfo is None or expected_restore_at <= now:
        raise InvalidInput(
            "预计复电时间须晚于现在（并带时区）",
            details=[{"field": "expected_restore_at", "reason": "须晚于现在"}],
        )
    ctx = service.context(session, principal, settings, now)
    machine.move(ctx, OUTAGES, outage, "confirm", note=cause)
    outage.announced_at = now
    outage.cause = cause
    outage.expected_restore_at = expected_restore_at
    outage.planned_end = max(expected_restore_at, outage.planned_start)
    outage.title = outage.title.replace("故障研判：疑似停电", "故障停电")
    service.save(session, outage)
    notices.queue(session, outage, "fault", settings, now=now)
    hooks.outage_announced.publish(session, hooks.OutageEvent(outage, ctx))
    session.flush()
    return outage
