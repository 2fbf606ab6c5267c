"""Staff accounts: created by an admin inside the admin's scope; listed within the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridcare.audit.service import record
from gridcare.auth.masking import staff_phone_for
from gridcare.auth.passwords import hash_password
from gridcare.auth.principal import Principal
from gridcare.errors import Conflict, InvalidInput, NotFound
from gridcare.models import AuditEntry, TransformerArea, Unit, User, UserRole, Village
from gridcare.models.enums import Role
from gridcare.users.schemas import AuditEntryRead, UserCreate, UserDetail, UserRead


def to_read(user: User, principal: Principal) -> UserRead:
    read = UserRead.model_validate(user)
    read.phone = staff_phone_for(principal, read.phone)
    return read


def create_user(session: Session, *, principal: Principal, data: UserCreate) -> UserRead:
    principal.require(Role.admin)
    unit = session.scalar(select(Unit).where(Unit.code == data.unit_code))
    if unit is None or not principal.covers_path(unit.path):
        raise InvalidInput(
            f"单位编号 {data.unit_code} 不存在或不在您的管理范围内", details=[{"field": "unit_code"}]
        )
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"用户名 {data.username} 已存在", details=[{"field": "username"}])
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        unit_id=unit.id,
        phone=data.phone,
        role_rows=[UserRole(role=r.value) for r in sorted(set(data.roles))],
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=principal,
        action="create",
        entity="user",
        entity_id=user.id,
        detail={"username": user.username, "unit": unit.code, "roles": user.roles},
    )
    return to_read(user, principal)


def list_users(
    session: Session, *, principal: Principal, unit_id: int | None, offset: int, limit: int
) -> Sequence[User]:
    stmt = select(User).where(principal.in_scope(User.unit_id))
    if unit_id is not None:
        stmt = stmt.where(User.unit_id == unit_id)
    return session.scalars(stmt.order_by(User.id).offset(offset).limit(limit)).all()


def get_user(session: Session, *, principal: Principal, user_id: int) -> UserDetail:
    """A staff member with the 台区 they manage (台区经理) and the villages they liaise for."""
    user = session.scalar(select(User).where(User.id == user_id, principal.in_scope(User.unit_id)))
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在或不在您的权限范围内")
    areas = session.scalars(
        select(TransformerArea.code)
        .where(TransformerArea.manager_user_id == user.id)
        .order_by(TransformerArea.code)
    ).all()
    villages = session.scalars(
        select(Village.code).where(Village.liaison_user_id == user.id).order_by(Village.code)
    ).all()
    return UserDetail(
        **to_read(user, principal).model_dump(),
        managed_area_codes=list(areas),
        liaison_village_codes=list(villages),
    )


def list_audit(
    session: Session,
    *,
    principal: Principal,
    entity: str | None,
    entity_id: str | None,
    offset: int,
    limit: int,
) -> list[AuditEntryRead]:
    principal.require(Role.admin, Role.auditor)
    stmt = select(AuditEntry)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)).all()
    return [
        AuditEntryRead(
            id=r.id,
            at=r.at.isoformat(),
            user_id=r.user_id,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            detail=r.detail,
        )
        for r in rows
    ]


def active_staff_by_unit(session: Session, principal: Principal) -> dict[int, int]:
    """Active accounts per unit in the user's scope (管理 · 单位)."""
    rows = session.execute(
        select(User.unit_id, func.count())
        .where(principal.in_scope(User.unit_id), User.is_active)
        .group_by(User.unit_id)
    ).all()
    return {int(unit): int(n) for unit, n in rows}


def station_staff(session: Session, station_id: int) -> list[tuple[int, str]]:
    """(id, name) of a station's active staff (the 处理人 choices when dispatching)."""
    rows = session.execute(
        select(User.id, User.display_name)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.unit_id == station_id, User.is_active, UserRole.role == Role.station_staff.value)
        .order_by(User.display_name)
    ).all()
    return [(uid, name) for uid, name in rows]
