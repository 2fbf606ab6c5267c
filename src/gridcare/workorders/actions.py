"""The work order's actions, one spec each (docs/domain.md §4): 派单, 接单/退单, 联系客户, 回单, 审核, 回访,
归档, 当场解答办结, 合并, 挂起/恢复, 催办 — and the system's moves (a sub-order following its main order, a
repair call attached to an outage and released by its restoration or dismissal).

A spec names the action in Chinese, the roles that may take it, its body, its moves and its page
form; the API's endpoints, the detail page's forms and the list of what a user may do now are all
read from these specs. Every action: the order must be in the actor's scope, the actor must hold a
role for it, the caller's `version` must be current, and the process must allow it from the current
step (engine/machine.py). The step left is recorded with its timing; the new step gets its deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.engine import machine
from gridcare.engine.machine import Context, TransitionNotAllowed
from gridcare.engine.spec import Action, Field, moves_from
from gridcare.errors import InvalidInput
from gridcare.models import Unit, User, WorkOrder
from gridcare.models.enums import Role
from gridcare.models.types import utcnow
from gridcare.workorders import service
from gridcare.workorders.process import KEEPER, PROCESS, is_open
from gridcare.workorders.schemas import (
    CallbackBody,
    DispatchBody,
    MergeBody,
    ReplyBody,
    ReturnBody,
    ReviewBody,
    SuspendBody,
    UrgeBody,
    Versioned,
    WorkOrderCreate,
)
from gridcare.workorders.steps import notify, pause_clock, resume_clock, step_name

__all__ = ["TransitionNotAllowed", "available_actions", "perform", "release", "urge"]

NO_CALLBACK_TYPES = ("praise",)
STATION_SIDE = (Role.station_staff, Role.dispatcher)
WORKING_STEPS = ("pending_dispatch", "pending_accept", "pending_contact", "in_progress")


class NoBody(BaseModel):
    """The body of a system move: nothing from a user."""


def _note(body: BaseModel) -> str | None:
    note = getattr(body, "note", None)
    return note if isinstance(note, str) and note else None


# -- handlers ---------------------------------------------------------------------------------------


def _dispatch(ctx: Context, order: WorkOrder, body: DispatchBody) -> None:
    session, principal = ctx.session, ctx.actor
    machine.target(KEEPER, order, "dispatch")  # refuse before looking at the station
    data: dict[str, Any] = {}
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
    machine.move(ctx, KEEPER, order, "dispatch", note=body.note, data=data)
    if order.step != "pending_archive":  # an urging order is done once passed on
        notify(
            session,
            user_id=order.handler_user_id,
            order=order,
            kind="dispatched",
            message=f"新工单 {order.number} 已派至本所，请及时接单",
        )


def _plain(name: str) -> Any:
    def handle(ctx: Context, order: WorkOrder, body: Versioned) -> None:
        machine.move(ctx, KEEPER, order, name, note=body.note)

    handle.__name__ = f"_{name}"
    return handle


def _return(ctx: Context, order: WorkOrder, body: ReturnBody) -> None:
    machine.target(KEEPER, order, "return")
    reason = service.catalog_item(ctx.session, "return_reason", body.reason)
    if reason is None:
        raise InvalidInput(
            f"退单原因“{body.reason}”不在允许范围内（非本单位、类型错误、缺少联系方式、停电未核实）；"
            "客户不满意不能作为退单原因",
            details=[{"field": "reason"}],
        )
    data = {"reason": reason.code, "reason_name": reason.name, "correction": body.correction}
    machine.move(ctx, KEEPER, order, "return", note=body.note, data=data)


def _reply(ctx: Context, order: WorkOrder, body: ReplyBody) -> None:
    machine.target(KEEPER, order, "reply")
    order.reply = body.reply
    # The reply is kept in its event: a reply sent back by review and written again keeps both.
    machine.move(ctx, KEEPER, order, "reply", note=body.note, data={"reply": body.reply})
    # 副工单 merged into this one are answered by the same reply and go on to their own review.
    for sub in ctx.session.scalars(
        select(WorkOrder).where(WorkOrder.main_order_id == order.id, WorkOrder.step == "merged")
    ):
        sub.reply = body.reply
        machine.move(ctx, KEEPER, sub, "follow_main", data={"main_order": order.number, "reply": body.reply})


def _callback_skipped(order: WorkOrder) -> str | None:
    if order.business_type in NO_CALLBACK_TYPES:
        return "表扬工单不回访"
    if order.anonymous:
        return "匿名来电不回访"
    if order.callback_declined:
        return "客户表示不需回访"
    return None


def _review(ctx: Context, order: WorkOrder, body: ReviewBody) -> None:
    if not body.passed:
        if not body.note:
            raise InvalidInput("审核退回须写明原因", details=[{"field": "note"}])
        machine.move(ctx, KEEPER, order, "review_back", note=body.note)
        return
    to_step = machine.target(KEEPER, order, "review_pass")
    skip = _callback_skipped(order)
    if skip and to_step == "pending_callback":
        to_step = "pending_archive"
    data = {"callback_skipped": skip} if skip else None
    machine.move(ctx, KEEPER, order, "review_pass", to_step=to_step, note=body.note, data=data)


def _callback(ctx: Context, order: WorkOrder, body: CallbackBody) -> None:
    settings, now = ctx.settings, ctx.now
    machine.target(KEEPER, order, "callback")
    if body.reached:
        level = service.catalog_item(ctx.session, "satisfaction", body.satisfaction)
        if level is None:
            raise InvalidInput(f"满意度“{body.satisfaction}”不存在", details=[{"field": "satisfaction"}])
        order.satisfaction = level.code
        order.last_callback_at = now
        data = {"satisfaction": level.code, "attempt": order.callback_attempts + 1}
        machine.move(ctx, KEEPER, order, "callback", note=body.note, data=data)
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
        data = {"attempt": order.callback_attempts, "tries_left": tries_left}
        machine.record(ctx, KEEPER, order, "callback_attempt", note=body.note, data=data)
        return
    data = {"unreachable": True, "attempt": order.callback_attempts}
    machine.move(ctx, KEEPER, order, "callback", note=body.note, data=data)


def _archive(ctx: Context, order: WorkOrder, body: Versioned) -> None:
    machine.target(KEEPER, order, "archive")
    order.archived_at = ctx.now
    machine.move(ctx, KEEPER, order, "archive", note=body.note)


def _resolve(ctx: Context, order: WorkOrder, body: Versioned) -> None:
    machine.target(KEEPER, order, "resolve")
    if not body.note:
        raise InvalidInput("当场解答办结须填写答复内容", details=[{"field": "note"}])
    order.reply = body.note
    machine.move(ctx, KEEPER, order, "resolve", note=body.note)


def _merge(ctx: Context, order: WorkOrder, body: MergeBody) -> None:
    session, principal = ctx.session, ctx.actor
    machine.target(KEEPER, order, "merge")
    main_id = body.main_order_id
    if main_id is None:
        number = (body.main_order or "").strip()
        main_id = session.scalar(
            select(WorkOrder.id).where(WorkOrder.number == number, principal.in_scope(WorkOrder.station_id))
        )
        if main_id is None:
            raise InvalidInput(
                f"主工单“{number}”不存在或不在您的权限范围内", details=[{"field": "main_order_id"}]
            )
    if main_id == order.id:
        raise InvalidInput("不能与自身合并", details=[{"field": "main_order_id"}])
    main = service.get_scoped(session, principal=principal, order_id=main_id)
    if main.business_type != "fault_repair" or main.step in ("merged", "archived") or main.main_order_id:
        raise InvalidInput(
            f"工单 {main.number} 不能作为主工单（须为未办结的故障报修主工单）",
            details=[{"field": "main_order_id"}],
        )
    if main.station_id != order.station_id:
        raise InvalidInput("主工单与副工单须属同一供电所", details=[{"field": "main_order_id"}])
    if main.fault_point and order.fault_point and main.fault_point != order.fault_point:
        raise InvalidInput(
            f"故障点不同（主工单：{main.fault_point}；本工单：{order.fault_point}），不能合并",
            details=[{"field": "main_order_id"}],
        )
    if main.accepted_at > order.accepted_at:
        raise InvalidInput(
            f"主工单应为最先受理的工单：{main.number} 晚于 {order.number}",
            details=[{"field": "main_order_id"}],
        )
    order.main_order_id = main.id
    machine.move(ctx, KEEPER, order, "merge", note=body.note, data={"main_order": main.number})
    machine.record(ctx, KEEPER, main, "merged_in", data={"sub_order": order.number})


def _suspend(ctx: Context, order: WorkOrder, body: SuspendBody) -> None:
    """挂起: the customer owes something (a visit they asked to have later, documents for the request);
    the step's clock stops and what is left of it is kept."""
    if not PROCESS.step(order.step).waits_on_customer:
        raise TransitionNotAllowed(
            f"工单 {order.number} 当前环节为“{step_name(order.step, order.business_type)}”，"
            "只有待联系客户、处理中的工单可以挂起"
        )
    reason = body.reason.strip()
    machine.record(ctx, KEEPER, order, "suspend", note=reason, data={"deadline": _iso(order.step_deadline)})
    pause_clock(ctx.session, order, now=ctx.now, reason=reason)


def _resume(ctx: Context, order: WorkOrder, body: Versioned) -> None:
    if order.step_paused_at is None:
        raise TransitionNotAllowed(f"工单 {order.number} 没有挂起")
    reason = order.step_pause_reason
    waited = resume_clock(ctx.session, order, now=ctx.now)
    data = {"waited_seconds": waited, "deadline": _iso(order.step_deadline), "reason": reason}
    machine.record(ctx, KEEPER, order, "resume", note=body.note, data=data)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- specs ------------------------------------------------------------------------------------------

NOTE = Field("note", "text", "说明（可选）")

PROCESS.action(
    Action(
        "dispatch",
        "派单",
        (Role.agent, Role.dispatcher),
        DispatchBody,
        _dispatch,
        moves={
            ("*", "pending_dispatch"): "pending_accept",
            ("urging", "pending_dispatch"): "pending_archive",
        },
        summary="派单（可改派供电所、指定处理人）",
        fields=(
            Field("station_id", "station", "供电所"),
            Field("handler_user_id", "handler", "处理人"),
            NOTE,
        ),
    )
)
PROCESS.action(
    Action(
        "accept",
        "接单",
        STATION_SIDE,
        Versioned,
        _plain("accept"),
        moves={("*", "pending_accept"): "pending_contact"},
        summary="接单",
    )
)
PROCESS.action(
    Action(
        "return",
        "退单",
        STATION_SIDE,
        ReturnBody,
        _return,
        moves={("*", "pending_accept"): "pending_dispatch"},
        summary="退单（须有允许的原因与更正内容）",
        fields=(
            Field("reason", "catalog", "选择退单原因", required=True, options="return_reason"),
            Field("correction", "textarea", "更正内容：应派单位、正确类型或联系方式", required=True),
        ),
        style="danger",
    )
)
PROCESS.action(
    Action(
        "contact",
        "联系客户",
        STATION_SIDE,
        Versioned,
        _plain("contact"),
        moves={("*", "pending_contact"): "in_progress"},
        summary="联系客户（故障报修为到达现场）",
        fields=(Field("note", "text", "联系情况（可选）"),),
        title=lambda o: "到达现场" if o.business_type == "fault_repair" else "联系客户",
        button="已联系客户",
    )
)
PROCESS.action(
    Action(
        "reply",
        "回单",
        STATION_SIDE,
        ReplyBody,
        _reply,
        moves={("*", "in_progress"): "pending_review"},
        summary="回单",
        fields=(Field("reply", "textarea", "处理结果：原因、措施、客户意见", required=True),),
    )
)
PROCESS.action(
    Action(
        "review",
        "审核",
        (Role.dispatcher,),
        ReviewBody,
        _review,
        summary="审核（通过或退回）",
        fields=(
            Field("note", "textarea", "审核意见（退回时必填）"),
            Field("passed", "verdict", options="审核通过|退回重办"),
        ),
        records=("review_pass", "review_back"),
    )
)
PROCESS.action(
    Action(
        "review_pass",
        "审核通过",
        (),
        NoBody,
        moves={("*", "pending_review"): "pending_callback"},
        system=True,
    )
)
PROCESS.action(
    Action("review_back", "审核退回", (), NoBody, moves={("*", "pending_review"): "in_progress"}, system=True)
)
PROCESS.action(
    Action(
        "callback",
        "回访",
        (Role.agent,),
        CallbackBody,
        _callback,
        moves={("*", "pending_callback"): "pending_archive"},
        summary="回访（满意度；未联系上记一次尝试）",
        fields=(
            Field("reached", "reached", "联系上"),
            Field("satisfaction", "catalog", "满意度", options="satisfaction"),
            Field("note", "text", "客户意见（可选）"),
        ),
        button="提交回访",
    )
)
PROCESS.action(
    Action(
        "resolve",
        "当场解答办结",
        (Role.agent,),
        Versioned,
        _resolve,
        moves={("consultation", "pending_dispatch"): "pending_archive"},
        summary="查询咨询当场解答办结",
        fields=(Field("note", "textarea", "答复内容", required=True),),
        button="办结",
    )
)
PROCESS.action(
    Action(
        "archive",
        "归档",
        (Role.agent, Role.dispatcher),
        Versioned,
        _archive,
        moves={("*", "pending_archive"): "archived"},
        summary="归档",
    )
)
PROCESS.action(
    Action(
        "merge",
        "合并",
        (Role.agent, Role.dispatcher),
        MergeBody,
        _merge,
        moves=moves_from(WORKING_STEPS, "merged", kind="fault_repair"),
        summary="合并为副工单（故障报修，同一故障点）",
        fields=(Field("main_order", "text", "主工单编号（同一故障点、先受理的工单）", required=True),),
        title=lambda o: "合并为副工单",
        style="secondary",
    )
)
PROCESS.action(
    Action(
        "suspend",
        "挂起",
        (Role.dispatcher,),
        SuspendBody,
        _suspend,
        summary="挂起（客户原因，环节计时暂停，须写明原因）",
        fields=(Field("reason", "text", "挂起原因：客户要求改约、待客户提供资料等", required=True),),
        when=lambda o: o.step in ("pending_contact", "in_progress"),
        style="secondary",
    )
)
PROCESS.action(
    Action(
        "resume",
        "恢复计时",
        (Role.dispatcher, Role.station_staff),
        Versioned,
        _resume,
        summary="恢复挂起工单的环节计时（按剩余时限继续）",
        fields=(NOTE,),
        when=lambda o: o.step_paused_at is not None,
        while_paused=True,
    )
)
PROCESS.action(
    Action(
        "urge",
        "催办",
        (Role.agent, Role.dispatcher),
        UrgeBody,
        summary="催办：生成催办工单",
        fields=(Field("content", "textarea", "客户催办内容", required=True),),
        when=lambda o: is_open(o) and o.business_type != "urging",
        button="生成催办工单",
        style="secondary",
        custom=True,
        while_paused=True,
    )
)
# The system's moves: a merged sub-order follows its main order's reply; a repair call inside a fault
# outage waits on it (outages/attach.py), and its restoration or dismissal moves it on.
for name, label, step_moves in (
    ("follow_main", "随主工单回单", {("fault_repair", "merged"): "pending_review"}),
    ("attach_outage", "并入停电事件", {("fault_repair", "pending_dispatch"): "merged"}),
    ("outage_restored", "停电事件已复电", {("fault_repair", "merged"): "pending_callback"}),
    ("outage_dismissed", "停电研判已撤销", {("fault_repair", "merged"): "pending_dispatch"}),
):
    PROCESS.action(Action(name, label, (), NoBody, moves=step_moves, system=True))


# -- entry points -----------------------------------------------------------------------------------


def context(
    session: Session, principal: Principal, settings: Settings, now: datetime | None = None
) -> Context:
    return Context(session=session, actor=principal, settings=settings, now=now or utcnow())


def available_actions(session: Session, principal: Principal, order: WorkOrder) -> list[str]:
    """The actions this user may take on the order now (their role, a move from the current step, the
    action's own condition)."""
    return [spec.name for spec in machine.available(KEEPER, principal, order)]


def perform(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    order_id: int,
    action: str,
    body: BaseModel,
    now: datetime | None = None,
) -> WorkOrder:
    order = service.get_scoped(session, principal=principal, order_id=order_id)
    return machine.perform(context(session, principal, settings, now), KEEPER, order, action, body)


def release(session: Session, order: WorkOrder, action: str, *, ctx: Context, data: dict[str, Any]) -> bool:
    """A system move of an order waiting on something else (an outage's restoration or dismissal):
    made when the process allows it from where the order stands. Returns whether it moved."""
    if not machine.allows(KEEPER, order, action):
        return False
    machine.move(ctx, KEEPER, order, action, data=data)
    return True


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
    spec = PROCESS.actions["urge"]
    machine.require_role(spec, principal)
    ctx = context(session, principal, settings, now)
    chased = service.get_scoped(session, principal=principal, order_id=order_id)
    if not is_open(chased):
        raise TransitionNotAllowed(f"工单 {chased.number} 已{step_name(chased.step)}，无需催办")
    if chased.business_type == "urging":
        raise TransitionNotAllowed(f"工单 {chased.number} 本身是催办工单，不能再催办")
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
        now=ctx.now,
    )
    if created.created:
        chased.priority += 1
        data = {"urging_order": created.order.number, "priority": chased.priority}
        machine.record(ctx, KEEPER, chased, "urged", note=body.content, data=data)
        notify(
            session,
            user_id=chased.handler_user_id,
            order=chased,
            kind="urged",
            message=f"工单 {chased.number} 被客户催办（第 {chased.priority} 次），请优先处理",
        )
        machine.save(session, KEEPER, chased)
    return created
