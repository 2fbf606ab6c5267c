"""Outage events and their notice rules (DOMAIN.md §7).

- A planned outage (计划停电) is announced at least 7 days before it starts; a temporary maintenance
  (临时检修) at least 24 hours before, its important customers (重要客户) included. Announcing later is
  refused unless a reason and an approver (a manager or admin other than the one announcing) are
  recorded with it. An outage that was never announced cannot start.
- A fault outage (故障停电) is published the moment it is entered: its notices are queued with it.
- Every change of the expected restoration time, the restoration and a cancellation after the
  announcement are notices too. All notices go through the outbox, in the same transaction.
- The customers affected are computed from the topology when the outage is created and kept with it.

Lifecycle: planned → announced → in_progress → restored → closed (or cancelled before it starts);
a fault: predicted → confirmed → restored → closed (a prediction can be dismissed: cancelled).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from gridcare.models import Outage, OutageTimeChange, Unit, User, UserRole
from gridcare.models.enums import Role
from gridcare.models.types import utcnow
from gridcare.outages import attach, frequent, notices, repository
from gridcare.outages.schemas import KIND_NAMES, STATUS_NAMES, AnnounceBody, OutageCreate, OutageScope

PLANNED_NOTICE = timedelta(days=7)
TEMPORARY_NOTICE = timedelta(hours=24)
MOMENTARY = timedelta(minutes=3)  # China: an interruption of 3 minutes or less is momentary
EDIT_ROLES = (Role.dispatcher, Role.station_staff, Role.manager, Role.admin)
APPROVER_ROLES = (Role.manager, Role.admin)


class NoticeTooLate(Conflict):
    code = "notice_too_late"


class OutageStateError(Conflict):
    code = "outage_state"


def _check_version(outage: Outage, version: int) -> None:
    if outage.version != version:
        raise Conflict(
            f"停电事件 {outage.number} 已被他人修改（版本 {outage.version}，您提交的是 {version}），请刷新后重试"
        )


def _require_status(outage: Outage, allowed: tuple[str, ...], action: str) -> None:
    if outage.status not in allowed:
        raise OutageStateError(
            f"停电事件 {outage.number} 当前状态为“{STATUS_NAMES[outage.status]}”，不能{action}"
        )


def get(session: Session, *, principal: Principal, outage_id: int) -> Outage:
    """An outage the user may see: one of their county's (a station sees its county's outages, which
    reach its customers)."""
    outage = session.get(Outage, outage_id)
    county = session.get(Unit, outage.county_id) if outage else None
    if outage is None or county is None:
        raise NotFound(f"停电事件 {outage_id} 不存在")
    if not (
        principal.covers_all
        or principal.covers_path(county.path)
        or principal.unit_path.startswith(county.path)
    ):
        raise NotFound(f"停电事件 {outage_id} 不存在")
    return outage


def _check_scope(session: Session, principal: Principal, stations: list[int]) -> None:
    if principal.covers_all:
        return
    paths: dict[int, str] = dict(
        session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(stations))).all()
    )
    outside = [s for s in stations if not principal.covers_path(paths.get(s, ""))]
    if outside:
        raise PermissionDenied("停电范围含不在您管辖范围内的台区")


def load_for(
    session: Session,
    principal: Principal,
    outage_id: int,
    version: int,
    allowed: tuple[str, ...],
    action: str,
) -> Outage:
    """The outage for an action: the role, the scope, the version read and the state it needs."""
    principal.require(*EDIT_ROLES, action=action)
    outage = get(session, principal=principal, outage_id=outage_id)
    _check_version(outage, version)
    _require_status(outage, allowed, action)
    return outage


def numbered(session: Session, outage: Outage, now: datetime) -> Outage:
    """Save a new outage and give it its number (TD + Beijing date + id)."""
    session.add(outage)
    session.flush()
    outage.number = f"TD{now.astimezone(BEIJING):%Y%m%d}{outage.id:06d}"
    return outage


def _area_text(villages: list[str], areas: int) -> str:
    """What notices call the area: its villages (communities), or the number of 台区 when unnamed."""
    if not villages:
        return f"{areas}个台区"
    if len(villages) > 5:
        return "、".join(villages[:5]) + "等村（社区）"
    return "、".join(villages)


def _reach(session: Session, principal: Principal, scope: OutageScope) -> tuple[dict[str, object], list[int]]:
    """A scope's 台区, customers, important customers and area text, and its stations; refused when
    an element does not exist or a station is outside the user's scope."""
    missing = repository.missing_elements(session, scope)
    if missing:
        raise InvalidInput("停电范围中有不存在的设备", details=missing)
    areas, customers, important, stations, villages = repository.area_summary(session, scope)
    _check_scope(session, principal, stations)
    summary: dict[str, object] = {
        "transformer_areas": areas,
        "customers": customers,
        "important_customers": important,
        "area_text": _area_text(villages, areas),
    }
    return summary, stations


def preview(
    session: Session, *, principal: Principal, scope: OutageScope, now: datetime | None = None
) -> dict[str, object]:
    """What an outage on `scope` would reach, before it is saved (the planning page shows it)."""
    summary, _ = _reach(session, principal, scope)
    return {
        **summary,
        # 一停多用: customers of this scope already out in the last 60 days (bundle the work).
        "recently_out": frequent.recently_out(session, area_ids=repository.areas_below(scope), now=now),
    }


def _approver(session: Session, principal: Principal, approver_id: int | None, reason: str | None) -> int:
    if not reason or not reason.strip():
        raise InvalidInput(
            "不足通知期限发布须填写原因", details=[{"field": "short_notice_reason", "reason": "必填"}]
        )
    if approver_id is None:
        raise InvalidInput(
            "不足通知期限发布须指定批准人", details=[{"field": "short_notice_approver_id", "reason": "必填"}]
        )
    user = session.get(User, approver_id)
    roles = set(session.scalars(select(UserRole.role).where(UserRole.user_id == approver_id)))
    if user is None or not user.is_active or not roles & {r.value for r in APPROVER_ROLES}:
        raise InvalidInput(
            "批准人须为在职的管理人员或系统管理员",
            details=[{"field": "short_notice_approver_id", "reason": "不是有效的批准人"}],
        )
    if approver_id == principal.user_id:
        raise InvalidInput(
            "批准人不能是发布人本人",
            details=[{"field": "short_notice_approver_id", "reason": "须由他人批准"}],
        )
    return approver_id


def _check_notice(
    session: Session,
    principal: Principal,
    outage: Outage,
    now: datetime,
    reason: str | None,
    approver_id: int | None,
) -> None:
    """The notice period of planned and temporary outages; short notice needs a reason and an approver."""
    needed = {"planned": PLANNED_NOTICE, "temporary": TEMPORARY_NOTICE}.get(outage.kind)
    if needed is None or outage.planned_start - now >= needed:
        return
    if not reason and approver_id is None:
        ahead = outage.planned_start - now
        hours = max(ahead.total_seconds() / 3600, 0)
        limit = "7 天" if outage.kind == "planned" else "24 小时"
        raise NoticeTooLate(
            f"{KIND_NAMES[outage.kind]}须提前 {limit}通知客户，距停电开始仅 {hours:.0f} 小时："
            "如确需发布，请填写原因并由管理人员批准"
        )
    outage.short_notice_approver_id = _approver(session, principal, approver_id, reason)
    outage.short_notice_reason = reason


def create(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    data: OutageCreate,
    now: datetime | None = None,
    predicted: bool = False,
) -> Outage:
    """Save an outage with the customers it affects now. A fault is published at once, unless it is
    only predicted (trouble-call analysis): then it waits for a dispatcher to confirm it."""
    principal.require(*EDIT_ROLES, action="登记停电")
    now = now or utcnow()
    summary, stations = _reach(session, principal, data.scope)
    if summary["customers"] == 0:
        raise InvalidInput("停电范围内没有客户", details=[{"field": "scope", "reason": "范围内无客户"}])
    county = repository.county_of(session, sorted(stations))
    assert county is not None
    outage = Outage(
        number="",
        kind=data.kind,
        status=("predicted" if predicted else "confirmed") if data.kind == "fault" else "planned",
        title=data.title,
        cause=data.cause,
        cause_class=data.cause_class,
        area_text=data.area_text or str(summary["area_text"]),
        county_id=county,
        planned_start=data.planned_start,
        planned_end=data.planned_end,
        expected_restore_at=data.planned_end,
        created_by_id=principal.user_id or None,
        created_at=now,
        updated_at=now,
    )
    numbered(session, outage, now)
    repository.save_scope(session, outage.id, data.scope)
    outage.affected_customers, outage.affected_areas = repository.save_affected(
        session, outage.id, data.scope
    )
    if data.kind == "fault":
        outage.actual_start = data.planned_start
    if data.kind == "fault" and not predicted:
        outage.announced_at = now
        notices.queue(session, outage, "fault", settings, now=now)
    elif data.short_notice_reason or data.short_notice_approver_id:
        outage.short_notice_reason = data.short_notice_reason
        outage.short_notice_approver_id = data.short_notice_approver_id
    session.flush()
    return outage


def announce(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    outage_id: int,
    body: AnnounceBody,
    now: datetime | None = None,
) -> Outage:
    """Publish a planned outage: its notices go to every affected customer and village liaison."""
    now = now or utcnow()
    outage = load_for(session, principal, outage_id, body.version, ("planned",), "发布停电通知")
    _check_notice(
        session,
        principal,
        outage,
        now,
        body.short_notice_reason or outage.short_notice_reason,
        body.short_notice_approver_id or outage.short_notice_approver_id,
    )
    outage.status = "announced"
    outage.announced_at = now
    notices.queue(session, outage, "announce", settings, now=now)
    session.flush()
    return outage


def start(
    session: Session, *, principal: Principal, outage_id: int, version: int, now: datetime | None = None
) -> Outage:
    """The power goes off. Refused for an outage that was never announced."""
    now = now or utcnow()
    outage = get(session, principal=principal, outage_id=outage_id)
    if outage.status == "planned":
        raise NoticeTooLate(f"停电事件 {outage.number} 尚未发布停电通知，不能停电")
    outage = load_for(session, principal, outage_id, version, ("announced",), "开始停电")
    outage.status = "in_progress"
    outage.actual_start = now
    session.flush()
    return outage


def change_restore_time(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    outage_id: int,
    version: int,
    expected_restore_at: datetime,
    reason: str,
    now: datetime | None = None,
) -> Outage:
    """A new expected restoration time, kept in the history and announced to the affected customers."""
    now = now or utcnow()
    outage = load_for(
        session, principal, outage_id, version, ("announced", "confirmed", "in_progress"), "调整预计复电时间"
    )
    if expected_restore_at.tzinfo is None:
        raise InvalidInput(
            "预计复电时间须带时区", details=[{"field": "expected_restore_at", "reason": "缺少时区"}]
        )
    if expected_restore_at <= (outage.actual_start or outage.planned_start):
        raise InvalidInput(
            "预计复电时间须晚于停电开始时间",
            details=[{"field": "expected_restore_at", "reason": "早于停电开始"}],
        )
    previous = outage.expected_restore_at
    serial = (
        len(session.scalars(select(OutageTimeChange.id).where(OutageTimeChange.outage_id == outage.id)).all())
        + 1
    )
    session.add(
        OutageTimeChange(
            outage_id=outage.id,
            previous=previous,
            new=expected_restore_at,
            reason=reason,
            by_user_id=principal.user_id or None,
            at=now,
        )
    )
    outage.expected_restore_at = expected_restore_at
    notices.queue(
        session, outage, "restore_time", settings, now=now, serial=serial, previous=previous, reason=reason
    )
    session.flush()
    return outage


def restore(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    outage_id: int,
    version: int,
    now: datetime | None = None,
) -> Outage:
    """Power is back: the customers are told."""
    now = now or utcnow()
    outage = load_for(session, principal, outage_id, version, ("in_progress", "confirmed"), "登记复电")
    outage.status = "restored"
    outage.actual_start = outage.actual_start or outage.planned_start
    outage.actual_end = now
    outage.momentary = now - outage.actual_start <= MOMENTARY
    notices.queue(session, outage, "restored", settings, now=now)
    attach.release_on_restore(session, outage, principal=principal, settings=settings, now=now)
    session.flush()
    return outage


def close(session: Session, *, principal: Principal, outage_id: int, version: int) -> Outage:
    outage = load_for(session, principal, outage_id, version, ("restored",), "归档停电事件")
    outage.status = "closed"
    session.flush()
    return outage


def cancel(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    outage_id: int,
    version: int,
    now: datetime | None = None,
) -> Outage:
    """Called off before the power went off; customers already told are told again."""
    now = now or utcnow()
    outage = load_for(
        session, principal, outage_id, version, ("planned", "announced", "predicted"), "取消停电"
    )
    was_announced = outage.status == "announced"
    was_predicted = outage.status == "predicted"
    outage.status = "cancelled"
    if was_announced:
        notices.queue(session, outage, "cancelled", settings, now=now)
    if was_predicted:
        attach.release_on_dismiss(session, outage, principal=principal, settings=settings, now=now)
    session.flush()
    return outage
