"""停电管理 pages: the list and month calendar, planning with the affected-customer count before
saving, an outage with its customers and their notices, the frequent-outage watch list and the
reliability figures. Every page calls the same services as the API."""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from gridcare.auth.http import SessionDep, SettingsDep
from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING
from gridcare.errors import DomainError, InvalidInput, NotFound
from gridcare.models import (
    Outage,
)
from gridcare.models.types import utcnow
from gridcare.notify.outbox import delivery_status
from gridcare.org.repository import list_units
from gridcare.outages import approvals, frequent, notices, reliability, repository, service, trouble
from gridcare.outages.process import EDIT_ROLES, OUTAGE
from gridcare.outages.schemas import KIND_NAMES, STATUS_NAMES, OutageCreate, OutageScope, ShortNoticeBody
from gridcare.params import MAX_DAY, MIN_DAY, IdPath, day_in_range
from gridcare.web import flash
from gridcare.web.base import FormDep, WebPrincipalDep, render
from gridcare.web.forms import optional_date, optional_int, parse
from gridcare.workorders.repository import user_names as repository_user_names

router = APIRouter(include_in_schema=False)
PAGE = 50


def _local(value: str | None, label: str) -> datetime:
    """A Beijing wall-clock time typed in a form (datetime-local), within the years the system counts."""
    if not value:
        raise InvalidInput(f"请填写{label}", details=[{"field": label, "reason": "必填"}])
    try:
        moment = datetime.fromisoformat(value).replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise InvalidInput(f"{label}格式不正确", details=[{"field": label, "reason": "格式不正确"}]) from exc
    day_in_range(moment.date(), label)
    return moment


@router.get("/outages", response_class=HTMLResponse)
def outage_list(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    query = request.query_params
    today = utcnow().astimezone(BEIJING).date()
    try:
        month = optional_date((query.get("month") or "") + "-01" if query.get("month") else None, "月份")
    except InvalidInput:
        month = None
    first = (month or today).replace(day=1)
    if not MIN_DAY <= first <= MAX_DAY.replace(day=1):
        first = today.replace(day=1)
    days = _calendar.monthrange(first.year, first.month)[1]
    start = datetime.combine(first, time(), tzinfo=BEIJING)
    end = start + timedelta(days=days)
    status = query.get("status") if query.get("status") in STATUS_NAMES else None
    kind = query.get("kind") if query.get("kind") in KIND_NAMES else None
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
            "can_plan": principal.has_any(*EDIT_ROLES),
        },
    )


@router.get("/outages/new", response_class=HTMLResponse)
def outage_form(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    principal.require(*EDIT_ROLES, action="登记停电")
    refused = flash.take(session, request, user_id=principal.user_id)
    form: dict[str, Any] = dict(refused.values) if refused else {"kind": "planned"}
    return render(
        request,
        "outage_new.html",
        {
            "form": form,
            "form_feeders": [int(x) for x in form.get("feeders", []) if str(x).isdigit()],
            "form_switches": [int(x) for x in form.get("branch_switches", []) if str(x).isdigit()],
            "kinds": KIND_NAMES,
            "can_plan": True,
            "error": refused.error if refused else None,
            "details": refused.details if refused else [],
            **repository.grid_choices(session, principal),
        },
        status=refused.status if refused else 200,
    )


@router.post("/outages/new", response_class=HTMLResponse)
def outage_create(
    request: Request, session: SessionDep, principal: WebPrincipalDep, settings: SettingsDep, form: FormDep
) -> Response:
    """ "预览" shows what the outage would reach; "保存" saves it (a fault is published at once). A
    refused save goes back to the form with the reason and what was typed (post/redirect/get)."""
    principal.require(*EDIT_ROLES, action="登记停电")
    raw = request.state.raw_form
    context: dict[str, Any] = {
        "form": form,
        "kinds": KIND_NAMES,
        "can_plan": True,
        **repository.grid_choices(session, principal),
    }
    context["form_feeders"] = [int(x) for x in raw.getlist("feeders") if str(x).isdigit()]
    context["form_switches"] = [int(x) for x in raw.getlist("branch_switches") if str(x).isdigit()]
    try:
        scope = parse(
            OutageScope,
            {
                "feeders": context["form_feeders"],
                "branch_switches": context["form_switches"],
                "transformer_areas": repository.scope_area_ids(
                    session, principal, form.get("transformer_areas", "")
                ),
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
        values: dict[str, Any] = {
            **form,
            "feeders": context["form_feeders"],
            "branch_switches": context["form_switches"],
        }
        return flash.refused(session, user_id=principal.user_id, error=exc, url="/outages/new", values=values)
    return render(request, "outage_new.html", context)


DONE = {
    "create": "已保存。",
    "announce": "已发布停电通知，通知正在发送。",
    "short_notice": "不足通知期限发布申请已提交，等待批准人审批。",
    "approve": "已批准该申请，申请人可以发布停电通知。",
    "refuse": "已不予批准，申请人已收到通知。",
    "start": "已登记开始停电。",
    "confirm": "已确认故障停电，通知正在发送。",
    "restore_time": "已调整预计复电时间并通知客户。",
    "restore": "已登记复电，关联报修工单转入回访。",
    "close": "已归档。",
    "cancel": "已取消。",
}


def _detail(request: Request, session: Session, principal: Principal, outage_id: int) -> HTMLResponse:
    outage = service.get(session, principal=principal, outage_id=outage_id)
    refused = flash.take(session, request, user_id=principal.user_id)
    try:
        page = max(optional_int(request.query_params.get("page"), "页码") or 1, 1)
    except InvalidInput:
        page = 1
    people = repository.affected_customers(
        session, principal=principal, outage_id=outage.id, offset=(page - 1) * PAGE, limit=PAGE + 1
    )
    orders = repository.attached_orders(session, principal, outage.id)
    changes = repository.time_changes(session, outage.id)
    history = repository.history(session, outage.id)
    may_act = service.may_act(session, principal, outage)
    request_ = approvals.latest(session, outage.id)
    names = repository_user_names(
        session,
        {
            i
            for i in (
                outage.short_notice_approver_id,
                request_.approver_id if request_ else None,
                request_.requested_by_id if request_ else None,
                *(e.actor_id for e in history),
            )
            if i
        },
    )
    done = request.query_params.get("done", "")
    return render(
        request,
        "outage_detail.html",
        {
            "o": outage,
            "kinds": KIND_NAMES,
            "statuses": STATUS_NAMES,
            "notices": delivery_status(session, "outage", outage.id),
            "people": people[:PAGE],
            "has_more": len(people) > PAGE,
            "page": page,
            "orders": orders,
            "changes": changes,
            "history": history,
            "process": OUTAGE,
            "names": names,
            "approval": request_,
            "approval_names": approvals.STATUS_NAMES,
            "approvers": approvals.candidates(session, outage=outage, requester=principal)
            if may_act and outage.status == "planned"
            else [],
            "needs_notice": service.notice_period(outage) is not None,
            "decide": request_ is not None
            and request_.status == "pending"
            and request_.approver_id == principal.user_id,
            "may_act": may_act,
            "can_plan": principal.has_any(*EDIT_ROLES),
            "error": refused.error if refused else None,
            "form": refused.values if refused else {},
            "message": None if refused else DONE.get(done),
        },
        status=refused.status if refused else 200,
    )


@router.get("/outages/watch", response_class=HTMLResponse)
def watch_page(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    return render(
        request,
        "outage_watch.html",
        {
            "watched": frequent.watch_list(session, principal=principal),
            "can_plan": principal.has_any(*EDIT_ROLES),
        },
    )


@router.get("/outages/reliability", response_class=HTMLResponse)
def reliability_page(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    query = request.query_params
    today = utcnow().astimezone(BEIJING).date()
    start, end = today.replace(month=1, day=1), today
    rows: list[dict[str, Any]] = []
    error = None
    try:
        start = optional_date(query.get("from"), "起始日期") or start
        end = optional_date(query.get("to"), "截止日期") or end
    except InvalidInput as exc:
        error = exc.message
    if error is None and end < start:
        error = "截止日期早于起始日期"
    elif error is None and (end - start).days > 3660:
        error = "统计期间最长为十年"
    if error is None:
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
        {
            "rows": rows,
            "values": {"from": start.isoformat(), "to": end.isoformat()},
            "error": error,
            "can_plan": principal.has_any(*EDIT_ROLES),
        },
    )


@router.get("/outages/{outage_id}", response_class=HTMLResponse)
def outage_detail(
    request: Request, outage_id: IdPath, session: SessionDep, principal: WebPrincipalDep
) -> HTMLResponse:
    return _detail(request, session, principal, outage_id)


@router.get("/outages/{outage_id}/board", response_class=HTMLResponse)
def board_notice(
    request: Request,
    outage_id: IdPath,
    session: SessionDep,
    principal: WebPrincipalDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """The printable notice for the village boards (村务公开栏), one page per village it reaches."""
    outage = service.get(session, principal=principal, outage_id=outage_id)
    villages = repository.villages_reached(session, principal, outage.id)
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
    outage_id: IdPath,
    action: str,
    session: SessionDep,
    principal: WebPrincipalDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """One form per action; success returns to the page with a note, a refusal shows its reason and
    what was typed there (post/redirect/get: reloading never sends the form again)."""
    try:
        version = optional_int(form.get("version"), "版本") or 0
        now = utcnow()
        if action == "announce":
            service.announce(
                session, principal=principal, settings=settings, outage_id=outage_id, version=version, now=now
            )
        elif action == "short_notice":
            body = parse(
                ShortNoticeBody,
                {
                    "approver_id": form.get("approver_id") or None,
                    "reason": form.get("short_notice_reason", ""),
                },
            )
            service.request_short_notice(
                session,
                principal=principal,
                outage_id=outage_id,
                approver_id=body.approver_id,
                reason=body.reason,
                now=now,
            )
        elif action in ("approve", "refuse"):
            service.get(session, principal=principal, outage_id=outage_id)
            approvals.decide(
                session,
                principal=principal,
                approval_id=optional_int(form.get("approval_id"), "审批申请") or 0,
                approve=action == "approve",
                note=form.get("note") or None,
                now=now,
            )
        elif action == "start":
            service.start(session, principal=principal, outage_id=outage_id, version=version, now=now)
        elif action == "confirm":
            trouble.confirm(
                session,
                principal=principal,
                settings=settings,
                outage_id=outage_id,
                version=version,
                cause=form.get("cause", ""),
                expected_restore_at=_local(form.get("expected_restore_at"), "预计复电时间"),
                now=now,
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
                session,
                principal=principal,
                settings=settings,
                outage_id=outage_id,
                version=version,
                reason=form.get("reason", ""),
                confirmed=form.get("confirm") == "1",
                now=now,
            )
        else:
            raise NotFound(f"没有“{action}”这项操作")
    except DomainError as exc:
        return flash.refused(
            session, user_id=principal.user_id, error=exc, url=f"/outages/{outage_id}", values=dict(form)
        )
    return RedirectResponse(f"/outages/{outage_id}?done={action}", status_code=303)
