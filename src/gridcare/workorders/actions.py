"""Step transitions (派单, 接单/退单, 联系客户, 回单, 审核, 回访, 归档), urging and merging.

Every action: the order must be in the actor's scope, the actor must hold a role for it, the caller's
`version` must be current (optimistic concurrency), and the workflow table must allow it from the
current step. The step left is recorded with its timing; the new step gets its deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.errors import Conflict, InvalidInput
from gridcare.models import Unit, User, WorkflowTransition, WorkOrder
from gridcare.models.enums import Role
from gridcare.models.types import utcnow
from gridcare.workorders import service
from gridcare.workorders.schemas import (
    CallbackBody,
    DispatchBody,
    MergeBody,
    ReplyBody,
    ReturnBody,
    ReviewBody,
    UrgeBody,
    Versioned,
    WorkOrderCreate,
)
from gridcare.workorders.steps import ACTION_NAMES, allowed_target, enter_step, notify, step_event, step_name

ACTION_ROLES: dict[str, tuple[Role, ...]] = {
    "dispatch": (Role.agent, Role.dispatcher),
    "accept": (Role.station_staff, Role.dispatcher),
    "return": (Role.station_staff, Role.dispatcher),
    "contact": (Role.station_staff, Role.dispatcher),
    "reply": (Role.station_staff, Role.dispatcher),
    "review": (Role.dispatcher,),  # pass or send back
    "callback": (Role.agent,),
    "archive": (Role.agent, Role.dispatcher),
    "resolve": (Role.agent,),
    "merge": (Role.agent, Role.dispatcher),
    "urge": (Role.agent, Role.dispatcher),
}
NO_CALLBACK_TYPES = ("praise",)


# The workflow-table actions behind each user action (审核 is a pass or a send-back).
_TABLE_ACTIONS = {"review": ("review_pass", "review_back")}


def available_actions(session: Session, principal: Principal, order: WorkOrder) -> list[str]:
    """The actions this user may take on the order now: their role allows them and the workflow has a
    transition from the current step (催办 while the order is open)."""
    defined = set(
        session.scalars(
            select(WorkflowTransition.action).where(
                WorkflowTransition.from_step == order.step,
                WorkflowTransition.business_type.in_([order.business_type, "*"]),
            )
        )
    )
    found = []
    for action, roles in ACTION_ROLES.items():
        if not principal.has_any(*roles):
            continue
        if action == "urge":
            if order.step not in ("archived", "merged") and order.business_type != "urging":
                found.append(action)
        elif any(a in defined for a in _TABLE_ACTIONS.get(action, (action,))):
            found.append(action)
    return found


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


def _load(session: Session, principal: Principal, order_id: int, action: str, body: Versioned) -> WorkOrder:
    order = service.get_scoped(session, principal=principal, order_id=order_id)
    principal.require(*ACTION_ROLES[action], action=f"“{ACTION_NAMES[action]}”")
    if order.version != body.version:
        raise Conflict(
            f"工单 {order.number} 已被他人处理（当前版本 {order.version}，您看到的是 {body.version}），请刷新后重试"
        )
    return order


def _target(session: Session, order: WorkOrder, action: str) -> str:
    to_step = allowed_target(session, business_type=order.business_type, action=action, from_step=order.step)
    if to_step is None:
        raise TransitionNotAllowed(
            f"工单 {order.number} 当前环节为“{step_name(order.step, order.business_type)}”，"
            f"不能执行“{ACTION_NAMES[action]}”"
        )
    return to_step


def _move(
    session: Session,
    order: WorkOrder,
    action: str,
    to_step: str,
    *,
    principal: Principal,
    settings: Settings,
    now: datetime,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(step_event(order, action, actor=principal, now=now, to_step=to_step, note=note, data=data))
    enter_step(session, order, to_step, now=now, settings=settings)


def _flush(session: Session, order: WorkOrder, number: str) -> WorkOrder:
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"工单 {number} 已被他人处理，请刷新后重试") from exc
    return order


def perform(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    order_id: int,
    action: str,
    body: Versioned,
    now: datetime | None = None,
) -> WorkOrder:
    now = now or utcnow()
    order = _load(session, principal, order_id, action, body)
    number = order.number
    handler = _HANDLERS[action]
    handler(session, order, body, principal=principal, settings=settings, now=now)
    return _flush(session, order, number)


def _dispatch(session: Session, order: WorkOrder, body: Any, **kw: Any) -> None:
    if not isinstance(body, DispatchBody):  # a plain dispatch: to the station the grid routed to
        body = DispatchBody(**body.model_dump())
    to_step = _target(session, order, "dispatch")
    data: dict[str, Any] = {}
    principal: Principal = kw["principal"]
    if body.station_id is not None and body.station_id != order.station_id:
        station = session.get(Unit, body.station_id)
        if station is None or station.kind != "station" or not principal.covers_path(station.path):
            raise InvalidInput(
                f"供电所 {body.station_id} 不存在或不在您的权限范围内", details=[{"field": "station_id"}]
            )
        data["from_station_id"] = order.station_id
        order.station_id = station.id
        order.county_id = station.parent_id or station.id
        order.handler_user_id = None
    if body.handler_user_id is not None:
        user = session.get(User, body.handler_user_id)
        if user is None or user.unit_id != order.station_id:
            raise InvalidInput("处理人须为该供电所员工", details=[{"field": "handler_user_id"}])
        order.handler_user_id = user.id
    data["station_id"] = order.station_id
    _move(session, order, "dispatch", to_step, note=body.note, data=data, **kw)
    notify(
        session,
        user_id=order.handler_user_id,
        order=order,
        kind="dispatched",
        message=f"新工单 {order.number} 已派至本所，请及时接单",
    )


def _simple(action: str) -> Any:
    def handle(session: Session, order: WorkOrder, body: Any, **kw: Any) -> None:
        _move(session, order, action, _target(session, order, action), note=body.note, **kw)

    return handle


def _return(session: Session, order: WorkOrder, body: Any, **kw: Any) -> None:
    assert isinstance(body, ReturnBody)
    to_step = _target(session, order, "return")
    reason = service.catalog_item(session, "return_reason", body.reason)
    if reason is None:
        raise InvalidInput(
            f"退单原因“{body.reason}”不在允许范围内（非本单位、类型错误、缺少联系方式、停电未核实）；"
            "客户不满意不能作为退单原因",
            details=[{"field": "reason"}],
        )
    _move(
        session,
        order,
        "return",
        to_step,
        note=body.note,
        data={"reason": reason.code, "reason_name": reason.name, "correction": body.correction},
        **kw,
    )


def _reply(session: Session, order: WorkOrder, body: Any, **kw: Any) -> None:
    assert isinstance(body, ReplyBody)
    to_step = _target(session, order, "reply")
    order.reply = body.reply
    # The reply is kept in its event: a reply sent back by review and written again keeps both.
    _move(session, order, "reply", to_step, note=body.note, data={"reply": body.reply}, **kw)
    # 副工单 merged into this one are answered by the same reply and go on to their own review.
    for sub in session.scalars(
        select(WorkOrder).where(WorkOrder.main_order_id == order.id, WorkOrder.step == "merged")
    ):
        sub.reply = body.reply
        _move(
            session,
            sub,
            "follow_main",
            _target(session, sub, "follow_main"),
            data={"main_order": order.number, "reply": body.reply},
            **kw,
        )


def _review(session: Session, order: WorkOrder, body: Any, **kw: Any) -> None:
    assert isinstance(body, ReviewBody)
    if body.passed:
        to_step = _target(session, order, "review_pass")
        skip = None
        if order.business_type in NO_CALLBACK_TYPES:
            skip = "表扬工单不回访"
        elif order.anonymous:
            skip = "匿名来电不回访"
        elif order.callback_declined:
            skip = "客户表示不需回访"
        if skip and to_step == "pending_callback":
            to_step = "pending_archive"
        _move(
            session,
            order,
            "review_pass",
            to_step,
            note=body.note,
            data={"callback_skipped": skip} if skip else None,
            **kw,
        )
    else:
        if not body.note:
            raise InvalidInput("审核退回须写明原因", details=[{"field": "note"}])
        _move(session, order, "review_back", _target(session, order, "review_back"), note=body.note, **kw)


def _callback(session: Session, order: WorkOrder, body: Any, **kw: Any) -> None:
    assert isinstance(body, CallbackBody)
    settings: Settings = kw["settings"]
    now: datetime = kw["now"]
    to_step = _target(session, order, "callback")
    if body.reached:
        level = service.catalog_item(session, "satisfaction", body.satisfaction)
        if level is None:
            raise InvalidInput(f"满意度“{body.satisfaction}”不存在", details=[{"field": "satisfaction"}])
        order.satisfaction = level.code
        order.last_callback_at = now
        _move(
            session,
            order,
            "callback",
            to_step,
            note=body.note,
            data={"satisfaction": level.code, "attempt": order.callback_attempts + 1},
            **kw,
        )
        return
    if order.last_callback_at is not None and order.callback_attempts > 0:
        wait = timedelta(hours=settings.callback_retry_hours)
        if now - order.last_callback_at < wait:
            next_at = order.last_callback_at + wait
            raise InvalidInput(
                f"距上次回访不足 {settings.callback_retry_hours:g} 小时，请于 {next_at.astimezone(BEIJING):%m-%d %H:%M} 后再试",
                details=[{"field": "reached"}],
            )
    order.callback_attempts += 1
    order.last_callback_at = now
    tries_left = 1 + settings.callback_extra_tries - order.callback_attempts
    if tries_left > 0:
        session.add(
            step_event(
                order,
                "callback_attempt",
                actor=kw["principal"],
                now=now,
                to_step=None,
                note=body.note,
                data={"attempt": order.callback_attempts, "tries_left": tries_left},
            )
        )
        return
    _move(
        session,
        order,
        "callback",
        to_step,
        note=body.note,
        data={"unreachable": True, "attempt": order.callback_attempts},
        **kw,
    )


def _archive(session: Session, order: WorkOrder, body: Any, **kw: Any) -> None:
    to_step = _target(session, order, "archive")
    order.archived_at = kw["now"]
    _move(session, order, "archive", to_step, note=body.note, **kw)


def _resolve(session: Session, order: WorkOrder, body: Any, **kw: Any) -> None:
    to_step = _target(session, order, "resolve")
    if not body.note:
        raise InvalidInput("当场解答办结须填写答复内容", details=[{"field": "note"}])
    order.reply = body.note
    _move(session, order, "resolve", to_step, note=body.note, **kw)


def _merge(session: Session, order: WorkOrder, body: Any, **kw: Any) -> None:
    assert isinstance(body, MergeBody)
    principal: Principal = kw["principal"]
    to_step = _target(session, order, "merge")
    if body.main_order_id == order.id:
        raise InvalidInput("不能与自身合并", details=[{"field": "main_order_id"}])
    main = service.get_scoped(session, principal=principal, order_id=body.main_order_id)
    if main.business_type != "fault_repair" or main.step in ("merged", "archived") or main.main_order_id:
        raise InvalidInput(
            f"工单 {main.number} 不能作为主工单（须为未办结的故障报修主工单）",
            details=[{"field": "main_order_id"}],
        )
    if main.station_id != order.station_id:
        raise InvalidInput("主工单与副工单须属同一供电所", details=[{"field": "main_order_id"}])
    if main.accepted_at > order.accepted_at:
        raise InvalidInput(
            f"主工单应为最先受理的工单：{main.number} 晚于 {order.number}",
            details=[{"field": "main_order_id"}],
        )
    order.main_order_id = main.id
    _move(session, order, "merge", to_step, note=body.note, data={"main_order": main.number}, **kw)
    session.add(
        step_event(
            main, "merged_in", actor=principal, now=kw["now"], to_step=None, data={"sub_order": order.number}
        )
    )


_HANDLERS: dict[str, Any] = {
    "dispatch": _dispatch,
    "accept": _simple("accept"),
    "return": _return,
    "contact": _simple("contact"),
    "reply": _reply,
    "review": _review,
    "callback": _callback,
    "archive": _archive,
    "resolve": _resolve,
    "merge": _merge,
}


def urge(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    order_id: int,
    body: UrgeBody,
    now: datetime | None = None,
) -> service.Created:
    """催办: a linked urging order; the chased order's priority rises and its owner is told."""
    principal.require(*ACTION_ROLES["urge"])
    now = now or utcnow()
    chased = service.get_scoped(session, principal=principal, order_id=order_id)
    if chased.step in ("archived", "merged"):
        raise TransitionNotAllowed(f"工单 {chased.number} 已{step_name(chased.step)}，无需催办")
    created = service.create(
        session,
        principal=principal,
        settings=settings,
        data=WorkOrderCreate(
            business_type="urging",
            channel=body.channel,
            content=body.content,
            idempotency_key=body.idempotency_key,
            contact_phone=chased.contact_phone,
            contact_name=chased.contact_name,
        ),
        urged=chased,
        now=now,
    )
    if created.created:
        chased.priority += 1
        session.add(
            step_event(
                chased,
                "urged",
                actor=principal,
                now=now,
                to_step=None,
                note=body.content,
                data={"urging_order": created.order.number, "priority": chased.priority},
            )
        )
        notify(
            session,
            user_id=chased.handler_user_id,
            order=chased,
            kind="urged",
            message=f"工单 {chased.number} 被客户催办（第 {chased.priority} 次），请优先处理",
        )
        session.flush()
    return created
