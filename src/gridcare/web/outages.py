"""停电管理 pages: the list and month calendar, planning with the affected-customer count before
saving, an outage with its customers and their notices, the frequent-outage watch list and the
reliability figures. Every page calls the same services as the API."""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING
from gridcare.errors import DomainError, InvalidInput, NotFound
from gridcare.http import SessionDep, SettingsDep
from gridcare.models import (
    BranchSwitch,
    Customer,
    Feeder,
    Outage,
    OutageCustomer,
    OutageTimeChange,
    Substation,
    TransformerArea,
    Unit,
    User,
    UserRole,
    Village,
    WorkOrder,
)
from gridcare.models.types import utcnow
from gridcare.notify.outbox import delivery_status
from gridcare.org.repository import list_units
from gridcare.outages import frequent, notices, reliability, repository, service, trouble
from gridcare.outages.schemas import (
    KIND_NAMES,
    STATUS_NAMES,
    AnnounceBody,
    OutageCreate,
    OutageScope,
)
from gridcare.web.base import FormDep, WebPrincipalDep, render
from gridcare.web.forms import optional_date, optional_int, parse

router = APIRouter(include_in_schema=False)
PAGE = 50


def _grid_choices(session: Session, principal: Principal) -> dict[str, Any]:
    """Feeders and switches of the counties in the user's scope (or above their station)."""
    counties = select(Unit.id).where(Unit.kind == "county")
    me = session.get(Unit, principal.unit_id)
    if me is not None and me.kind == "station":
        counties = counties.where(Unit.id == me.parent_id)
    elif not principal.covers_all:
        counties = counties.where(Unit.path.startswith(principal.unit_path))
    feeders = session.execute(
        select(Feeder.id, Feeder.code, Feeder.name)
        .join(Substation, Substation.id == Feeder.substation_id)
        .where(Substation.county_id.in_(counties))
        .order_by(Feeder.code)
    ).all()
    switches = session.execute(
        select(BranchSwitch.id, BranchSwitch.code, BranchSwitch.name, Feeder.name)
        .join(Feeder, Feeder.id == BranchSwitch.feeder_id)
        .where(BranchSwitch.feeder_id.in_([f[0] for f in feeders]))
        .order_by(BranchSwitch.code)
    ).all()
    approvers = session.execute(
        select(User.id, User.display_name)
        .where(
            User.is_active,
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(("manager", "admin")))),
        )
        .order_by(User.display_name)
    ).all()
    return {"feeders": feeders, "switches": switches, "approvers": approvers}


def _area_ids(session: Session, codes: str) -> list[int]:
    wanted = [c.strip() for c in codes.replace("，", ",").replace(" ", ",").split(",") if c.strip()]
    if not wanted:
        return []
    found = dict(
        session.execute(
            select(TransformerArea.code, TransformerArea.id).where(TransformerArea.code.in_(wanted))
        ).all()
    )
    missing = [c for c in wanted if c not in found]
    if missing:
        raise InvalidInput(
            f"台区编号不存在：{'、'.join(missing)}",
            details=[{"field": "transformer_areas", "reason": "不存在"}],
        )
    return [found[c] for c in wanted]


def _local(value: str | None, label: str) -> datetime:
    if not value:
        raise InvalidInput(f"请填写{label}", details=[{"field": label, "reason": "必填"}])
    try:
        return datetime.fromisoformat(value).replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise InvalidInput(f"{label}格式不正确", details=[{"field": label, "reason": "格式不正确"}]) from exc


@router.get("/outages", response_class=HTMLResponse)
def outage_list(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    query = request.query_params
    today = utcnow().astimezone(BEIJING).date()
    month = optional_date(
        (query.get("month") or "") + "-01" if query.get("month") else None, "月份"
    ) or today.replace(day=1)
    first = month.replace(day=1)
    days = _calendar.monthrange(first.year, first.month)[1]
    start = datetime.combine(first, time(), tzinfo=BEIJING)
    end = start + timedelta(days=days)
    status = query.get("status") or None
    kind = query.get("kind") or None
    page = max(optional_int(query.get("page"), "页码") or 1, 1)
    rows = repository.list_outages(
        session,
        principal=principal,
        status=status,
        kind=kind,
        start=start,
        end=end,
        offset=(page - 1) * PAGE,
        limit=PAGE + 1,
    )
    by_day: dict[date, list[Outage]] = {}
    for o in rows[:PAGE]:
        begin = max(o.planned_start.astimezone(BEIJING).date(), first)
        stop = min(o.expected_restore_at.astimezone(BEIJING).date(), first + timedelta(days=days - 1))
        day = begin
        while day <= stop:
            by_day.setdefault(day, []).append(o)
            day += timedelta(days=1)
    weeks = _calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = first + timedelta(days=days)
    return render(
        request,
        "outages.html",
        {
            "outages": rows[:PAGE],
            "has_more": len(rows) > PAGE,
            "page": page,
            "weeks": weeks,
            "by_day": by_day,
            "month": first,
            "today": today,
            "previous": previous.strftime("%Y-%m"),
            "following": following.strftime("%Y-%m"),
            "values": {"status": status or "", "kind": kind or "", "month": first.strftime("%Y-%m")},
            "kinds": KIND_NAMES,
            "statuses": STATUS_NAMES,
        },
    )


@router.get("/outages/new", response_class=HTMLResponse)
def outage_form(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    principal.require(*service.EDIT_ROLES, action="登记停电")
    return render(
        request,
        "outage_new.html",
        {"form": {"kind": "planned"}, "kinds": KIND_NAMES, **_grid_choices(session, principal)},
    )


@router.post("/outages/new", response_class=HTMLResponse)
def outage_create(
    request: Request, session: SessionDep, principal: WebPrincipalDep, settings: SettingsDep, form: FormDep
) -> Response:
    """ "预览" shows what the outage would reach; "保存" saves it (a fault is published at once)."""
    principal.require(*service.EDIT_ROLES, action="登记停电")
    raw = request.state.raw_form
    context: dict[str, Any] = {"form": form, "kinds": KIND_NAMES, **_grid_choices(session, principal)}
    context["form_feeders"] = [int(x) for x in raw.getlist("feeders") if str(x).isdigit()]
    context["form_switches"] = [int(x) for x in raw.getlist("branch_switches") if str(x).isdigit()]
    try:
        scope = parse(
            OutageScope,
            {
                "feeders": context["form_feeders"],
                "branch_switches": context["form_switches"],
                "transformer_areas": _area_ids(session, form.get("transformer_areas", "")),
            },
        )
        context["preview"] = service.preview(session, principal=principal, scope=scope)
        if "save" in form:
            start = _local(form.get("planned_start"), "停电开始时间")
            data = parse(
                OutageCreate,
                {
                    "kind": form.get("kind", ""),
                    "title": form.get("title", ""),
                    "cause": form.get("cause", ""),
                    "cause_class": form.get("cause_class") or "company",
                    "area_text": form.get("area_text") or None,
                    "scope": scope,
                    "planned_start": start,
                    "planned_end": _local(form.get("planned_end"), "计划复电时间"),
                },
            )
            outage = service.create(session, principal=principal, settings=settings, data=data)
            return RedirectResponse(f"/outages/{outage.id}?done=create", status_code=303)
    except DomainError as exc:
        session.rollback()
        context["error"] = exc.message
        context["details"] = exc.details
        return render(request, "outage_new.html", context, status=exc.status)
    return render(request, "outage_new.html", context)


def _detail(
    request: Request,
    session: Session,
    principal: Principal,
    outage_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    outage = service.get(session, principal=principal, outage_id=outage_id)
    page = max(optional_int(request.query_params.get("page"), "页码") or 1, 1)
    people = repository.affected_customers(
        session, outage_id=outage.id, offset=(page - 1) * PAGE, limit=PAGE + 1
    )
    orders = session.scalars(
        select(WorkOrder).where(WorkOrder.outage_id == outage.id).order_by(WorkOrder.id)
    ).all()
    changes = session.scalars(
        select(OutageTimeChange).where(OutageTimeChange.outage_id == outage.id).order_by(OutageTimeChange.id)
    ).all()
    approver = session.get(User, outage.short_notice_approver_id) if outage.short_notice_approver_id else None
    return render(
        request,
        "outage_detail.html",
        {
            "o": outage,
            "kinds": KIND_NAMES,
            "statuses": STATUS_NAMES,
            "notices": delivery_status(session, outage.id),
            "people": people[:PAGE],
            "has_more": len(people) > PAGE,
            "page": page,
            "orders": orders,
            "changes": changes,
            "approver": approver.display_name if approver else None,
            "approvers": _grid_choices(session, principal)["approvers"],
            "sees_phones": principal.sees_phones,
            "error": error,
        },
        status=status,
    )


@router.get("/outages/watch", response_class=HTMLResponse)
def watch_page(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    return render(
        request, "outage_watch.html", {"watched": frequent.watch_list(session, principal=principal)}
    )


@router.get("/outages/reliability", response_class=HTMLResponse)
def reliability_page(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    query = request.query_params
    today = utcnow().astimezone(BEIJING).date()
    start = optional_date(query.get("from"), "起始日期") or today.replace(month=1, day=1)
    end = optional_date(query.get("to"), "截止日期") or today
    rows: list[dict[str, Any]] = []
    error = None
    if end < start:
        error = "截止日期早于起始日期"
    else:
        begin = datetime.combine(start, time(), tzinfo=BEIJING)
        stop = datetime.combine(end + timedelta(days=1), time(), tzinfo=BEIJING)
        for unit in list_units(session, principal=principal):
            figures = reliability.indices(
                session, start=begin, end=stop, where=reliability.Where(unit_path=unit.path)
            )
            rows.append({"unit": unit, **figures})
    return render(
        request,
        "outage_reliability.html",
        {"rows": rows, "values": {"from": start.isoformat(), "to": end.isoformat()}, "error": error},
    )


@router.get("/outages/{outage_id}", response_class=HTMLResponse)
def outage_detail(
    request: Request, outage_id: int, session: SessionDep, principal: WebPrincipalDep
) -> HTMLResponse:
    return _detail(request, session, principal, outage_id)


@router.get("/outages/{outage_id}/board", response_class=HTMLResponse)
def board_notice(
    request: Request, outage_id: int, session: SessionDep, principal: WebPrincipalDep, settings: SettingsDep
) -> HTMLResponse:
    """The printable notice for the village boards (村务公开栏), one page per village it reaches."""
    outage = service.get(session, principal=principal, outage_id=outage_id)
    villages = session.execute(
        select(Village.name, func.count(OutageCustomer.customer_id))
        .join(Customer, Customer.village_id == Village.id)
        .join(OutageCustomer, OutageCustomer.customer_id == Customer.id)
        .where(OutageCustomer.outage_id == outage.id)
        .group_by(Village.name)
        .order_by(Village.name)
    ).all()
    kind = "announce" if outage.kind != "fault" else "fault"
    _, text = notices.notice_text(outage, kind, settings)
    return render(
        request,
        "outage_board.html",
        {
            "o": outage,
            "villages": villages,
            "text": text,
            "kinds": KIND_NAMES,
            "signature": settings.notice_signature,
        },
    )


@router.post("/outages/{outage_id}/act/{action}", response_class=HTMLResponse)
def outage_act(
    request: Request,
    outage_id: int,
    action: str,
    session: SessionDep,
    principal: WebPrincipalDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """One form per action; success returns to the page, a refusal shows its reason, nothing stored."""
    try:
        version = optional_int(form.get("version"), "版本") or 0
        now = utcnow()
        if action == "announce":
            approver = form.get("short_notice_approver_id")
            body = AnnounceBody(
                version=version,
                short_notice_reason=form.get("short_notice_reason") or None,
                short_notice_approver_id=optional_int(approver, "批准人"),
            )
            service.announce(
                session, principal=principal, settings=settings, outage_id=outage_id, body=body, now=now
            )
        elif action == "start":
            service.start(session, principal=principal, outage_id=outage_id, version=version, now=now)
        elif action == "confirm":
            trouble.confirm(
                session, principal=principal, settings=settings, outage_id=outage_id, version=version, now=now
            )
        elif action == "restore_time":
            service.change_restore_time(
                session,
                principal=principal,
                settings=settings,
                outage_id=outage_id,
                version=version,
                expected_restore_at=_local(form.get("expected_restore_at"), "预计复电时间"),
                reason=form.get("reason", ""),
                now=now,
            )
        elif action == "restore":
            service.restore(
                session, principal=principal, settings=settings, outage_id=outage_id, version=version, now=now
            )
        elif action == "close":
            service.close(session, principal=principal, outage_id=outage_id, version=version)
        elif action == "cancel":
            service.cancel(
                session, principal=principal, settings=settings, outage_id=outage_id, version=version, now=now
            )
        else:
            raise NotFound(f"没有“{action}”这项操作")
    except DomainError as exc:
        session.rollback()
        return _detail(request, session, principal, outage_id, error=exc.message, status=exc.status)
    return RedirectResponse(f"/outages/{outage_id}?done={action}", status_code=303)
