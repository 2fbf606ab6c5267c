"""/api/v1/outages: plan, announce, run and restore outages; their customers and notices; the
frequent-outage watch; reliability indices; arrears disconnection (/api/v1/arrears)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import PrincipalDep, SessionDep, SettingsDep
from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING
from gridcare.errors import InvalidInput, NotFound
from gridcare.grid.repository import get_transformer_area
from gridcare.models import Feeder, Outage, TransformerArea, Unit
from gridcare.models.types import utcnow
from gridcare.notify.outbox import delivery_status
from gridcare.outages import approvals, arrears, frequent, reliability, repository, service, trouble
from gridcare.outages.schemas import (
    KIND_NAMES,
    STATUS_NAMES,
    CancelBody,
    ConfirmBody,
    DecisionBody,
    OutageCreate,
    OutageScope,
    RestoreTimeBody,
    ShortNoticeBody,
    VersionBody,
)
from gridcare.paging import Page, PageDep, page_of
from gridcare.params import MAX_ID, Day, DayQuery, IdPath, IdQuery, Instant

router = APIRouter(prefix="/api/v1", tags=["outages 停电"], responses=ERROR_RESPONSES)
MAX_RELIABILITY_DAYS = 3660


class OutageRead(BaseModel):
    id: int
    number: str
    kind: str
    kind_name: str = ""
    status: str
    status_name: str = ""
    title: str
    cause: str
    analysis: str | None = Field(default=None, description="故障研判依据（内部，不发布给客户）")
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
    cancel_reason: str | None = None
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


class ApprovalRead(BaseModel):
    id: int
    outage_id: int
    requested_by_id: int | None
    approver_id: int
    reason: str
    planned_start: datetime
    status: str
    status_name: str = ""
    decision_note: str | None
    requested_at: datetime
    decided_at: datetime | None

    model_config = {"from_attributes": True}


def approval_read(approval: object) -> ApprovalRead:
    read = ApprovalRead.model_validate(approval)
    read.status_name = approvals.STATUS_NAMES[read.status]
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
    return to_read(outage, delivery_status(session, "outage", outage.id))


@router.get("/outages", response_model=Page[OutageRead], summary="停电事件列表")
def list_outages(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    start: Annotated[DayQuery, Query(alias="from", description="与此日期起（北京时间）有交叠")] = None,
    end: Annotated[DayQuery, Query(alias="to", description="至此日期（含）")] = None,
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


def _feeder_in_scope(session: Session, principal: Principal, feeder_id: int) -> Feeder:
    """A feeder the user's unit has 台区 on (or any, for the whole company); else "not found"."""
    feeder = session.get(Feeder, feeder_id)
    if feeder is not None and not principal.covers_all:
        reaches = session.scalar(
            select(TransformerArea.id)
            .where(TransformerArea.feeder_id == feeder.id, principal.in_scope(TransformerArea.station_id))
            .limit(1)
        )
        feeder = feeder if reaches is not None else None
    if feeder is None:
        raise NotFound(f"线路 {feeder_id} 不存在或不在您的权限范围内")
    return feeder


@router.get("/outages/reliability", summary="供电可靠性指标：SAIFI、SAIDI、CAIDI、RS-1、CEMI-n")
def reliability_indices(
    session: SessionDep,
    principal: PrincipalDep,
    start: Annotated[Day, Query(alias="from")],
    end: Annotated[Day, Query(alias="to")],
    unit_id: IdQuery = None,
    feeder_id: IdQuery = None,
) -> dict[str, object]:
    if end < start:
        raise InvalidInput("截止日期早于起始日期", details=[{"field": "to", "reason": "早于 from"}])
    if (end - start).days > MAX_RELIABILITY_DAYS:
        raise InvalidInput("统计期间最长为十年", details=[{"field": "to", "reason": "期间过长"}])
    if feeder_id is not None:
        where = reliability.Where(feeder_id=_feeder_in_scope(session, principal, feeder_id).id)
    else:
        unit = session.get(Unit, unit_id or principal.unit_id) if (unit_id or principal.unit_id) else None
        if unit_id is not None and (unit is None or not principal.covers_path(unit.path)):
            raise NotFound(f"单位 {unit_id} 不存在或不在您的权限范围内")
        where = reliability.Where(unit_path=unit.path if unit else None)
    return reliability.indices(session, start=_from(start), end=_through(end), where=where)


@router.get("/outage-approvals", response_model=list[ApprovalRead], summary="待我审批的不足通知期限发布申请")
def my_approvals(session: SessionDep, principal: PrincipalDep) -> list[ApprovalRead]:
    return [approval_read(a) for a, _ in approvals.pending_for(session, principal=principal)]


@router.post(
    "/outage-approvals/{approval_id}/approve", response_model=ApprovalRead, summary="批准不足通知期限发布"
)
def approve(
    approval_id: IdPath, body: DecisionBody, session: SessionDep, principal: PrincipalDep
) -> ApprovalRead:
    return approval_read(
        approvals.decide(session, principal=principal, approval_id=approval_id, approve=True, note=body.note)
    )


@router.post(
    "/outage-approvals/{approval_id}/refuse", response_model=ApprovalRead, summary="不批准不足通知期限发布"
)
def refuse(
    approval_id: IdPath, body: DecisionBody, session: SessionDep, principal: PrincipalDep
) -> ApprovalRead:
    return approval_read(
        approvals.decide(session, principal=principal, approval_id=approval_id, approve=False, note=body.note)
    )


@router.get("/outages/{outage_id}", response_model=OutageRead, summary="停电事件详情（含通知发送情况）")
def read(outage_id: IdPath, session: SessionDep, principal: PrincipalDep) -> OutageRead:
    outage = service.get(session, principal=principal, outage_id=outage_id)
    return to_read(outage, delivery_status(session, "outage", outage.id))


@router.get("/outages/{outage_id}/customers", summary="受影响客户及其通知送达情况")
def customers(
    outage_id: IdPath, session: SessionDep, principal: PrincipalDep, paging: PageDep
) -> Page[dict[str, Any]]:
    """The affected customers in your scope (a station sees its own households)."""
    service.get(session, principal=principal, outage_id=outage_id)
    rows = repository.affected_customers(
        session, principal=principal, outage_id=outage_id, offset=paging.offset, limit=paging.fetch
    )
    return page_of([asdict(row) for row in rows], paging)


@router.post(
    "/outages/{outage_id}/short-notice",
    response_model=ApprovalRead,
    status_code=201,
    summary="申请不足通知期限发布（由指定批准人审批）",
)
def request_short_notice(
    outage_id: IdPath, body: ShortNoticeBody, session: SessionDep, principal: PrincipalDep
) -> ApprovalRead:
    return approval_read(
        service.request_short_notice(
            session,
            principal=principal,
            outage_id=outage_id,
            approver_id=body.approver_id,
            reason=body.reason,
        )
    )


@router.get(
    "/outages/{outage_id}/short-notice/approvers",
    summary="可为本停电审批不足通知期限发布的人员（本单位或上级的管理人员、系统管理员）",
)
def short_notice_approvers(
    outage_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> list[dict[str, object]]:
    outage = service.get(session, principal=principal, outage_id=outage_id)
    return [
        {"id": user_id, "name": name}
        for user_id, name in approvals.candidates(session, outage=outage, requester=principal)
    ]


@router.post(
    "/outages/{outage_id}/announce",
    response_model=OutageRead,
    summary="发布停电通知（不足通知期限须先获批准）",
)
def announce(
    outage_id: IdPath, body: VersionBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    return to_read(
        service.announce(
            session, principal=principal, settings=settings, outage_id=outage_id, version=body.version
        )
    )


@router.post("/outages/{outage_id}/start", response_model=OutageRead, summary="开始停电")
def start(outage_id: IdPath, body: VersionBody, session: SessionDep, principal: PrincipalDep) -> OutageRead:
    return to_read(service.start(session, principal=principal, outage_id=outage_id, version=body.version))


@router.post(
    "/outages/{outage_id}/confirm",
    response_model=OutageRead,
    summary="确认研判的故障停电：填写告知客户的原因与预计复电时间（即时发布）",
)
def confirm(
    outage_id: IdPath, body: ConfirmBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    return to_read(
        trouble.confirm(
            session,
            principal=principal,
            settings=settings,
            outage_id=outage_id,
            version=body.version,
            cause=body.cause,
            expected_restore_at=body.expected_restore_at,
            now=utcnow(),
        )
    )


@router.post(
    "/outages/{outage_id}/restore-time", response_model=OutageRead, summary="调整预计复电时间（通知客户）"
)
def restore_time(
    outage_id: IdPath,
    body: RestoreTimeBody,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
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
    outage_id: IdPath, body: VersionBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    return to_read(
        service.restore(
            session, principal=principal, settings=settings, outage_id=outage_id, version=body.version
        )
    )


@router.post("/outages/{outage_id}/close", response_model=OutageRead, summary="归档")
def close(outage_id: IdPath, body: VersionBody, session: SessionDep, principal: PrincipalDep) -> OutageRead:
    return to_read(service.close(session, principal=principal, outage_id=outage_id, version=body.version))


@router.post(
    "/outages/{outage_id}/cancel",
    response_model=OutageRead,
    summary="取消（须写明原因；已发布的须确认，将通知客户；研判的撤销）",
)
def cancel(
    outage_id: IdPath, body: CancelBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> OutageRead:
    return to_read(
        service.cancel(
            session,
            principal=principal,
            settings=settings,
            outage_id=outage_id,
            version=body.version,
            reason=body.reason,
            confirmed=body.confirm,
        )
    )


@router.get(
    "/transformer-areas/{area_id}/outages",
    response_model=list[OutageRead],
    summary="台区当前及将来的停电（受理时查看）",
)
def area_outages(area_id: IdPath, session: SessionDep, principal: PrincipalDep) -> list[OutageRead]:
    if get_transformer_area(session, principal=principal, area_id=area_id) is None:
        raise NotFound(f"台区 {area_id} 不存在或不在您的权限范围内")
    return [to_read(o) for o in repository.outages_of_area(session, area_id, after=utcnow())]


class ArrearsCreate(BaseModel):
    account_no: str = Field(max_length=20)
    bill_month: str = Field(
        pattern=r"^(19[7-9]\d|2[01]\d\d)-(0[1-9]|1[0-2])$", description="账单月份 YYYY-MM"
    )
    amount_cents: int = Field(gt=0, le=MAX_ID, description="欠费金额（分）")
    due_date: Instant


class NoticeBody(BaseModel):
    final: bool = Field(description="false：停电通知书；true：停电前提醒")
    planned_cut: Instant


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
    case_id: IdPath, body: NoticeBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
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
def arrears_cut(
    case_id: IdPath, body: VersionBody, session: SessionDep, principal: PrincipalDep
) -> OutageRead:
    return to_read(arrears.cut(session, principal=principal, case_id=case_id, version=body.version))


@router.post("/arrears/{case_id}/pay", response_model=ArrearsRead, summary="登记缴费（24小时内复电）")
def arrears_pay(
    case_id: IdPath, body: VersionBody, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> ArrearsRead:
    return ArrearsRead.model_validate(
        arrears.pay(session, principal=principal, settings=settings, case_id=case_id, version=body.version)
    )


@router.post("/arrears/{case_id}/restore", response_model=ArrearsRead, summary="欠费复电")
def arrears_restore(
    case_id: IdPath, body: VersionBody, session: SessionDep, principal: PrincipalDep
) -> ArrearsRead:
    return ArrearsRead.model_validate(
        arrears.restore(session, principal=principal, case_id=case_id, version=body.version)
    )
