"""/api/v1/workorders: intake, list, read, timeline, one endpoint per action (from the process specs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import PrincipalDep, SessionDep, SettingsDep
from gridcare.engine.spec import Action
from gridcare.models.enums import LABELS_ZH
from gridcare.models.types import utcnow
from gridcare.paging import Page, PageDep, page_of
from gridcare.params import DayQuery, IdPath, IdQuery
from gridcare.workorders import actions, repository, service
from gridcare.workorders.process import PROCESS
from gridcare.workorders.schemas import (
    EventRead,
    UrgeBody,
    WorkOrderCreate,
    WorkOrderRead,
)
from gridcare.workorders.views import order_view

router = APIRouter(prefix="/api/v1", tags=["workorders 工单"], responses=ERROR_RESPONSES)


to_read = order_view  # the read model, as the viewer may see it (views.py)


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


def _action(spec: Action[Any]) -> None:
    def endpoint(
        order_id: IdPath,
        body: BaseModel,
        session: SessionDep,
        principal: PrincipalDep,
        settings: SettingsDep,
    ) -> WorkOrderRead:
        order = actions.perform(
            session, principal=principal, settings=settings, order_id=order_id, action=spec.name, body=body
        )
        return to_read(order, principal)

    endpoint.__annotations__["body"] = spec.body  # each action's own body model, for validation and docs
    endpoint.__name__ = f"action_{spec.name}"
    roles = "、".join(LABELS_ZH[r] for r in spec.roles)
    router.add_api_route(
        f"/workorders/{{order_id}}/{spec.name}",
        endpoint,
        methods=["POST"],
        response_model=WorkOrderRead,
        summary=spec.summary or spec.label,
        description=f"角色：{roles}。",
    )


# One endpoint per user action of the process (催办 has its own: it answers with the new order).
for _spec in PROCESS.actions.values():
    if not _spec.system and not _spec.custom:
        _action(_spec)


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
