"""A work order's steps (环节) and their clocks: where a step's deadline and warning time are computed
from the time-limit policy, and where a paused clock is resumed (docs/domain.md §5)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from gridcare.calendar import CountingRule, WorkCalendar
from gridcare.config import Settings
from gridcare.engine import clock
from gridcare.engine.spec import Step
from gridcare.inbox import service as inbox
from gridcare.models import WorkOrder
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
    order.step_breached = False
    order.step_warned = False
    order.step_deadline = None
    order.step_warn_at = None
    order.step_working = False
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
    order.step_working = rule.unit == "working_days"
    order.calendar_missing_year = timing.missing_year


def pause_clock(session: Session, order: WorkOrder, *, now: datetime, reason: str) -> None:
    """The customer owes something: the step's deadline and warning time are set aside with what was
    left of them (working time for a working-day limit), so the overdue scan passes it by."""
    calendar = current_calendar(session) if order.step_working else _NO_CALENDAR
    working = order.step_working
    if order.step_deadline is not None:
        left = clock.remaining(calendar, deadline=order.step_deadline, at=now, working=working)
        order.step_left_seconds = int(left.total_seconds())
    if order.step_warn_at is not None and not order.step_warned:
        left = clock.remaining(calendar, deadline=order.step_warn_at, at=now, working=working)
        order.step_warn_left_seconds = int(left.total_seconds())
    order.step_deadline = None
    order.step_warn_at = None
    order.step_paused_at = now
    order.step_pause_reason = reason


def resume_clock(session: Session, order: WorkOrder, *, now: datetime) -> int:
    """The customer has done their part: the clock runs on with what was left. Returns the seconds
    the step stood still."""
    calendar = current_calendar(session) if order.step_working else _NO_CALENDAR
    working = order.step_working
    if order.step_left_seconds is not None:
        left = timedelta(seconds=order.step_left_seconds)
        order.step_deadline = clock.resumed(calendar, left=left, at=now, working=working)
    if order.step_warn_left_seconds is not None:
        left = timedelta(seconds=order.step_warn_left_seconds)
        order.step_warn_at = clock.resumed(calendar, left=left, at=now, working=working)
    waited = clock.paused_for(order.step_paused_at or now, now)
    order.step_paused_at = None
    order.step_pause_reason = None
    order.step_left_seconds = None
    order.step_warn_left_seconds = None
    return waited


def notify(session: Session, *, user_id: int | None, order: WorkOrder, kind: str, message: str) -> None:
    inbox.notify(session, user_id=user_id, order_id=order.id, kind=kind, message=message)


# Natural-time rules never consult the calendar: don't load it for them.
_NO_CALENDAR = WorkCalendar(years={})
