"""/api/v1/users and /api/v1/audit-log."""

from __future__ import annotations

from fastapi import APIRouter

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import PrincipalDep, SessionDep
from gridcare.auth.service import clear_failures
from gridcare.paging import Page, PageDep, page_of
from gridcare.params import IdPath, IdQuery
from gridcare.users import service
from gridcare.users.schemas import AuditEntryRead, UserCreate, UserDetail, UserRead

router = APIRouter(prefix="/api/v1", tags=["users 用户"], responses=ERROR_RESPONSES)


@router.get("/users", response_model=Page[UserRead], summary="用户列表（本单位及下级）")
def list_users(
    session: SessionDep, principal: PrincipalDep, paging: PageDep, unit_id: IdQuery = None
) -> Page[UserRead]:
    rows = service.list_users(
        session, principal=principal, unit_id=unit_id, offset=paging.offset, limit=paging.fetch
    )
    return page_of([service.to_read(u, principal) for u in rows], paging)


@router.get("/users/{user_id}", response_model=UserDetail, summary="用户详情（含所管台区、对接村）")
def get_user(user_id: IdPath, session: SessionDep, principal: PrincipalDep) -> UserDetail:
    return service.get_user(session, principal=principal, user_id=user_id)


@router.post("/users", response_model=UserRead, status_code=201, summary="新建用户（系统管理员）")
def create_user(data: UserCreate, session: SessionDep, principal: PrincipalDep) -> UserRead:
    return service.create_user(session, principal=principal, data=data)


@router.post("/users/{user_id}/unlock", summary="解除账号的登录限制（清除失败记录；系统管理员）")
def unlock_user(user_id: IdPath, session: SessionDep, principal: PrincipalDep) -> dict[str, int]:
    return {"cleared": clear_failures(session, principal=principal, user_id=user_id)}


@router.get("/audit-log", response_model=Page[AuditEntryRead], summary="审计日志（管理员、质检）")
def audit_log(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    entity: str | None = None,
    entity_id: str | None = None,
) -> Page[AuditEntryRead]:
    rows = service.list_audit(
        session,
        principal=principal,
        entity=entity,
        entity_id=entity_id,
        offset=paging.offset,
        limit=paging.fetch,
    )
    return page_of(rows, paging)
