"""Entering and leaving steps: where deadlines are computed and stored, and events are written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.calendar import CountingRule, WorkCalendar
from gridcare.config import Settings
from gridcare.models import Notification, WorkflowTransition, WorkOrder, WorkOrderEvent
from gridcare.sla import policy
from gridcare.sla.calendar_store import current_calendar
from gridcare.workorders.defaults import CLOSED_STEPS, STEPS

ACTION_NAMES = {
    "create": "受理",
    "dispatch": "派单",
    "accept": "接单",
    "return": "退单",
    "contact": "联系客户",
    "reply": "回单",
    "review": "审核",
    "review_pass": "审核通过",
    "review_back": "审核退回",
    "callback": "回访",
    "callback_attempt": "回访未联系上",
    "archive": "归档",
    "resolve": "当场解答办结",
    "merge": "合并",
    "merged_in": "并入副工单",
    "follow_main": "随主工单回单",
    "attach_outage": "并入停电事件",
    "outage_restored": "停电事件已复电",
    "outage_dismissed": "停电研判已撤销",
    "urge": "催办",
    "urged": "被催办",
    "warning": "即将超时预警",
    "breach": "超时",
    "calendar_missing": "缺少工作日历",
}


def step_name(step: str, business_type: str | None = None) -> str:
    if step == "pending_contact" and business_type == "fault_repair":
        return "待到达现场"
    return STEPS.get(step, step)


def allowed_target(session: Session, *, business_type: str, action: str, from_step: str) -> str | None:
    """The step an action leads to from `from_step` for this type (its own rule first, then '*')."""
    rows = session.execute(
        select(WorkflowTransition.business_type, WorkflowTransition.to_step).where(
            WorkflowTransition.action == action,
            WorkflowTransition.from_step == from_step,
            WorkflowTransition.business_type.in_([business_type, "*"]),
        )
    ).all()
    own = [to for bt, to in rows if bt == business_type]
    general = [to for bt, to in rows if bt == "*"]
    targets = own or general
    return targets[0] if targets else None


def enter_step(session: Session, order: WorkOrder, step: str, *, now: datetime, settings: Settings) -> None:
    """Put the order in `step` and store that step's deadline and warning time."""
    order.step = step
    order.step_entered_at = now
    order.step_breached = False
    order.step_warned = False
    order.step_deadline = None
    order.step_warn_at = None
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


def step_event(
    order: WorkOrder,
    action: str,
    *,
    actor: Principal | None,
    now: datetime,
    to_step: str | None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> WorkOrderEvent:
    """An event. When it leaves a step (`to_step` set), it records that step's timing."""
    leaving = to_step is not None
    deadline = order.step_deadline if leaving else None
    return WorkOrderEvent(
        order_id=order.id,
        at=now,
        actor_id=actor.user_id if actor and actor.user_id else None,
        action=action,
        from_step=order.step,
        to_step=to_step,
        note=note,
        data=data,
        step_entered_at=order.step_entered_at if leaving else None,
        step_deadline=deadline,
        step_late=(now > deadline) if deadline is not None else None,
        step_unit_id=order.station_id,
    )


def notify(session: Session, *, user_id: int | None, order: WorkOrder, kind: str, message: str) -> None:
    if user_id:
        session.add(Notification(user_id=user_id, order_id=order.id, kind=kind, message=message))


# Natural-time rules never consult the calendar: don't load it for them.
_NO_CALENDAR = WorkCalendar(years={})
