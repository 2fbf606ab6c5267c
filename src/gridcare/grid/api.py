"""GET /api/v1/substations, /feeders, /branch-switches, /transformer-areas (台区)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import PrincipalDep, SessionDep
from gridcare.errors import NotFound
from gridcare.grid import repository
from gridcare.grid.schemas import BranchSwitchRead, FeederRead, SubstationRead, TransformerAreaRead
from gridcare.paging import Page, PageDep, page_of
from gridcare.params import IdPath, IdQuery

router = APIRouter(prefix="/api/v1", tags=["grid 电网"], responses=ERROR_RESPONSES)


@router.get("/substations", response_model=Page[SubstationRead], summary="变电站")
def list_substations(session: SessionDep, _: PrincipalDep, paging: PageDep) -> Page[SubstationRead]:
    rows = repository.list_substations(session, offset=paging.offset, limit=paging.fetch)
    return page_of([SubstationRead.model_validate(r) for r in rows], paging)


@router.get("/feeders", response_model=Page[FeederRead], summary="10kV 线路")
def list_feeders(
    session: SessionDep, _: PrincipalDep, paging: PageDep, substation_id: IdQuery = None
) -> Page[FeederRead]:
    rows = repository.list_feeders(
        session, substation_id=substation_id, offset=paging.offset, limit=paging.fetch
    )
    return page_of([FeederRead.model_validate(r) for r in rows], paging)


@router.get("/branch-switches", response_model=Page[BranchSwitchRead], summary="分支开关")
def list_branch_switches(
    session: SessionDep, _: PrincipalDep, paging: PageDep, feeder_id: IdQuery = None
) -> Page[BranchSwitchRead]:
    rows = repository.list_branch_switches(
        session, feeder_id=feeder_id, offset=paging.offset, limit=paging.fetch
    )
    return page_of([BranchSwitchRead.model_validate(r) for r in rows], paging)


@router.get("/transformer-areas", response_model=Page[TransformerAreaRead], summary="台区列表")
def list_transformer_areas(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PageDep,
    station_id: IdQuery = None,
    feeder_id: IdQuery = None,
    q: Annotated[str | None, Query(description="台区编号或名称片段")] = None,
) -> Page[TransformerAreaRead]:
    rows = repository.list_transformer_areas(
        session,
        principal=principal,
        station_id=station_id,
        feeder_id=feeder_id,
        q=q,
        offset=paging.offset,
        limit=paging.fetch,
    )
    return page_of([TransformerAreaRead.model_validate(r) for r in rows], paging)


@router.get("/transformer-areas/{area_id}", response_model=TransformerAreaRead, summary="台区详情")
def get_transformer_area(
    area_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> TransformerAreaRead:
    area = repository.get_transformer_area(session, principal=principal, area_id=area_id)
    if area is None:
        raise NotFound(f"台区 {area_id} 不存在或不在您的权限范围内")
    return TransformerAreaRead.model_validate(area)
