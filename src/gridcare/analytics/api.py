"""/api/v1/reports: the complaint monitoring report as JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gridcare.analytics import service
from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import PrincipalDep, SessionDep, SettingsDep
from gridcare.params import Day

router = APIRouter(prefix="/api/v1/reports", tags=["reports 报表"], responses=ERROR_RESPONSES)


@router.get("/monitoring", summary="投诉监测报表（某期间、某单位）")
def monitoring(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    start: Annotated[Day, Query(alias="from", description="起始日期（含），北京时间")],
    end: Annotated[Day, Query(alias="to", description="截止日期（含）")],
    unit: Annotated[str | None, Query(description="单位编码或编号；默认本人所在单位")] = None,
) -> dict[str, Any]:
    """Computed on the analytics snapshot, refreshed just before; `refreshed_at` says when."""
    return service.monitoring_report(
        session, principal=principal, settings=settings, start=start, end=end, unit=unit
    )
