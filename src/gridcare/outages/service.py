"""Outage events and their notice rules (docs/domain.md §7).

- A planned outage (计划停电) is announced at least 7 days before it starts; a temporary maintenance
  (临时检修) at least 24 hours before, its important customers (重要客户) included. Announcing later
  needs a short-notice request approved by the approver it names (approvals.py). An outage that was
  never announced cannot start, nor start before its notice period has run since the announcement
  (unless short notice was approved), nor before its planned start.
- Who sees and who acts: a user sees an outage that reaches a station in their scope, and acts on it
  only when every station it reaches is theirs (and their role may act). Another unit's outage is
  "not found".
- A fault outage (故障停电) is published the moment it is entered: its notices are queued with it.
- Every change of the expected restoration time, the restoration and a cancellation after the
  announcement (with its reason, confirmed by the user) are notices too. All notices go through the
  outbox, in the same transaction, after the outage's own change has been written with its version
  check (so the loser of two concurrent actions gets 409 and queues nothing).
- The customers affected are computed from the topology when the outage is created and kept with it.

Lifecycle: planned → announced → in_progress → restored → closed (or cancelled before it starts);
a fault: predicted → confirmed → restored → closed (a prediction can be dismissed: cancelled).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING
from gridcare.config import Settings, get_settings
from gridcare.engine import machine
from gridcare.engine.machine import Context
from gridcare.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from gridcare.models import Outage, OutageApproval, OutageStation, OutageTimeChange, Unit
from gridcare.models.types import utcnow
from gridcare.outages import approvals, frequent, hooks, notices, repository
from gridcare.outages.process import EDIT_ROLES, NO_MOVE_STATES, OUTAGE, OUTAGES
from gridcare.outages.schemas import KIND_NAMES, STATUS_NAMES, OutageCreate, OutageScope

PLANNED_NOTICE = timedelta(days=7)
TEMPORARY_NOTICE = timedelta(hours=24)
MOMENTARY = timedelta(minutes=3)  # China: an interruption of 3 minutes or less is momentary


class NoticeTooLate(Conflict):
    code = "notice_too_late"


class OutageStateError(Conflict):
    code = "outage_state"


def _check_version(outage: Outage, version: int) -> None:
    if outage.version != version:
        raise Conflict(
            f"停电事件 {outage.number} 已被他人修改（版本 {outage.version}，您提交的是 {version}），请刷新后重试"
        )


def _require_state(outage: Outage, action: str) -> None:
    """The process allows `action` from the outage's state (a move, or one of the actions that need
    no move in the states NO_MOVE_STATES names)."""
    allowed = NO_MOVE_STATES.get(action)
    allowed_now = machine.allows(OUTAGES, outage, action) if allowed is None else outage.status in allowed
    if not allowed_now:
        raise OutageStateError(
            f"停电事件 {outage.number} 当前状态为“{STATUS_NAMES[outage.status]}”，不能{OUTAGE.label_of(action)}"
        )


def context(session: Session, principal: Principal, settings: Settings | None, now: datetime) -> Context:
    return Context(session=session, actor=principal, settings=settings or get_settings(), now=now)


def get(session: Session, *, principal: Principal, outage_id: int) -> Outage:
    """An outage the user may see: one that reaches a station in their scope."""
    outage = session.scalar(select(Outage).where(Outage.id == outage_id, repository.visible(principal)))
    if outage is None:
        raise NotFound(f"停电事件 {outage_id} 不存在或不在您的权限范围内")
    return outage


def owns(session: Session, principal: Principal, outage: Outage) -> bool:
    """Every station the outage reaches is in the user's scope (they may act on it)."""
    if principal.covers_all:
        return True
    stations = set(
        session.scalars(select(OutageStation.station_id).where(OutageStation.outage_id == outage.id))
    )
    return bool(stations) and stations <= set(principal.scope_unit_ids or ())


def may_act(session: Session, principal: Principal, outage: Outage) -> bool:
    return principal.has_any(*EDIT_ROLES) and owns(session, principal, outage)


def _check_scope(session: Session, principal: Principal, stations: list[int]) -> None:
    if principal.covers_all:
        return
    paths: dict[int, str] = dict(
        session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(stations))).all()
    )
    outside = [s for s in stations if not principal.covers_path(paths.get(s, ""))]
    if outside:
        raise PermissionDenied("停电范围含不在您管辖范围内的台区")


def load_for(session: Session, principal: Principal, outage_id: int, version: int, action: str) -> Outage:
    """The outage for an action of the process (process.py): the role, the scope (every station it
    reaches is the user's), the version read and the state it needs."""
    label = OUTAGE.label_of(action)
    principal.require(*EDIT_ROLES, action=label)
    outage = get(session, principal=principal, outage_id=outage_id)
    if not owns(session, principal, outage):
        raise PermissionDenied(f"停电事件 {outage.number} 涉及您管辖范围以外的供电所，只能由上级单位{label}")
    _check_version(outage, version)
    _require_state(outage, action)
    return outage


def save(session: Session, outage: Outage) -> Outage:
    """Write the outage's change now, with its version check: a concurrent action that won makes this
    one a 409, before any notice is queued."""
    number = outage.number  # read now: a failed flush expires the object
    outage.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"停电事件 {number} 已被他人修改，请刷新后重试") from exc
    return outage


def numbered(session: Session, outage: Outage, now: datetime, stations: list[int]) -> Outage:
    """Save a new outage with the stations it reaches and give it its number (TD + Beijing date + id)."""
    session.add(outage)
    session.flush()
    outage.number = f"TD{now.astimezone(BEIJING):%Y%m%d}{outage.id:06d}"
    session.execute(
        insert(OutageStation), [{"outage_id": outage.id, "station_id": s} for s in sorted(set(stations))]
    )
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
    missing = repository.missing_elements(session, principal, scope)
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


def notice_period(outage: Outage) -> timedelta | None:
    return {"planned": PLANNED_NOTICE, "temporary": TEMPORARY_NOTICE}.get(outage.kind)


def _check_notice(session: Session, outage: Outage, now: datetime) -> None:
    """The notice period of planned and temporary outages; shorter only with an approved request."""
    needed = notice_period(outage)
    if needed is None or outage.planned_start - now >= needed:
        return
    approval = approvals.approved_for(session, outage)
    if approval is None:
        hours = max((outage.planned_start - now).total_seconds() / 3600, 0)
        limit = "7 天" if outage.kind == "planned" else "24 小时"
        pending = approvals.latest(session, outage.id)
        waiting = (
            "（不足通知期限申请正在等待审批）" if pending is not None and pending.status == "pending" else ""
        )
        raise NoticeTooLate(
            f"{KIND_NAMES[outage.kind]}须提前 {limit}通知客户，距停电开始仅 {hours:.0f} 小时："
            f"如确需发布，请先提交不足通知期限申请并经批准{waiting}"
        )
    outage.short_notice_reason = approval.reason
    outage.short_notice_approver_id = approval.approver_id


def request_short_notice(
    session: Session,
    *,
    principal: Principal,
    outage_id: int,
    approver_id: int,
    reason: str,
    now: datetime | None = None,
) -> OutageApproval:
    """Ask for approval to announce with less than the notice period (only while it is planned)."""
    outage = get(session, principal=principal, outage_id=outage_id)
    principal.require(*EDIT_ROLES, action="申请不足通知期限发布")
    if not owns(session, principal, outage):
        raise PermissionDenied(f"停电事件 {outage.number} 涉及您管辖范围以外的供电所，只能由上级单位申请")
    _require_state(outage, "short_notice")
    if notice_period(outage) is None:
        raise InvalidInput(f"{KIND_NAMES[outage.kind]}没有通知期限，无需审批")
    return approvals.request(
        session, principal=principal, outage=outage, approver_id=approver_id, reason=reason, now=now
    )


def create(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    data: OutageCreate,
    now: datetime | None = None,
    predicted: bool = False,
    analysis: str | None = None,
) -> Outage:
    """Save an outage with the customers it affects now. A fault is published at once, unless it is
    only predicted (trouble-call analysis, `analysis` saying why): then it waits for a dispatcher to
    confirm it with the cause customers will read."""
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
        analysis=analysis,
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
    numbered(session, outage, now, stations)
    repository.save_scope(session, outage.id, data.scope)
    outage.affected_customers, outage.affected_areas = repository.save_affected(
        session, outage.id, data.scope
    )
    if data.kind == "fault":
        outage.actual_start = data.planned_start
    ctx = context(session, principal, settings, now)
    machine.begin(ctx, OUTAGES, outage, outage.status, data={"analysis": analysis} if analysis else None)
    if data.kind == "fault" and not predicted:
        outage.announced_at = now
        notices.queue(session, outage, "fault", settings, now=now)
        hooks.outage_announced.publish(session, hooks.OutageEvent(outage, ctx))
    session.flush()
    return outage


def announce(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    outage_id: int,
    version: int,
    now: datetime | None = None,
) -> Outage:
    """Publish a planned outage: its notices go to every affected customer and village liaison.
    Within the notice period only with an approved short-notice request."""
    now = now or utcnow()
    outage = load_for(session, principal, outage_id, version, "announce")
    if outage.planned_start <= now:
        raise NoticeTooLate(f"停电事件 {outage.number} 的计划停电时间已过，不能再发布：请取消后重新计划")
    _check_notice(session, outage, now)
    ctx = context(session, principal, settings, now)
    machine.move(ctx, OUTAGES, outage, "announce")
    outage.announced_at = now
    save(session, outage)
    notices.queue(session, outage, "announce", settings, now=now)
    hooks.outage_announced.publish(session, hooks.OutageEvent(outage, ctx))
    session.flush()
    return outage


def start(
    session: Session,
    *,
    principal: Principal,
    outage_id: int,
    version: int,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> Outage:
    """The power goes off: only once announced, once the notice period has run since the announcement
    (unless short notice was approved), and not before the planned start the customers were told."""
    now = now or utcnow()
    outage = get(session, principal=principal, outage_id=outage_id)
    if outage.status == "planned":
        raise NoticeTooLate(f"停电事件 {outage.number} 尚未发布停电通知，不能停电")
    outage = load_for(session, principal, outage_id, version, "start")
    needed = notice_period(outage)
    announced = outage.announced_at or now
    if needed is not None and now - announced < needed and approvals.approved_for(session, outage) is None:
        earliest = (announced + needed).astimezone(BEIJING)
        limit = "7 天" if outage.kind == "planned" else "24 小时"
        raise NoticeTooLate(
            f"{KIND_NAMES[outage.kind]}须在通知发布满 {limit}后才能停电（通知于 "
            f"{announced.astimezone(BEIJING):%m-%d %H:%M} 发布，最早 {earliest:%m-%d %H:%M}）"
        )
    if now < outage.planned_start:
        raise NoticeTooLate(
            f"停电事件 {outage.number} 通知的停电时间为 {outage.planned_start.astimezone(BEIJING):%m-%d %H:%M}，"
            "不能提前停电"
        )
    machine.move(context(session, principal, settings, now), OUTAGES, outage, "start")
    outage.actual_start = now
    return save(session, outage)


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
    outage = load_for(session, principal, outage_id, version, "restore_time")
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
    outage.expected_restore_at = expected_restore_at
    machine.record(
        context(session, principal, settings, now),
        OUTAGES,
        outage,
        "restore_time",
        note=reason,
        data={"previous": previous.isoformat() if previous else None, "new": expected_restore_at.isoformat()},
    )
    save(session, outage)
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
    outage = load_for(session, principal, outage_id, version, "restore")
    ctx = context(session, principal, settings, now)
    machine.move(ctx, OUTAGES, outage, "restore")
    outage.actual_start = outage.actual_start or outage.planned_start
    outage.actual_end = now
    outage.momentary = now - outage.actual_start <= MOMENTARY
    save(session, outage)
    notices.queue(session, outage, "restored", settings, now=now)
    hooks.outage_restored.publish(session, hooks.OutageEvent(outage, ctx))
    session.flush()
    return outage


def close(
    session: Session,
    *,
    principal: Principal,
    outage_id: int,
    version: int,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> Outage:
    outage = load_for(session, principal, outage_id, version, "close")
    machine.move(context(session, principal, settings, now or utcnow()), OUTAGES, outage, "close")
    return save(session, outage)


def cancel(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    outage_id: int,
    version: int,
    reason: str,
    confirmed: bool,
    now: datetime | None = None,
) -> Outage:
    """Called off before the power went off, with its reason. After the announcement every household
    is told again, so the user must confirm that (`confirmed`)."""
    now = now or utcnow()
    outage = load_for(session, principal, outage_id, version, "cancel")
    reason = reason.strip()
    if len(reason) < 2:
        raise InvalidInput("请写明取消的原因", details=[{"field": "reason", "reason": "必填"}])
    was_announced = outage.status == "announced"
    was_predicted = outage.status == "predicted"
    if was_announced and not confirmed:
        raise InvalidInput(
            f"停电 {outage.number} 已发布，取消将通知全部 {outage.affected_customers} 户客户：请确认后再提交",
            details=[{"field": "confirm", "reason": "须确认"}],
        )
    ctx = context(session, principal, settings, now)
    machine.move(ctx, OUTAGES, outage, "cancel", note=reason)
    outage.cancel_reason = reason
    save(session, outage)
    if was_announced:
        notices.queue(session, outage, "cancelled", settings, now=now, reason=reason)
    if was_predicted:
        hooks.outage_dismissed.publish(session, hooks.OutageEvent(outage, ctx))
    session.flush()
    return outage
