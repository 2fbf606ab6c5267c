"""/api/v1/workorders: intake, list, read, timeline, one endpoint per action; /api/v1/notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.masking import mask_phone
from gridcare.auth.principal import Principal
from gridcare.http import PrincipalDep, SessionDep, SettingsDep
from gridcare.models import WorkOrder
from gridcare.models.types import utcnow
from gridcare.paging import Page, PageDep, page_of
from gridcare.params import DayQuery, IdPath, IdQuery
from gridcare.workorders import actions, repository, service
from gridcare.workorders.schemas import (
    CallbackBody,
    DispatchBody,
    EventRead,
    MergeBody,
    NotificationRead,
    ReplyBody,
    ReturnBody,
    ReviewBody,
    UrgeBody,
    Versioned,
    WorkOrderCreate,
    WorkOrderRead,
)
from gridcare.workorders.steps import step_name

router = APIRouter(prefix="/api/v1", tags=["workorders 工单"], responses=ERROR_RESPONSES)


def to_read(order: WorkOrder, principal: Principal, now: datetime | None = None) -> WorkOrderRead:
    now = now or utcnow()
    read = WorkOrderRead.model_validate(order)
    read.step_name = step_name(order.step, order.business_type)
    is_open = order.step not in ("archived", "merged")
    deadline, warn_at = order.step_deadline, order.step_warn_at
    read.overdue = bool(is_open and deadline is not None and deadline < now)
    read.due_soon = bool(is_open and not read.overdue and warn_at is not None and warn_at <= now)
    if not principal.sees_phones:
        read.contact_phone = mask_phone(read.contact_phone)
    return read


@router.post("/workorders", response_model=WorkOrderRead, status_code=201, summary="受理：新建工单")
def create_order(
    data: WorkOrderCreate,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None, Header(max_length=64, description="重试同一请求时保持不变，不会重复建单（仅对本人有效）")
    ] = None,
) -> WorkOrderRead:
    if idempotency_key and not data.idempotency_key:
        data.idempotency_key = idempotency_key
    created = service.create(session, principal=principal, settings=settings, data=data)
    if not created.created:
        response.status_code = 200
    return to_read(created.order, principal)


@router.get("/workorders", response_model=Page[WorkOrderRead], summary="工单列表（筛选、排序、分页）")
def list_orders(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    business_type: str | None = None,
    category: Annotated[str | None, Query(description="分类代码，上级代码包含下级")] = None,
    unit_id: Annotated[IdQuery, Query(description="县公司或供电所（含下级）")] = None,
    step: str | None = None,
    overdue: bool | None = None,
    due_soon: bool | None = None,
    created_from: Annotated[DayQuery, Query(description="受理日期起（北京时间，含）")] = None,
    created_to: Annotated[DayQuery, Query(description="受理日期止（北京时间，含）")] = None,
    customer_id: IdQuery = None,
    mine: Annotated[bool, Query(description="只看我处理的")] = False,
    q: Annotated[str | None, Query(description="工单编号或受理内容片段")] = None,
    calendar_missing: bool | None = None,
    is_repeat: bool | None = None,
    sort: Literal["-created_at", "created_at", "step_deadline", "-priority"] = "-created_at",
) -> Page[WorkOrderRead]:
    now = utcnow()
    accepted_from, accepted_to = repository.accepted_between(created_from, created_to)
    filters = repository.OrderFilter(
        business_type=business_type,
        category=category,
        unit_id=unit_id,
        step=step,
        overdue=overdue,
        due_soon=due_soon,
        created_from=accepted_from,
        created_to=accepted_to,
        customer_id=customer_id,
        handler_user_id=principal.user_id if mine else None,
        q=q,
        calendar_missing=calendar_missing,
        is_repeat=is_repeat,
    )
    rows = repository.list_orders(
        session,
        principal=principal,
        filters=filters,
        sort=sort,
        now=now,
        offset=paging.offset,
        limit=paging.fetch,
    )
    return page_of([to_read(o, principal, now) for o in rows], paging)


@router.get("/workorders/{order_id}", response_model=WorkOrderRead, summary="工单详情")
def get_order(order_id: IdPath, session: SessionDep, principal: PrincipalDep) -> WorkOrderRead:
    return to_read(service.get_scoped(session, principal=principal, order_id=order_id), principal)


@router.get("/workorders/{order_id}/timeline", response_model=list[EventRead], summary="工单流转记录")
def get_timeline(order_id: IdPath, session: SessionDep, principal: PrincipalDep) -> list[EventRead]:
    order = service.get_scoped(session, principal=principal, order_id=order_id)
    return [EventRead.model_validate(e) for e in repository.timeline(session, order.id)]


def _action(name: str, body_type: type[Versioned], summary: str) -> None:
    def endpoint(
        order_id: IdPath,
        body: Versioned,
        session: SessionDep,
        principal: PrincipalDep,
        settings: SettingsDep,
    ) -> WorkOrderRead:
        order = actions.perform(
            session, principal=principal, settings=settings, order_id=order_id, action=name, body=body
        )
        return to_read(order, principal)

    endpoint.__annotations__["body"] = body_type  # each action's own body model, for validation and docs
    endpoint.__name__ = f"action_{name}"
    router.add_api_route(
        f"/workorders/{{order_id}}/{name}",
        endpoint,
        methods=["POST"],
        response_model=WorkOrderRead,
        summary=summary,
    )


_action("dispatch", DispatchBody, "派单（可改派供电所、指定处理人）")
_action("accept", Versioned, "接单")
_action("return", ReturnBody, "退单（须有允许的原因与更正内容）")
_action("contact", Versioned, "联系客户（故障报修为到达现场）")
_action("reply", ReplyBody, "回单")
_action("review", ReviewBody, "审核（通过或退回）")
_action("callback", CallbackBody, "回访（满意度；未联系上记一次尝试）")
_action("archive", Versioned, "归档")
_action("resolve", Versioned, "查询咨询当场解答办结")
_action("merge", MergeBody, "合并为副工单（故障报修，同一故障点）")


@router.post(
    "/workorders/{order_id}/urge", response_model=WorkOrderRead, status_code=201, summary="催办：生成催办工单"
)
def urge_order(
    order_id: IdPath,
    body: UrgeBody,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> WorkOrderRead:
    created = actions.urge(session, principal=principal, settings=settings, order_id=order_id, body=body)
    if not created.created:
        response.status_code = 200
    return to_read(created.order, principal)


@router.get("/notifications", response_model=list[NotificationRead], summary="我的消息（预警、催办、派单）")
def my_notifications(
    session: SessionDep,
    principal: PrincipalDep,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[NotificationRead]:
    rows = repository.notifications(session, user_id=principal.user_id, unread_only=unread_only, limit=limit)
    return [NotificationRead.model_validate(n) for n in rows]
