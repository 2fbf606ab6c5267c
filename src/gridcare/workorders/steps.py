"""A work order's steps (环节) and their clocks: where a step's deadline and warning time are computed
from the time-limit policy, and where a paused clock is resumed (docs/domain.md §5)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, bindparam, delete, insert, literal, select
from sqlalchemy.orm import Session

from gridcare.calendar import CalendarYearMissing, CountingRule, WorkCalendar
from gridcare.config import Settings
from gridcare.engine import clock
from gridcare.engine.spec import Step
from gridcare.errors import Conflict
from gridcare.inbox import service as inbox
from gridcare.models import StepAlarm, WorkOrder
from gridcare.sla import policy
from gridcare.sla.calendar_store import current_calendar
from gridcare.workorders.defaults import CLOSED_STEPS, STEPS

# 待联系客户 and 处理中 may wait on the customer: a visit they asked to have later, documents they owe.
WAITS_ON_CUSTOMER = ("pending_contact", "in_progress")
STEP_SPECS = tuple(
    Step(code, name, closed=code in CLOSED_STEPS, waits_on_customer=code in WAITS_ON_CUSTOMER)
    for code, name in STEPS.items()
)


def step_name(step: str, business_type: str | None = None) -> str:
    if step == "pending_contact" and business_type == "fault_repair":
        return "待到达现场"
    return STEPS.get(step, step)


def enter_step(session: Session, order: WorkOrder, step: str, *, now: datetime, settings: Settings) -> None:
    """Put the order in `step` and store that step's deadline and warning time."""
    order.step = step
    order.step_entered_at = now
    order.step_deadline = None
    order.step_warn_at = None
    order.step_paused_at = None
    order.step_pause_reason = None
    order.step_left_seconds = None
    order.step_warn_left_seconds = None
    order.calendar_missing_year = None
    if step in CLOSED_STEPS:
        return
    version_id = policy.version_in_force(session, now)
    if version_id is None:
        return
    rule = policy.match(
        policy.rules(session, version_id),
        business_type=order.business_type,
        category=order.category,
        step=step,
        area_class=order.area_class,
        urgency=order.urgency,
    )
    order.policy_version_id = version_id
    if rule is None:
        return
    timing = policy.timing(
        current_calendar(session) if rule.unit == "working_days" else _NO_CALENDAR,
        rule,
        entered_at=now,
        accepted_at=order.accepted_at,
        counting=CountingRule(settings.workday_counting),
    )
    order.step_deadline = timing.deadline
    order.step_warn_at = timing.warn_at
    order.calendar_missing_year = timing.missing_year


# Built once (every step change runs them); Core statements on the table, not the ORM's bulk path.
_ALARMS = cast(Table, StepAlarm.__table__)
_ADD_ALARMS = insert(_ALARMS)
_DROP_ALARM = delete(_ALARMS).where(
    _ALARMS.c.at == bindparam("at"),
    _ALARMS.c.order_id == bindparam("order"),
    _ALARMS.c.kind == bindparam("kind"),
)

Armed = tuple[datetime | None, datetime | None]  # the (warning, breach) times an order was armed with


def armed(order: WorkOrder) -> Armed:
    """The times the order's current alarms were written with (none while its clock is paused)."""
    if order.step_paused_at is not None:
        return (None, None)
    return (order.step_warn_at, order.step_deadline)


def disarm(session: Session, order: WorkOrder, times: Armed) -> None:
    """Remove the order's alarms armed at `times`, by their exact key (those already raised are gone)."""
    rows = [
        {"at": at, "order": order.id, "kind": kind}
        for kind, at in zip(("warning", "breach"), times, strict=True)
        if at is not None
    ]
    if rows:
        session.execute(_DROP_ALARM, rows)


def arm(session: Session, order: WorkOrder, *, previous: Armed = (None, None)) -> None:
    """The alarms of the order's current step (its warning and its breach, where it has them) replace
    those it was armed with before (`previous`, from `armed` before the step changed; a new order has
    none)."""
    disarm(session, order, previous)
    rows = [
        {"order_id": order.id, "kind": kind, "at": at}
        for kind, at in zip(("warning", "breach"), armed(order), strict=True)
        if at is not None
    ]
    if rows:
        session.execute(_ADD_ALARMS, rows)


def arm_open_orders(session: Session | Connection, *, where: ColumnElement[bool], after: datetime) -> None:
    """Alarms for orders loaded in bulk (the demo, an import): open steps whose warning or deadline is
    still to come (what is past was raised in the history they bring)."""
    orders = WorkOrder.__table__
    for kind, column in (("warning", orders.c.step_warn_at), ("breach", orders.c.step_deadline)):
        session.execute(
            insert(StepAlarm).from_select(
                ["order_id", "kind", "at"],
                select(orders.c.id, literal(kind), column).where(
                    where, column.is_not(None), column > after, orders.c.step.not_in(CLOSED_STEPS)
                ),
            )
        )


def _working(session: Session, order: WorkOrder) -> bool:
    """Whether the step's limit counts working time: the rule it was timed by (the policy version the
    order keeps), matched again."""
    if order.policy_version_id is None:
        return False
    rule = policy.match(
        policy.rules(session, order.policy_version_id),
        business_type=order.business_type,
        category=order.category,
        step=order.step,
        area_class=order.area_class,
        urgency=order.urgency,
    )
    return rule is not None and rule.unit == "working_days"


def pause_clock(session: Session, order: WorkOrder, *, now: datetime, reason: str) -> None:
    """The customer owes something: the step's deadline and warning time are set aside with what was
    left of them (working time for a working-day limit), and its alarms removed, so the overdue scan
    passes it by."""
    working = _working(session, order)
    calendar = current_calendar(session) if working else _NO_CALENDAR
    try:
        if order.step_deadline is not None:
            left = clock.remaining(calendar, deadline=order.step_deadline, at=now, working=working)
            order.step_left_seconds = int(left.total_seconds())
        if order.step_warn_at is not None and order.step_warn_at > now:  # a warning still to come
            left = clock.remaining(calendar, deadline=order.step_warn_at, at=now, working=working)
            order.step_warn_left_seconds = int(left.total_seconds())
    except CalendarYearMissing as exc:
        raise _calendar_missing(exc, "挂起") from exc
    disarm(session, order, armed(order))
    order.step_deadline = None
    order.step_warn_at = None
    order.step_paused_at = now
    order.step_pause_reason = reason


def resume_clock(session: Session, order: WorkOrder, *, now: datetime) -> int:
    """The customer has done their part: the clock runs on with what was left. Returns the seconds
    the step stood still."""
    working = _working(session, order)
    calendar = current_calendar(session) if working else _NO_CALENDAR
    try:
        if order.step_left_seconds is not None:
            left = timedelta(seconds=order.step_left_seconds)
            order.step_deadline = clock.resumed(calendar, left=left, at=now, working=working)
        if order.step_warn_left_seconds is not None:
            left = timedelta(seconds=order.step_warn_left_seconds)
            order.step_warn_at = clock.resumed(calendar, left=left, at=now, working=working)
    except CalendarYearMissing as exc:
        raise _calendar_missing(exc, "恢复计时") from exc
    waited = clock.paused_for(order.step_paused_at or now, now)
    order.step_paused_at = None
    order.step_pause_reason = None
    order.step_left_seconds = None
    order.step_warn_left_seconds = None
    arm(session, order)
    return waited


def notify(session: Session, *, user_id: int | None, order: WorkOrder, kind: str, message: str) -> None:
    inbox.notify(session, user_id=user_id, order_id=order.id, kind=kind, message=message)


def _calendar_missing(exc: CalendarYearMissing, action: str) -> Conflict:
    return Conflict(
        f"{exc.year} 年工作日历未载入，无法按工作日计算剩余时限，暂不能{action}：请管理员先载入 {exc.year} 年日历"
    )


# Natural-time rules never consult the calendar: don't load it for them.
_NO_CALENDAR = WorkCalendar(years={})
