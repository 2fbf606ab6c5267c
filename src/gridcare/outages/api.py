"""/api/v1/outages: plan, announce, run and restore outages; their customers and notices; the
frequent-outage watch; reliability indices; arrears disconnection (/api/v1/arrears)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gridcare.auth.masking import mask_phone
from gridcare.calendar import BEIJING
from gridcare.errors import InvalidInput, NotFound
from gridcare.http import PrincipalDep, SessionDep, SettingsDep
from gridcare.models import Feeder, Outage, Unit
from gridcare.models.types import utcnow
from gridcare.notify.outbox import delivery_status
from gridcare.outages import arrears, frequent, reliability, repository, service, trouble
from gridcare.outages.schemas import (
    KIND_NAMES,
    STATUS_NAMES,
    AnnounceBody,
    OutageCreate,
    OutageScope,
    RestoreTimeBody,
    VersionBody,
)
from gridcare.paging import Page, PageDep, page_of

router = APIRouter(prefix="/api/v1", tags=["outages 停电"])


class OutageRead(BaseModel):
    id: int
    number: str
    kind: str
    kind_name: str = ""
    status: str
    status_name: str = ""
    title: str
    cause: str
    cause_class: str
    area_text: str
    county_id: int
    planned_start: datetime
    planned_end: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    expected_restore_at: datetime
    announced_at: datetime | None
    short_notice_reason: str | None
    short_notice_approver_id: int | None
    affected_customers: int
    affected_areas: int
    version: int
    notices: dict[str, int] = Field(
        default_factory=dict, description="通知按状态计数：sent / pending / failed"
    )

    model_config = {"from_attributes": True}


def to_read(outage: Outage, notices: dict[str, int] | None = None) -> OutageRead:
    read = OutageRead.model_validate(outage)
    read.kind_name = KIND_NAMES[outage.kind]
    read.status_name = STATUS_NAMES[outage.status]
    read.notices = notices or {}
    return read


def _from(value: date) -> datetime:
    """The start of a Beijing date."""
    return datetime.combine(value, time(), tzinfo=BEIJING)


def _through(value: date) -> datetime:
    """The end of a Beijing date (the next day's start)."""
    return _from(value + timedelta(days=1))


@router.post("/outages/preview", summary="计划停电前预览：影响台区数、客户数、重要客户、60天内已停电客户")
def preview(scope: OutageScope, session: SessionDep, principal: PrincipalDep) -> dict[str, object]:
    return service.preview(session, principal=principal, scope=scope)


@router.post("/outages", response_model=OutageRead, status_code=201, summary="登记停电（故障停电即时发布）")
def create(
    data: OutageCreate, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    outage = service.create(session, principal=principal, settings=settings, data=data)
    return to_read(outage, delivery_status(session, outage.id))


@router.get("/outages", response_model=Page[OutageRead], summary="停电事件列表")
def list_outages(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    status: str | None = None,
    kind: str | None = None,
    start: Annotated[date | None, Query(alias="from", description="与此日期起（北京时间）有交叠")] = None,
    end: Annotated[date | None, Query(alias="to", description="至此日期（含）")] = None,
) -> Page[OutageRead]:
    rows = repository.list_outages(
        session,
        principal=principal,
        status=status,
        kind=kind,
        start=_from(start) if start else None,
        end=_through(end) if end else None,
        offset=paging.offset,
        limit=paging.fetch,
    )
    return page_of([to_read(o) for o in rows], paging)


@router.get("/outages/watch", summary="频繁停电预警：近两个月停电2次（关注）、3次及以上（预警）的客户")
def watch(session: SessionDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    return [
        {**w.__dict__, "last_at": w.last_at.isoformat()}
        for w in frequent.watch_list(session, principal=principal)
    ]


@router.get("/outages/reliability", summary="供电可靠性指标：SAIFI、SAIDI、CAIDI、RS-1、CEMI-n")
def reliability_indices(
    session: SessionDep,
    principal: PrincipalDep,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
    unit_id: int | None = None,
    feeder_id: int | None = None,
) -> dict[str, object]:
    if end < start:
        raise InvalidInput("截止日期早于起始日期", details=[{"field": "to", "reason": "早于 from"}])
    if feeder_id is not None:
        if session.get(Feeder, feeder_id) is None:
            raise NotFound(f"线路 {feeder_id} 不存在")
        where = reliability.Where(feeder_id=feeder_id)
    else:
        unit = session.get(Unit, unit_id or principal.unit_id) if (unit_id or principal.unit_id) else None
        if unit_id is not None and (unit is None or not principal.covers_path(unit.path)):
            raise NotFound(f"单位 {unit_id} 不存在")
        where = reliability.Where(unit_path=unit.path if unit else None)
    return reliability.indices(session, start=_from(start), end=_through(end), where=where)


@router.get("/outages/{outage_id}", response_model=OutageRead, summary="停电事件详情（含通知发送情况）")
def read(outage_id: int, session: SessionDep, principal: PrincipalDep) -> OutageRead:
    outage = service.get(session, principal=principal, outage_id=outage_id)
    return to_read(outage, delivery_status(session, outage.id))


@router.get("/outages/{outage_id}/customers", summary="受影响客户及其通知送达情况")
def customers(
    outage_id: int, session: SessionDep, principal: PrincipalDep, paging: PageDep
) -> Page[dict[str, Any]]:
    service.get(session, principal=principal, outage_id=outage_id)
    rows = repository.affected_customers(
        session, outage_id=outage_id, offset=paging.offset, limit=paging.fetch
    )
    items = [
        {
            "customer_id": c.id,
            "account_no": c.account_no,
            "name": c.name,
            "phone": c.phone if principal.sees_phones else mask_phone(c.phone),
            "address": c.address,
            "transformer_area": area,
            "is_important": important,
            "notices_sent": sent,
            "notices_pending": pending,
            "notices_failed": failed,
            "last_error": error,
        }
        for c, area, important, sent, pending, failed, error in rows
    ]
    return page_of(items, paging)


@router.post("/outages/{outage_id}/announce", response_model=OutageRead, summary="发布停电通知")
def announce(
    outage_id: int, body: AnnounceBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    return to_read(
        service.announce(session, principal=principal, settings=settings, outage_id=outage_id, body=body)
    )


@router.post("/outages/{outage_id}/start", response_model=OutageRead, summary="开始停电")
def start(outage_id: int, body: VersionBody, session: SessionDep, principal: PrincipalDep) -> OutageRead:
    return to_read(service.start(session, principal=principal, outage_id=outage_id, version=body.version))


@router.post(
    "/outages/{outage_id}/confirm", response_model=OutageRead, summary="确认研判的故障停电（即时发布）"
)
def confirm(
    outage_id: int, body: VersionBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    return to_read(
        trouble.confirm(
            session,
            principal=principal,
            settings=settings,
            outage_id=outage_id,
            version=body.version,
            now=utcnow(),
        )
    )


@router.post(
    "/outages/{outage_id}/restore-time", response_model=OutageRead, summary="调整预计复电时间（通知客户）"
)
def restore_time(
    outage_id: int, body: RestoreTimeBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    return to_read(
        service.change_restore_time(
            session,
            principal=principal,
            settings=settings,
            outage_id=outage_id,
            version=body.version,
            expected_restore_at=body.expected_restore_at,
            reason=body.reason,
        )
    )


@router.post(
    "/outages/{outage_id}/restore", response_model=OutageRead, summary="登记复电（关联的报修工单转回访）"
)
def restore(
    outage_id: int, body: VersionBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    return to_read(
        service.restore(
            session, principal=principal, settings=settings, outage_id=outage_id, version=body.version
        )
    )


@router.post("/outages/{outage_id}/close", response_model=OutageRead, summary="归档")
def close(outage_id: int, body: VersionBody, session: SessionDep, principal: PrincipalDep) -> OutageRead:
    return to_read(service.close(session, principal=principal, outage_id=outage_id, version=body.version))


@router.post(
    "/outages/{outage_id}/cancel", response_model=OutageRead, summary="取消（已发布的通知客户；研判的撤销）"
)
def cancel(
    outage_id: int, body: VersionBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    return to_read(
        service.cancel(
            session, principal=principal, settings=settings, outage_id=outage_id, version=body.version
        )
    )


@router.get(
    "/transformer-areas/{area_id}/outages",
    response_model=list[OutageRead],
    summary="台区当前及将来的停电（受理时查看）",
)
def area_outages(area_id: int, session: SessionDep, principal: PrincipalDep) -> list[OutageRead]:
    return [to_read(o) for o in repository.outages_of_area(session, area_id, after=utcnow())]


class ArrearsCreate(BaseModel):
    account_no: str
    bill_month: str = Field(pattern=r"^\d{4}-\d{2}$")
    amount_cents: int = Field(gt=0)
    due_date: datetime


class NoticeBody(BaseModel):
    final: bool = Field(description="false：停电通知书；true：停电前提醒")
    planned_cut: datetime


class ArrearsRead(BaseModel):
    id: int
    customer_id: int
    bill_month: str
    amount_cents: int
    due_date: datetime
    status: str
    first_notice_id: int | None
    final_notice_id: int | None
    outage_id: int | None
    reconnect_order_id: int | None
    paid_at: datetime | None
    restored_at: datetime | None
    version: int

    model_config = {"from_attributes": True}


@router.post("/arrears", response_model=ArrearsRead, status_code=201, summary="登记欠费停电单")
def arrears_open(data: ArrearsCreate, session: SessionDep, principal: PrincipalDep) -> ArrearsRead:
    case = arrears.open_case(
        session,
        principal=principal,
        account_no=data.account_no,
        bill_month=data.bill_month,
        amount_cents=data.amount_cents,
        due_date=data.due_date,
    )
    return ArrearsRead.model_validate(case)


@router.post("/arrears/{case_id}/notice", response_model=ArrearsRead, summary="发送停电通知书或停电前提醒")
def arrears_notice(
    case_id: int, body: NoticeBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> ArrearsRead:
    arrears.send_notice(
        session,
        principal=principal,
        settings=settings,
        case_id=case_id,
        final=body.final,
        planned_cut=body.planned_cut,
    )
    return ArrearsRead.model_validate(arrears.get_case(session, principal, case_id))


@router.post("/arrears/{case_id}/cut", response_model=OutageRead, summary="欠费停电（须通知已送达）")
def arrears_cut(case_id: int, body: VersionBody, session: SessionDep, principal: PrincipalDep) -> OutageRead:
    return to_read(arrears.cut(session, principal=principal, case_id=case_id, version=body.version))


@router.post("/arrears/{case_id}/pay", response_model=ArrearsRead, summary="登记缴费（24小时内复电）")
def arrears_pay(
    case_id: int, body: VersionBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> ArrearsRead:
    return ArrearsRead.model_validate(
        arrears.pay(session, principal=principal, settings=settings, case_id=case_id, version=body.version)
    )


@router.post("/arrears/{case_id}/restore", response_model=ArrearsRead, summary="欠费复电")
def arrears_restore(
    case_id: int, body: VersionBody, session: SessionDep, principal: PrincipalDep
) -> ArrearsRead:
    return ArrearsRead.model_validate(
        arrears.restore(session, principal=principal, case_id=case_id, version=body.version)
    )
