"""Work-order queries: the filtered, sorted, paged list; the timeline; notifications."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING, beijing_midnight
from gridcare.models import Unit, User, WorkOrder, WorkOrderEvent
from gridcare.workorders.defaults import OPEN_STEPS

SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "-created_at": (WorkOrder.created_at.desc(), WorkOrder.id.desc()),
    "created_at": (WorkOrder.created_at.asc(), WorkOrder.id.asc()),
    "step_deadline": (WorkOrder.step_deadline.asc(), WorkOrder.id.asc()),
    "-priority": (WorkOrder.priority.desc(), WorkOrder.created_at.desc()),
}


def accepted_between(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """Beijing calendar days, both included, as the [from, to) instants of OrderFilter.created_*."""
    return (
        beijing_midnight(first) if first else None,
        beijing_midnight(last + timedelta(days=1)) if last else None,
    )


@dataclass
class OrderFilter:
    business_type: str | None = None
    category: str | None = None
    unit_id: int | None = None
    step: str | None = None
    overdue: bool | None = None
    due_soon: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    customer_id: int | None = None
    handler_user_id: int | None = None
    q: str | None = None
    calendar_missing: bool | None = None
    is_repeat: bool | None = None


def _conditions(
    session: Session, principal: Principal, f: OrderFilter, now: datetime
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [principal.in_scope(WorkOrder.station_id)]
    if f.business_type:
        conditions.append(WorkOrder.business_type == f.business_type)
    if f.category:
        conditions.append(WorkOrder.category.startswith(f.category, autoescape=True))
    if f.unit_id is not None:
        path = session.scalar(select(Unit.path).where(Unit.id == f.unit_id))
        conditions.append(
            WorkOrder.station_id.in_(
                select(Unit.id).where(Unit.path.startswith(path or "-", autoescape=True))
            )
        )
    if f.step:
        conditions.append(WorkOrder.step == f.step)
    open_step = WorkOrder.step.in_(OPEN_STEPS) if not f.step else WorkOrder.step == f.step
    if f.overdue is True:
        conditions.append(and_(open_step, WorkOrder.step_deadline < now))
    elif f.overdue is False:
        conditions.append(or_(WorkOrder.step_deadline.is_(None), WorkOrder.step_deadline >= now))
    if f.due_soon:
        conditions.append(and_(open_step, WorkOrder.step_warn_at <= now, WorkOrder.step_deadline >= now))
    if f.created_from:
        conditions.append(WorkOrder.created_at >= f.created_from)
    if f.created_to:
        conditions.append(WorkOrder.created_at < f.created_to)
    if f.customer_id is not None:
        conditions.append(WorkOrder.customer_id == f.customer_id)
    if f.handler_user_id is not None:
        conditions.append(WorkOrder.handler_user_id == f.handler_user_id)
    if f.calendar_missing:
        conditions.append(WorkOrder.calendar_missing_year.is_not(None))
    if f.is_repeat is not None:
        conditions.append(WorkOrder.is_repeat == f.is_repeat)
    if f.q:
        term = f.q.strip()
        if term.isdigit():  # an order number: an index lookup, never a scan of every text
            conditions.append(WorkOrder.number == term)
        else:  # a text fragment: scanned newest first until a page is found
            conditions.append(WorkOrder.content.contains(term, autoescape=True))
    return conditions


def list_orders(
    session: Session,
    *,
    principal: Principal,
    filters: OrderFilter,
    sort: str,
    now: datetime,
    offset: int,
    limit: int,
) -> Sequence[WorkOrder]:
    stmt = (
        select(WorkOrder)
        .where(*_conditions(session, principal, filters, now))
        .order_by(*SORTS[sort])
        .offset(offset)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def step_counts(session: Session, *, principal: Principal, now: datetime) -> dict[str, tuple[int, int]]:
    """Open orders in scope per step: (count, of which past the step's deadline)."""
    # Grouped by station too when scoped, so that (station_id, step, step_deadline) answers it alone.
    group = (WorkOrder.step,) if principal.covers_all else (WorkOrder.station_id, WorkOrder.step)
    rows = session.execute(
        select(
            WorkOrder.step,
            func.count(),
            func.sum(case((WorkOrder.step_deadline < now, 1), else_=0)),
        )
        .where(WorkOrder.step.in_(OPEN_STEPS), principal.in_scope(WorkOrder.station_id))
        .group_by(*group)
    ).all()
    counts: dict[str, tuple[int, int]] = {}
    for step, n, late in rows:
        total, overdue = counts.get(step, (0, 0))
        counts[step] = (total + int(n), overdue + int(late or 0))
    return counts


def queue(
    session: Session,
    *,
    principal: Principal,
    steps: Sequence[str],
    now: datetime,
    handler_user_id: int | None = None,
    attention_only: bool = False,
    limit: int = 50,
) -> list[WorkOrder]:
    """Open orders in scope at these steps, earliest deadline first (those without one last).
    `handler_user_id`: that user's own and those nobody holds yet; `attention_only`: only overdue or
    past the warning time. One query per step, each read in (step, step_deadline) index order."""
    base = [principal.in_scope(WorkOrder.station_id)]
    if handler_user_id is not None:
        base.append(or_(WorkOrder.handler_user_id == handler_user_id, WorkOrder.handler_user_id.is_(None)))
    if attention_only:
        base.append(WorkOrder.step_warn_at <= now)
    keys: list[tuple[datetime, int]] = []  # (deadline, id): read from the index, rows fetched at the end
    for step in steps:
        rows = session.execute(
            select(WorkOrder.step_deadline, WorkOrder.id)
            .where(WorkOrder.step == step, WorkOrder.step_deadline.is_not(None), *base)
            .order_by(WorkOrder.step_deadline, WorkOrder.id)
            .limit(limit)
        )
        keys.extend((deadline, order_id) for deadline, order_id in rows if deadline is not None)
    ids = [order_id for _, order_id in sorted(keys)[:limit]]
    if len(ids) < limit and not attention_only:
        ids.extend(
            session.scalars(
                select(WorkOrder.id)
                .where(WorkOrder.step.in_(steps), WorkOrder.step_deadline.is_(None), *base)
                .order_by(WorkOrder.id)
                .limit(limit - len(ids))
            )
        )
    by_id = {o.id: o for o in session.scalars(select(WorkOrder).where(WorkOrder.id.in_(ids)))} if ids else {}
    return [by_id[i] for i in ids]


EXPORT_COLUMNS = (
    WorkOrder.id,
    WorkOrder.number,
    WorkOrder.business_type,
    WorkOrder.category,
    WorkOrder.urgency,
    WorkOrder.channel,
    WorkOrder.county_id,
    WorkOrder.station_id,
    WorkOrder.area_class,
    WorkOrder.contact_name,
    WorkOrder.contact_phone,
    WorkOrder.address,
    WorkOrder.content,
    WorkOrder.accepted_at,
    WorkOrder.step,
    WorkOrder.step_deadline,
    WorkOrder.is_repeat,
    WorkOrder.priority,
    WorkOrder.reply,
    WorkOrder.satisfaction,
    WorkOrder.archived_at,
)


def export_rows(
    session: Session,
    *,
    principal: Principal,
    filters: OrderFilter,
    sort: str,
    now: datetime,
    limit: int,
) -> Iterator[Any]:
    """The filtered list as plain rows, streamed (for the Excel export)."""
    stmt = (
        select(*EXPORT_COLUMNS)
        .where(*_conditions(session, principal, filters, now))
        .order_by(*SORTS[sort])
        .limit(limit)
        .execution_options(yield_per=2000)
    )
    yield from session.execute(stmt)


# Events whose words belong in an order's record: replies, review notes, callbacks, returns.
HISTORY_ACTIONS = {
    "reply": "回单",
    "follow_main": "随主工单回单",
    "outage_restored": "停电复电回复",
    "resolve": "当场解答",
    "review_pass": "审核通过",
    "review_back": "审核退回",
    "return": "退单",
    "callback": "回访",
    "callback_attempt": "回访未联系上",
}


def history_texts(session: Session, order_ids: Sequence[int]) -> dict[int, str]:
    """Per order, every reply, review note, return and callback in order, one line each (exports)."""
    lines: dict[int, list[str]] = {}
    if not order_ids:
        return {}
    rows = session.execute(
        select(
            WorkOrderEvent.order_id,
            WorkOrderEvent.at,
            WorkOrderEvent.action,
            WorkOrderEvent.note,
            WorkOrderEvent.data,
        )
        .where(WorkOrderEvent.order_id.in_(order_ids), WorkOrderEvent.action.in_(HISTORY_ACTIONS))
        .order_by(WorkOrderEvent.order_id, WorkOrderEvent.id)
    )
    for order_id, at, action, note, data in rows:
        data = data or {}
        words = [
            str(w) for w in (data.get("reply"), data.get("reason_name"), data.get("correction"), note) if w
        ]
        if not words and action not in ("review_pass", "callback"):
            continue
        when = at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
        lines.setdefault(order_id, []).append(f"{when} {HISTORY_ACTIONS[action]}：{'；'.join(words) or '—'}")
    return {k: "\n".join(v) for k, v in lines.items()}


def related(session: Session, *, principal: Principal, order: WorkOrder) -> Sequence[WorkOrder]:
    """Orders linked to this one: its 副工单 and urging orders, and the orders it repeats, follows or
    chases. One index lookup each (an OR across them would scan the table)."""
    ids = set(session.scalars(select(WorkOrder.id).where(WorkOrder.main_order_id == order.id)))
    ids |= set(session.scalars(select(WorkOrder.id).where(WorkOrder.urged_order_id == order.id)))
    ids |= {i for i in (order.repeat_of_id, order.main_order_id, order.urged_order_id) if i}
    if not ids:
        return []
    return session.scalars(
        select(WorkOrder)
        .where(WorkOrder.id.in_(ids), principal.in_scope(WorkOrder.station_id))
        .order_by(WorkOrder.id)
    ).all()


def user_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
    return dict(rows.all())


def timeline(session: Session, order_id: int) -> Sequence[WorkOrderEvent]:
    return session.scalars(
        select(WorkOrderEvent).where(WorkOrderEvent.order_id == order_id).order_by(WorkOrderEvent.id)
    ).all()


def recent_of_customer(
    session: Session, customer_id: int, *, since: datetime, limit: int
) -> Sequence[WorkOrder]:
    """A customer's orders since a time, newest first (the intake page's history)."""
    return session.scalars(
        select(WorkOrder)
        .where(WorkOrder.customer_id == customer_id, WorkOrder.created_at >= since)
        .order_by(WorkOrder.created_at.desc())
        .limit(limit)
    ).all()


def by_id(session: Session, order_id: int) -> WorkOrder | None:
    return session.get(WorkOrder, order_id)
