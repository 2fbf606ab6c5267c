"""Arrears disconnection (欠费停电) and reconnection (docs/domain.md §7).

A cut is impossible without its notices: it is refused unless the bill is more than 30 days overdue,
the disconnection notice (停电通知书) was *delivered* 3 to 7 days before, and the second notice at
least 30 minutes before (and after the first). Both notices are outbox messages; "delivered" is
their delivery status. After payment, a 欠费复电 work order is opened: its 24-hour limit is timed,
warned and breached by the same scan as every other step.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridcare.auth.principal import SYSTEM, Principal
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.engine import machine
from gridcare.engine.machine import Context
from gridcare.errors import Conflict, InvalidInput, NotFound
from gridcare.models import (
    ArrearsCase,
    Customer,
    Outage,
    OutageCustomer,
    OutageScopeItem,
    OutboxMessage,
    Unit,
)
from gridcare.models.types import utcnow
from gridcare.outages import hooks
from gridcare.outages.notices import HOTLINE, customer_channels
from gridcare.outages.process import ARREARS, ARREARS_ROLES, CASES, OUTAGES
from gridcare.outages.service import NoticeTooLate, context, numbered
from gridcare.workorders import service as orders
from gridcare.workorders.schemas import WorkOrderCreate

OVERDUE = timedelta(days=30)
FIRST_NOTICE_MIN = timedelta(days=3)
FIRST_NOTICE_MAX = timedelta(days=7)
FINAL_NOTICE_MIN = timedelta(minutes=30)


def _yuan(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _claim(ctx: Context, case: ArrearsCase, action: str, note: str | None = None) -> None:
    """Move the case by `action` and write it now, with its version check: of two concurrent actions
    the loser gets 409 before it writes anything else (an outage, a work order, a notice)."""
    machine.move(ctx, CASES, case, action, note=note)
    machine.save(ctx.session, CASES, case)


def get_case(session: Session, principal: Principal, case_id: int, version: int | None = None) -> ArrearsCase:
    case = session.get(ArrearsCase, case_id)
    customer = session.get(Customer, case.customer_id) if case else None
    station = session.get(Unit, customer.station_id) if customer else None
    if case is None or station is None or not principal.covers_path(station.path):
        raise NotFound(f"欠费停电单 {case_id} 不存在")
    if version is not None and case.version != version:
        raise Conflict(f"欠费停电单 {case_id} 已被他人修改，请刷新后重试")
    return case


def open_case(
    session: Session,
    *,
    principal: Principal,
    account_no: str,
    bill_month: str,
    amount_cents: int,
    due_date: datetime,
    now: datetime | None = None,
) -> ArrearsCase:
    principal.require(*ARREARS_ROLES, action="登记欠费")
    customer = session.scalar(
        select(Customer).where(Customer.account_no == account_no, principal.in_scope(Customer.station_id))
    )
    if customer is None:  # another unit's customer answers exactly like a missing one
        raise InvalidInput(
            f"户号 {account_no} 不存在或不在您的权限范围内",
            details=[{"field": "account_no", "reason": "不存在或不在您的权限范围内"}],
        )
    if amount_cents <= 0:
        raise InvalidInput("欠费金额须大于 0", details=[{"field": "amount_cents", "reason": "须大于 0"}])
    now = now or utcnow()
    case = ArrearsCase(
        customer_id=customer.id,
        bill_month=bill_month,
        amount_cents=amount_cents,
        due_date=due_date,
        created_at=now,
    )
    session.add(case)
    session.flush()
    machine.begin(
        context(session, principal, None, now), CASES, case, "open", data={"bill_month": bill_month}
    )
    return case


def send_notice(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    case_id: int,
    final: bool,
    planned_cut: datetime,
    now: datetime | None = None,
) -> OutboxMessage:
    """Queue the disconnection notice (first) or the reminder before the cut (final) to the customer."""
    principal.require(*ARREARS_ROLES, action="发送欠费停电通知")
    now = now or utcnow()
    case = get_case(session, principal, case_id)
    if case.status != "open":
        raise Conflict(f"欠费停电单 {case.id} 当前状态为“{ARREARS.step_name(case.status)}”，不能再发通知")
    if final and case.first_notice_id is None:
        raise Conflict("须先送达停电通知书，再发停电前提醒")
    customer = session.get(Customer, case.customer_id)
    assert customer is not None
    local = planned_cut.astimezone(BEIJING)
    when = f"{local.month}月{local.day}日{local:%H:%M}"
    sign = f"【{settings.notice_signature}】"
    if final:
        subject = "欠费停电提醒"
        text = (
            f"{sign}尊敬的客户（户号{customer.account_no}），您的电费（{case.bill_month}，{_yuan(case.amount_cents)}元）"
            f"仍未结清，将于{when}起停止供电。缴费后24小时内恢复供电。如有疑问请拨打{HOTLINE}。"
        )
    else:
        subject = "停电通知书"
        text = (
            f"{sign}停电通知书：户号{customer.account_no}，{case.bill_month}电费{_yuan(case.amount_cents)}元已逾期，"
            f"请于{when}前缴清，逾期将依法停止供电。如有疑问请拨打{HOTLINE}。"
        )
    channel = customer_channels(settings)[0]
    recipient = customer.phone if channel == "sms" else customer.account_no
    serial = len(
        session.scalars(select(OutboxMessage.id).where(OutboxMessage.key.startswith(f"a{case.id}:"))).all()
    )
    message = OutboxMessage(
        key=f"a{case.id}:{'final' if final else 'first'}:{serial}:{channel}:c{customer.id}",
        channel=channel,
        recipient=recipient or "",
        subject=subject,
        body=text,
        kind="arrears_final" if final else "arrears_first",
        item_kind="arrears",
        item_id=case.id,
        customer_id=customer.id,
        status="pending" if recipient else "failed",
        last_error=None if recipient else "客户无可用联系方式",
        due_at=now,
        created_at=now,
    )
    case_id = case.id
    try:
        session.add(message)
        session.flush()
        if final:
            case.final_notice_id = message.id
        else:
            case.first_notice_id = message.id
            case.final_notice_id = None  # a new first notice restarts the sequence
        machine.record(
            context(session, principal, settings, now),
            CASES,
            case,
            "final_notice" if final else "notice",
            data={"message_id": message.id, "planned_cut": planned_cut.isoformat()},
        )
        session.flush()
    except (IntegrityError, StaleDataError) as exc:  # the same notice sent meanwhile by someone else
        raise Conflict(f"欠费停电单 {case_id} 的通知已由他人同时发送，请刷新后查看") from exc
    return message


def _delivered(session: Session, message_id: int | None) -> datetime | None:
    message = session.get(OutboxMessage, message_id) if message_id else None
    return message.sent_at if message is not None and message.status == "sent" else None


def cut(
    session: Session, *, principal: Principal, case_id: int, version: int, now: datetime | None = None
) -> Outage:
    """Disconnect: only with the bill overdue and both notices delivered in time."""
    principal.require(*ARREARS_ROLES, action="欠费停电")
    now = now or utcnow()
    case = get_case(session, principal, case_id, version)
    ctx = context(session, principal, None, now)
    machine.target(CASES, case, "cut")
    if now - case.due_date <= OVERDUE:
        days = (now - case.due_date).days
        raise NoticeTooLate(f"电费逾期 {days} 天，未超过 30 天，不能停电")
    first = _delivered(session, case.first_notice_id)
    if first is None:
        raise NoticeTooLate("停电通知书尚未送达客户，不能停电")
    if not FIRST_NOTICE_MIN <= now - first <= FIRST_NOTICE_MAX:
        raise NoticeTooLate("停电通知书须在停电前 3 至 7 天送达（当前不在此期间），不能停电")
    final = _delivered(session, case.final_notice_id)
    if final is None or final < first:
        raise NoticeTooLate("停电前提醒尚未送达客户，不能停电")
    if now - final < FINAL_NOTICE_MIN:
        raise NoticeTooLate("停电前提醒须至少提前 30 分钟送达，不能停电")
    customer = session.get(Customer, case.customer_id)
    station = session.get(Unit, customer.station_id) if customer else None
    assert customer is not None
    assert station is not None
    assert station.parent_id is not None
    _claim(ctx, case, "cut")
    outage = numbered(
        session,
        Outage(
            number="",
            kind="arrears",
            status="in_progress",
            title=f"欠费停电 户号{customer.account_no}",
            cause=f"欠费（{case.bill_month}，{_yuan(case.amount_cents)}元）",
            area_text=customer.address,
            county_id=station.parent_id,
            planned_start=now,
            planned_end=now + timedelta(days=30),
            actual_start=now,
            expected_restore_at=now + timedelta(days=30),
            announced_at=first,
            affected_customers=1,
            affected_areas=1,
            created_by_id=principal.user_id or None,
            created_at=now,
            updated_at=now,
        ),
        now,
        [station.id],
    )
    session.execute(
        insert(OutageScopeItem), [{"outage_id": outage.id, "element": "customer", "element_id": customer.id}]
    )
    session.add(
        OutageCustomer(
            outage_id=outage.id,
            customer_id=customer.id,
            transformer_area_id=customer.transformer_area_id,
            is_important=customer.is_important,
        )
    )
    machine.begin(ctx, OUTAGES, outage, "in_progress", data={"arrears_case": case.id})
    case.outage_id = outage.id
    session.flush()
    return outage


def pay(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    case_id: int,
    version: int,
    now: datetime | None = None,
) -> ArrearsCase:
    """The bill is paid: power must be back within 24 hours, tracked as a 欠费复电 work order."""
    principal.require(*ARREARS_ROLES, action="登记缴费")
    now = now or utcnow()
    case = get_case(session, principal, case_id, version)
    ctx = context(session, principal, settings, now)
    if case.status == "open":
        case.paid_at = now
        _claim(ctx, case, "pay", note="停电前结清")  # paid before any cut: nothing to restore
        return case
    customer = session.get(Customer, case.customer_id)
    assert customer is not None
    _claim(ctx, case, "pay")
    created = orders.create(
        session,
        principal=SYSTEM,
        settings=settings,
        data=WorkOrderCreate(
            business_type="service_request",
            category="arrears_reconnect",
            channel="hall",
            content=f"欠费停电客户已缴清电费（{case.bill_month}，{_yuan(case.amount_cents)}元），须在24小时内恢复供电。",
            customer_id=customer.id,
            callback_declined=True,
        ),
        now=now,
    )
    case.paid_at = now
    case.reconnect_order_id = created.order.id
    session.flush()
    return case


def restore(
    session: Session, *, principal: Principal, case_id: int, version: int, now: datetime | None = None
) -> ArrearsCase:
    """Power is back for a paid case: its outage is restored."""
    principal.require(*ARREARS_ROLES, action="欠费复电")
    now = now or utcnow()
    case = get_case(session, principal, case_id, version)
    if case.status == "cut":
        raise Conflict("须先登记缴费，才能复电")
    ctx = context(session, principal, None, now)
    _claim(ctx, case, "restore")
    outage = session.get(Outage, case.outage_id) if case.outage_id else None
    if outage is not None and machine.allows(OUTAGES, outage, "arrears_restored"):
        machine.move(ctx, OUTAGES, outage, "arrears_restored")
        outage.actual_end = now
        machine.save(session, OUTAGES, outage)
        hooks.outage_restored.publish(session, hooks.OutageEvent(outage, ctx))
    case.restored_at = now
    session.flush()
    return case
