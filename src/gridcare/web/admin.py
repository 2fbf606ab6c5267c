"""管理 (admin): users, units, time-limit policy versions, and the working-day calendar by month."""

from __future__ import annotations

import calendar as month_grid
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from gridcare import jobs
from gridcare.audit.service import record
from gridcare.auth.http import SessionDep, SettingsDep
from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING, is_workday
from gridcare.calendar.sources import builtin_day_names
from gridcare.errors import DomainError, InvalidInput, NotFound
from gridcare.models.enums import LABELS_ZH, Role
from gridcare.models.types import utcnow
from gridcare.org.repository import list_units
from gridcare.params import IdQuery
from gridcare.sla import policy
from gridcare.sla.calendar_store import (
    current_calendar,
    load_calendar_file,
    loaded_year,
    set_correction,
    stored_days,
)
from gridcare.tabular import decode_text
from gridcare.users.schemas import UserCreate
from gridcare.users.service import active_staff_by_unit, create_user, list_users
from gridcare.web import flash
from gridcare.web.base import FormDep, WebPrincipalDep, load_labels, render
from gridcare.web.forms import optional_date, parse

router = APIRouter(prefix="/admin", include_in_schema=False)

ADMIN_TABS = (
    ("/admin/users", "用户"),
    ("/admin/units", "单位"),
    ("/admin/sla", "时限版本"),
    ("/admin/calendar", "工作日历"),
    ("/admin/jobs", "后台任务"),
)
MAX_CALENDAR_BYTES = 256 * 1024
UNIT_LABELS = {"minutes": "分钟", "hours": "小时", "working_days": "个工作日"}
ANCHOR_LABELS = {"step": "自进入环节起", "order": "自受理起"}


def _admin(principal: Principal) -> None:
    principal.require(Role.admin, action="管理功能")


def _page(request: Request, template: str, context: dict[str, object], status: int = 200) -> HTMLResponse:
    return render(request, template, {"tabs": ADMIN_TABS, **context}, status=status)


@router.get("/users", response_class=HTMLResponse)
def users(
    request: Request,
    session: SessionDep,
    principal: WebPrincipalDep,
    unit_id: IdQuery = None,
    created: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    _admin(principal)
    refused = flash.take(session, request, user_id=principal.user_id)
    if refused is not None:
        return _users_page(
            request,
            session,
            principal,
            unit_id,
            values=refused.values,
            error=refused.error,
            status=refused.status,
        )
    message = f"已创建用户 {created}" if created else None
    return _users_page(request, session, principal, unit_id, message=message)


def _users_page(
    request: Request,
    session: Session,
    principal: Principal,
    unit_id: int | None,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    rows = list_users(session, principal=principal, unit_id=unit_id, offset=0, limit=500)
    return _page(
        request,
        "admin_users.html",
        {
            "users": rows,
            "units": list_units(session, principal=principal),
            "labels": load_labels(session),
            "unit_id": unit_id,
            "roles": [(r.value, LABELS_ZH[r]) for r in Role],
            "values": values or {},
            "error": error,
            "message": message,
        },
        status=status,
    )


@router.post("/users", response_class=HTMLResponse)
def add_user(request: Request, session: SessionDep, principal: WebPrincipalDep, form: FormDep) -> Response:
    _admin(principal)
    roles = [str(r) for r in request.state.raw_form.getlist("roles")]
    data = {**form, "roles": roles, "phone": form.get("phone") or None}
    try:
        created = create_user(session, principal=principal, data=parse(UserCreate, data))
    except DomainError as exc:
        return flash.refused(session, user_id=principal.user_id, error=exc, url="/admin/users", values=form)
    return RedirectResponse(f"/admin/users?{urlencode({'created': created.username})}", status_code=303)


@router.get("/units", response_class=HTMLResponse)
def units(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    _admin(principal)
    staff = active_staff_by_unit(session, principal)
    rows = list_units(session, principal=principal)
    return _page(request, "admin_units.html", {"units": rows, "staff": staff, "kinds": LABELS_ZH})


@router.get("/sla", response_class=HTMLResponse)
def sla(
    request: Request,
    session: SessionDep,
    principal: WebPrincipalDep,
    version_id: IdQuery = None,
) -> HTMLResponse:
    _admin(principal)
    versions = policy.version_rows(session)
    now = utcnow()
    in_force = next((v.id for v in versions if v.effective_from <= now), None)
    chosen = version_id or in_force or (versions[0].id if versions else None)
    rules = policy.rule_rows(session, chosen) if chosen else []
    return _page(
        request,
        "admin_sla.html",
        {
            "versions": versions,
            "in_force": in_force,
            "chosen": chosen,
            "rules": rules,
            "labels": load_labels(session),
            "units": UNIT_LABELS,
            "anchors": ANCHOR_LABELS,
        },
    )


@dataclass
class Day:
    day: date
    in_month: bool
    workday: bool
    makeup: bool  # a weekend day worked (调休补班)
    holiday: bool  # a weekday off (法定节假日/调休)
    name: str
    correction: bool


def _month_days(session: Session, year: int, month: int) -> tuple[list[list[Day]], bool]:
    cal = current_calendar(session)
    known = year in cal.years
    names = {d: (n, False) for d, n in builtin_day_names().items() if d.year == year and d.month == month}
    names |= {
        d.day: (d.name, d.is_correction)
        for d in stored_days(
            session, date(year, month, 1), date(year, month, month_grid.monthrange(year, month)[1])
        )
    }
    weeks = []
    for week in month_grid.Calendar(firstweekday=0).monthdatescalendar(year, month):
        row = []
        for d in week:
            work = is_workday(cal, d) if d.year in cal.years else d.weekday() < 5
            weekend = d.weekday() >= 5
            name, correction = names.get(d, ("", False))
            row.append(
                Day(d, d.month == month, work, weekend and work, not weekend and not work, name, correction)
            )
        weeks.append(row)
    return weeks, known


def _calendar_page(
    request: Request,
    session: Session,
    year: int,
    month: int,
    *,
    error: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    weeks, known = _month_days(session, year, month)
    loaded = loaded_year(session, year)
    prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
    next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
    return _page(
        request,
        "admin_calendar.html",
        {
            "year": year,
            "month": month,
            "weeks": weeks,
            "known": known,
            "source": loaded.source if loaded else ("chinesecalendar（国务院办公厅通知）" if known else ""),
            "prev": f"?year={prev_y}&month={prev_m}",
            "next": f"?year={next_y}&month={next_m}",
            "error": error,
            "message": message,
        },
        status=status,
    )


@router.get("/calendar", response_class=HTMLResponse)
def calendar_month(
    request: Request,
    session: SessionDep,
    principal: WebPrincipalDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    loaded: Annotated[str | None, Query(max_length=200)] = None,
    corrected: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    _admin(principal)
    today = utcnow().astimezone(BEIJING).date()
    refused = flash.take(session, request, user_id=principal.user_id)
    message = None
    if loaded:
        message = f"已载入 {loaded}"
    elif corrected:
        message = f"已将 {corrected}"
    return _calendar_page(
        request,
        session,
        year or today.year,
        month or today.month,
        error=refused.error if refused else None,
        message=None if refused else message,
        status=refused.status if refused else 200,
    )


@router.post("/calendar/load", response_class=HTMLResponse)
def calendar_load(
    request: Request,
    session: SessionDep,
    principal: WebPrincipalDep,
    form: FormDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Upload a year's calendar (CSV: date,type,name): the same loader as the API and the CLI."""
    _admin(principal)
    source = (file.filename or "upload.csv")[:100]
    try:
        text = decode_text(file.file.read(MAX_CALENDAR_BYTES + 1), source)
        if len(text.encode()) > MAX_CALENDAR_BYTES:
            raise InvalidInput(f"日历文件 {source} 过大（上限 {MAX_CALENDAR_BYTES // 1024} KB）")
        result = load_calendar_file(session, principal=principal, text=text, source=source)
    except DomainError as exc:
        return flash.refused(session, user_id=principal.user_id, error=exc, url="/admin/calendar")
    year = min(result.years) if result.years else utcnow().astimezone(BEIJING).year
    years = "、".join(str(y) for y in result.years)
    query = urlencode({"year": year, "month": 1, "loaded": f"{years} 年日历，共 {result.days} 天"})
    return RedirectResponse(f"/admin/calendar?{query}", status_code=303)


@router.post("/calendar/day", response_class=HTMLResponse)
def calendar_correct(
    request: Request, session: SessionDep, principal: WebPrincipalDep, form: FormDep
) -> Response:
    """Correct one day (a late change by the State Council, a local arrangement)."""
    _admin(principal)
    try:
        day = optional_date(form.get("day"), "日期")
        if day is None:
            raise InvalidInput("请填写要更正的日期", details=[{"field": "day"}])
        kind = form.get("kind")
        if kind not in ("work", "rest"):
            raise InvalidInput("请选择该日为工作日或休息日", details=[{"field": "kind"}])
        set_correction(
            session, principal=principal, day=day, is_workday=kind == "work", name=form.get("name", "")
        )
    except DomainError as exc:
        return flash.refused(session, user_id=principal.user_id, error=exc, url="/admin/calendar")
    label = "工作日" if kind == "work" else "休息日"
    query = urlencode({"year": day.year, "month": day.month, "corrected": f"{day:%Y-%m-%d} 更正为{label}"})
    return RedirectResponse(f"/admin/calendar?{query}", status_code=303)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request, session: SessionDep, principal: WebPrincipalDep, settings: SettingsDep
) -> HTMLResponse:
    """后台任务: each job's interval, last run, last success, last error and next run."""
    _admin(principal)
    done = request.query_params.get("done")
    return _page(
        request,
        "admin_jobs.html",
        {
            "jobs": [(job, rows, job.interval(settings)) for job, rows in jobs.status(session)],
            "message": f"已安排立即运行：{jobs.JOBS[done].label}" if done in jobs.JOBS else None,
        },
    )


@router.post("/jobs/{name}/run")
def job_run_now(name: str, session: SessionDep, principal: WebPrincipalDep, form: FormDep) -> Response:
    _admin(principal)
    if name not in jobs.JOBS:
        raise NotFound(f"没有后台任务“{name}”")
    jobs.request_run(session, name)
    record(session, actor=principal, action="run_job", entity="job", entity_id=name)
    return RedirectResponse(f"/admin/jobs?done={quote(name)}", status_code=303)
