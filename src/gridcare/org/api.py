"""GET /api/v1/units and /api/v1/villages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import PrincipalDep, SessionDep
from gridcare.errors import NotFound
from gridcare.org import repository
from gridcare.org.schemas import UnitRead, VillageRead
from gridcare.paging import Page, PageDep, page_of
from gridcare.params import IdPath, IdQuery

router = APIRouter(prefix="/api/v1", tags=["org 组织"], responses=ERROR_RESPONSES)


@router.get("/units", response_model=list[UnitRead], summary="单位列表（本单位及下级）")
def list_units(
    session: SessionDep,
    principal: PrincipalDep,
    kind: Annotated[str | None, Query(description="city / county / station")] = None,
) -> list[UnitRead]:
    units = repository.list_units(session, principal=principal, kind=kind)
    return [UnitRead.model_validate(u) for u in units]


@router.get("/units/{unit_id}", response_model=UnitRead, summary="单位详情")
def get_unit(unit_id: IdPath, session: SessionDep, principal: PrincipalDep) -> UnitRead:
    unit = repository.get_unit(session, principal=principal, unit_id=unit_id)
    if unit is None:
        raise NotFound(f"单位 {unit_id} 不存在或不在您的权限范围内")
    return UnitRead.model_validate(unit)


@router.get("/villages", response_model=Page[VillageRead], summary="村/社区列表")
def list_villages(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    station_id: IdQuery = None,
    q: Annotated[str | None, Query(description="名称片段")] = None,
) -> Page[VillageRead]:
    rows = repository.list_villages(
        session,
        principal=principal,
        station_id=station_id,
        q=q,
        offset=paging.offset,
        limit=paging.fetch,
    )
    return page_of([VillageRead.model_validate(v) for v in rows], paging)
