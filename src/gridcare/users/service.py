"""Staff accounts: created by an admin inside the admin's scope; listed within the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridcare.audit.service import record
from gridcare.auth.masking import mask_phone
from gridcare.auth.passwords import hash_password
from gridcare.auth.principal import Principal
from gridcare.errors import Conflict, InvalidInput, NotFound
from gridcare.models import AuditEntry, TransformerArea, Unit, User, UserRole, Village
from gridcare.models.enums import Role
from gridcare.users.schemas import AuditEntryRead, UserCreate, UserDetail, UserRead


def to_read(user: User, principal: Principal) -> UserRead:
    read = UserRead.model_validate(user)
    if not principal.sees_phones and not principal.has_any(Role.admin):
        read.phone = mask_phone(read.phone)
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
