"""/api/v1/sla: time-limit policy versions; /api/v1/calendar: the working-day calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.audit.service import record
from gridcare.auth.http import PrincipalDep, SessionDep
from gridcare.calendar import CalendarYearMissing
from gridcare.errors import InvalidInput, NotFound
from gridcare.models import CalendarDay, CalendarYear, CatalogItem, SlaPolicyVersion, SlaRule
from gridcare.models.enums import AreaClass, Role
from gridcare.models.types import utcnow
from gridcare.params import MAX_DAY, MIN_DAY, IdQuery, Instant
from gridcare.sla import policy
from gridcare.sla.calendar_store import current_calendar, load_calendar_file, set_correction

router = APIRouter(prefix="/api/v1", tags=["sla 时限与日历"], responses=ERROR_RESPONSES)


class RuleIn(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    business_type: str = Field(max_length=32)
    category: str | None = Field(default=None, max_length=32)
    step: str = Field(max_length=32)
    area_class: AreaClass | None = None
    urgency: str | None = Field(default=None, max_length=16)
    limit_value: float = Field(gt=0, le=525_600, description="时限数值（不超过一年）")
    unit: str = Field(pattern="^(minutes|hours|working_days)$")
    anchor: str = Field(default="step", pattern="^(step|order)$")
    warn_ratio: float = Field(default=0.8, gt=0, lt=1)

    @model_validator(mode="after")
    def _at_most_a_year(self) -> RuleIn:
        """A limit is at most a year (525,600 minutes, 8,784 hours, 250 working days)."""
        most = {"minutes": 525_600, "hours": 8_784, "working_days": 250}[self.unit]
        if self.limit_value > most:
            raise ValueError(f"时限不能超过一年（{self.unit} 最多 {most}）")
        return self


class VersionIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    effective_from: Instant
    note: str | None = Field(default=None, max_length=500)
    rules: list[RuleIn] = Field(min_length=1)


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    effective_from: datetime
    note: str | None
    created_at: datetime


@router.get("/sla/versions", response_model=list[VersionRead], summary="时限版本")
def versions(session: SessionDep, _: PrincipalDep) -> list[VersionRead]:
    rows = session.scalars(select(SlaPolicyVersion).order_by(SlaPolicyVersion.effective_from.desc()))
    return [VersionRead.model_validate(v) for v in rows]


@router.get("/sla/rules", response_model=list[RuleIn], summary="某版本（缺省：现行）的时限规则")
def rules(session: SessionDep, _: PrincipalDep, version_id: IdQuery = None) -> list[RuleIn]:
    version_id = version_id or policy.version_in_force(session, utcnow())
    if version_id is None or session.get(SlaPolicyVersion, version_id) is None:
        raise NotFound("时限版本不存在")
    return [RuleIn.model_validate(r) for r in policy.rules(session, version_id)]


@router.post(
    "/sla/versions", response_model=VersionRead, status_code=201, summary="发布新时限版本（系统管理员）"
)
def publish(data: VersionIn, session: SessionDep, principal: PrincipalDep) -> VersionRead:
    """A new complete set of limits. It applies to steps entered from `effective_from` on; running
    steps keep the deadline they were given. Published versions are never edited."""
    principal.require(Role.admin)
    types = set(
        session.scalars(select(CatalogItem.code).where(CatalogItem.kind == "business_type")).all()
    ) | {"*"}
    urgencies = set(session.scalars(select(CatalogItem.code).where(CatalogItem.kind == "urgency")).all())
    steps = set(session.scalars(select(CatalogItem.code).where(CatalogItem.kind == "step")).all())
    for i, rule in enumerate(data.rules):
        where = [{"row": i + 1, "field": f"rules[{i}]"}]
        if rule.business_type not in types:
            raise InvalidInput(f"第 {i + 1} 条规则：业务类型 {rule.business_type} 不存在", details=where)
        if rule.step not in steps:
            raise InvalidInput(f"第 {i + 1} 条规则：环节 {rule.step} 不存在", details=where)
        if rule.urgency is not None and rule.urgency not in urgencies:
            raise InvalidInput(f"第 {i + 1} 条规则：紧急程度 {rule.urgency} 不存在", details=where)
    version = SlaPolicyVersion(
        name=data.name,
        effective_from=data.effective_from,
        note=data.note,
        created_by=principal.user_id or None,
    )
    session.add(version)
    session.flush()
    session.add_all(
        SlaRule(
            version_id=version.id,
            **r.model_dump(exclude={"area_class"}),
            area_class=r.area_class.value if r.area_class else None,
        )
        for r in data.rules
    )
    session.flush()
    record(
        session,
        actor=principal,
        action="publish",
        entity="sla_policy_version",
        entity_id=version.id,
        detail={
            "name": data.name,
            "rules": len(data.rules),
            "effective_from": data.effective_from.isoformat(),
        },
    )
    return VersionRead.model_validate(version)


class CalendarDayRead(BaseModel):
    day: date
    is_workday: bool
    name: str
    is_correction: bool


class CalendarYearRead(BaseModel):
    year: int
    known: bool
    source: str
    holidays: list[date]
    workdays: list[date]
    corrections: list[CalendarDayRead]


@router.get("/calendar/{year}", response_model=CalendarYearRead, summary="某年的节假日与调休上班日")
def calendar_year(
    year: Annotated[int, Path(ge=MIN_DAY.year, le=MAX_DAY.year)], session: SessionDep, _: PrincipalDep
) -> CalendarYearRead:
    calendar = current_calendar(session)
    loaded = session.get(CalendarYear, year)
    corrections = [
        CalendarDayRead(day=d.day, is_workday=d.is_workday, name=d.name, is_correction=True)
        for d in session.scalars(
            select(CalendarDay)
            .where(CalendarDay.is_correction, CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
            .order_by(CalendarDay.day)
        )
    ]
    days = calendar.years.get(year)
    if days is None:
        return CalendarYearRead(
            year=year,
            known=False,
            source=str(CalendarYearMissing(year)),
            holidays=[],
            workdays=[],
            corrections=corrections,
        )
    return CalendarYearRead(
        year=year,
        known=True,
        source=loaded.source if loaded else "chinesecalendar（国务院办公厅通知）",
        holidays=sorted(d for d in days.holidays if d.weekday() < 5),
        workdays=sorted(days.workdays),
        corrections=corrections,
    )


@router.post("/calendar/load", summary="载入日历文件（CSV 文本：date,type,name；系统管理员）")
def load(
    session: SessionDep,
    principal: PrincipalDep,
    text: Annotated[str, Body(media_type="text/csv", description="CSV 文本")],
    source: Annotated[str, Query(max_length=100, description="来源（文件名）")] = "upload.csv",
) -> dict[str, object]:
    result = load_calendar_file(session, principal=principal, text=text, source=source)
    return {"years": result.years, "days": result.days}


class CorrectionIn(BaseModel):
    is_workday: bool
    name: str = Field(default="", max_length=100)


@router.put("/calendar/days/{day}", summary="更正某一天（系统管理员）")
def correct(
    day: Annotated[date, Path(ge=MIN_DAY, le=MAX_DAY)],
    data: CorrectionIn,
    session: SessionDep,
    principal: PrincipalDep,
) -> CalendarDayRead:
    set_correction(session, principal=principal, day=day, is_workday=data.is_workday, name=data.name)
    return CalendarDayRead(day=day, is_workday=data.is_workday, name=data.name, is_correction=True)
