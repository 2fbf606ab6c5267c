"""/api/v1/catalogs/{kind}: read by everyone signed in; edited by admins."""

from __future__ import annotations

from fastapi import APIRouter

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import PrincipalDep, SessionDep
from gridcare.catalogs import service
from gridcare.catalogs.service import CatalogItemCreate, CatalogItemRead, CatalogItemUpdate

router = APIRouter(prefix="/api/v1/catalogs", tags=["catalogs 目录"], responses=ERROR_RESPONSES)


@router.get("", summary="目录种类")
def kinds(_: PrincipalDep) -> dict[str, str]:
    return service.KINDS


@router.get("/{kind}", response_model=list[CatalogItemRead], summary="目录条目（投诉分类含三级树）")
def list_items(
    kind: str, session: SessionDep, _: PrincipalDep, include_inactive: bool = False
) -> list[CatalogItemRead]:
    return [
        CatalogItemRead.model_validate(i)
        for i in service.list_items(session, kind=kind, include_inactive=include_inactive)
    ]


@router.post("/{kind}", response_model=CatalogItemRead, status_code=201, summary="新增条目（系统管理员）")
def add_item(
    kind: str, data: CatalogItemCreate, session: SessionDep, principal: PrincipalDep
) -> CatalogItemRead:
    return CatalogItemRead.model_validate(
        service.add_item(session, principal=principal, kind=kind, data=data)
    )


@router.patch("/{kind}/{code}", response_model=CatalogItemRead, summary="改名、停用或排序（系统管理员）")
def update_item(
    kind: str, code: str, data: CatalogItemUpdate, session: SessionDep, principal: PrincipalDep
) -> CatalogItemRead:
    return CatalogItemRead.model_validate(
        service.update_item(session, principal=principal, kind=kind, code=code, data=data)
    )
