"""Short-notice approval (不足通知期限审批): a real request and decision, not a name typed into a form.

Who may announce an outage with less than its notice period (docs/domain.md §7: planned 7 days, temporary
maintenance 24 hours): the one who asks names an approver, who decides in their workbench or the API.

- The approver is an active manager or admin at the requester's unit or above it, whose scope covers
  every station the outage reaches, and not the requester (`candidates` is the one list the service,
  the pages and the API use).
- The request is told to the approver (a notification with a link to the outage); the decision is
  told to the requester.
- Only an approved request for the outage's current planned start lets it be announced, and waives
  the notice period at the start. A new request withdraws the pending one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.auth.service import principal_for
from gridcare.calendar import BEIJING
from gridcare.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from gridcare.inbox import service as inbox
from gridcare.models import Outage, OutageApproval, OutageStation, Unit, User, UserRole
from gridcare.models.enums import Role
from gridcare.models.types import utcnow

APPROVER_ROLES = (Role.manager, Role.admin)
STATUS_NAMES = {"pending": "待审批", "approved": "已批准", "refused": "未批准", "withdrawn": "已撤回"}


def _ancestor_paths(path: str) -> list[str]:
    """ "/1/4/17/" → ["/1/", "/1/4/", "/1/4/17/"]: the unit and every unit above it."""
    ids = [p for p in path.split("/") if p]
    return ["/" + "/".join(ids[: i + 1]) + "/" for i in range(len(ids))]


def candidates(session: Session, *, outage: Outage, requester: Principal) -> list[tuple[int, str]]:
    """(user id, "name（unit）") of everyone who may approve short notice for this outage asked by
    `requester`, nearest unit first."""
    station_paths = list(
        session.scalars(
            select(Unit.path)
            .join(OutageStation, OutageStation.station_id == Unit.id)
            .where(OutageStation.outage_id == outage.id)
        )
    )
    chain = _ancestor_paths(requester.unit_path) if requester.unit_path != "/" else []
    rows = session.execute(
        select(User.id, User.display_name + "（" + Unit.name + "）", Unit.path)
        .join(Unit, Unit.id == User.unit_id)
        .where(
            User.is_active,
            User.id != requester.user_id,
            Unit.path.in_(chain),
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_([r.value for r in APPROVER_ROLES]))),
        )
        .order_by(func.length(Unit.path).desc(), User.display_name)
    ).all()
    return [
        (user_id, name)
        for user_id, name, path in rows
        if all(station.startswith(path) for station in station_paths)
    ]


def latest(session: Session, outage_id: int) -> OutageApproval | None:
    return session.scalar(
        select(OutageApproval)
        .where(OutageApproval.outage_id == outage_id)
        .order_by(OutageApproval.id.desc())
        .limit(1)
    )


def approved_for(session: Session, outage: Outage) -> OutageApproval | None:
    """The approved request covering the outage's current planned start, if any."""
    found = latest(session, outage.id)
    if found is not None and found.status == "approved" and found.planned_start == outage.planned_start:
        return found
    return None


def request(
    session: Session,
    *,
    principal: Principal,
    outage: Outage,
    approver_id: int,
    reason: str,
    now: datetime | None = None,
) -> OutageApproval:
    """Ask `approver_id` to approve announcing `outage` at short notice (the caller checked the role,
    the scope and the state)."""
    now = now or utcnow()
    reason = reason.strip()
    if len(reason) < 2:
        raise InvalidInput("请写明不足通知期限发布的原因", details=[{"field": "reason", "reason": "必填"}])
    if approver_id == principal.user_id:
        raise InvalidInput(
            "批准人不能是申请人本人", details=[{"field": "approver_id", "reason": "须由他人批准"}]
        )
    if approver_id not in {uid for uid, _ in candidates(session, outage=outage, requester=principal)}:
        raise InvalidInput(
            "批准人须为本单位或上级单位在职的管理人员或系统管理员，且管辖该停电涉及的全部供电所",
            details=[{"field": "approver_id", "reason": "不是有效的批准人"}],
        )
    session.execute(
        update(OutageApproval)
        .where(OutageApproval.outage_id == outage.id, OutageApproval.status == "pending")
        .values(status="withdrawn", decided_at=now)
    )
    approval = OutageApproval(
        outage_id=outage.id,
        requested_by_id=principal.user_id or None,
        approver_id=approver_id,
        reason=reason,
        planned_start=outage.planned_start,
        status="pending",
        requested_at=now,
    )
    session.add(approval)
    inbox.notify(
        session,
        user_id=approver_id,
        kind="approval",
        link=f"/outages/{outage.id}",
        message=(
            f"{principal.display_name or principal.username} 申请不足通知期限发布停电 {outage.number}"
            f"（{outage.planned_start.astimezone(BEIJING):%m-%d %H:%M} 开始）：{reason}，请审批"
        ),
        now=now,
    )
    session.flush()
    return approval


def decide(
    session: Session,
    *,
    principal: Principal,
    approval_id: int,
    approve: bool,
    note: str | None,
    now: datetime | None = None,
) -> OutageApproval:
    """The named approver approves or refuses; the requester is told."""
    now = now or utcnow()
    approval = session.get(OutageApproval, approval_id)
    if approval is None or approval.approver_id != principal.user_id:
        raise NotFound(f"审批申请 {approval_id} 不存在或不是由您审批")
    if approval.status != "pending":
        raise Conflict(f"该申请已{STATUS_NAMES[approval.status]}，不能再审批")
    if not approve and not (note or "").strip():
        raise InvalidInput("不批准时请写明意见", details=[{"field": "note", "reason": "必填"}])
    outage = session.get(Outage, approval.outage_id)
    assert outage is not None
    if approve and approval.requested_by_id:  # still an approver for this request (roles, unit, scope)?
        requester = principal_for(session, approval.requested_by_id)
        if principal.user_id not in {
            uid for uid, _ in candidates(session, outage=outage, requester=requester)
        }:
            raise PermissionDenied("您已不再是该申请的有效批准人（角色或单位已变更），请由申请人另选批准人")
    if approve and outage.planned_start != approval.planned_start:
        raise Conflict("停电计划时间已改变，该申请已不适用，请由申请人重新申请")
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(OutageApproval)
        .where(OutageApproval.id == approval.id, OutageApproval.status == "pending")
        .values(status="approved" if approve else "refused", decision_note=note, decided_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if not result.rowcount:  # decided (or withdrawn) meanwhile by another request
        raise Conflict("该申请已被处理，请刷新后查看")
    if approval.requested_by_id:
        verdict = "已批准" if approve else f"未批准（{note}）"
        inbox.notify(
            session,
            user_id=approval.requested_by_id,
            kind="approval_decided",
            link=f"/outages/{outage.id}",
            message=f"停电 {outage.number} 不足通知期限发布申请{verdict}",
            now=now,
        )
    session.flush()
    session.refresh(approval)
    return approval


def pending_for(session: Session, *, principal: Principal) -> list[tuple[OutageApproval, Outage]]:
    """Requests waiting for this user's decision (their workbench)."""
    return [
        (a, o)
        for a, o in session.execute(
            select(OutageApproval, Outage)
            .join(Outage, Outage.id == OutageApproval.outage_id)
            .where(OutageApproval.approver_id == principal.user_id, OutageApproval.status == "pending")
            .order_by(OutageApproval.requested_at)
        )
    ]
