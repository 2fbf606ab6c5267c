"""工单列表 (filters, sorting, paging, Excel export), 工单详情 (timeline and the actions allowed now),
and the 回访 queue."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gridcare.audit.service import record
from gridcare.auth.http import SessionDep, SettingsDep
from gridcare.auth.masking import phone_for
from gridcare.auth.principal import Principal
from gridcare.catalogs.service import items_of
from gridcare.config import Settings
from gridcare.customers.service import get as get_customer
from gridcare.engine import machine
from gridcare.engine.spec import Action
from gridcare.errors import DomainError, InvalidInput, NotFound
from gridcare.models.enums import LABELS_ZH
from gridcare.models.types import utcnow
from gridcare.org.repository import list_units
from gridcare.params import IdPath
from gridcare.tabular import chunks_of, write_table
from gridcare.templating import beijing
from gridcare.users.service import station_staff
from gridcare.web import flash
from gridcare.web.base import FormDep, Labels, WebPrincipalDep, load_labels, render
from gridcare.web.forms import clean, optional_date, optional_int, parse
from gridcare.workorders import actions, repository, service
from gridcare.workorders.defaults import STEPS
from gridcare.workorders.process import KEEPER, PROCESS
from gridcare.workorders.schemas import UrgeBody

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
EXPORT_MAX = 100_000
SORT_LABELS = {
    "-created_at": "受理时间（新→旧）",
    "created_at": "受理时间（旧→新）",
    "step_deadline": "环节时限（紧→松）",
    "-priority": "催办次数（多→少）",
}
FILTER_NAMES = (
    "business_type",
    "category",
    "unit_id",
    "step",
    "overdue",
    "due_soon",
    "date_from",
    "date_to",
    "q",
)


@dataclass
class ListQuery:
    filters: repository.OrderFilter
    sort: str
    page: int
    values: dict[str, str]

    def link(self, **changes: Any) -> str:
        values = {**self.values, "sort": self.sort, "page": str(self.page), **changes}
        return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    values = {k: params.get(k, "").strip() for k in FILTER_NAMES}
    sort = params.get("sort", "-created_at")
    if sort not in SORT_LABELS:
        sort = "-created_at"
    page = optional_int(params.get("page"), "页码") or 1
    accepted_from, accepted_to = repository.accepted_between(
        optional_date(values["date_from"], "受理日期起"), optional_date(values["date_to"], "受理日期止")
    )
    filters = repository.OrderFilter(
        business_type=values["business_type"] or None,
        category=values["category"] or None,
        unit_id=optional_int(values["unit_id"], "单位"),
        step=values["step"] if values["step"] in STEPS else None,
        overdue=True if values["overdue"] else None,
        due_soon=True if values["due_soon"] else None,
        created_from=accepted_from,
        created_to=accepted_to,
        q=values["q"] or None,
    )
    return ListQuery(filters=filters, sort=sort, page=max(page, 1), values=values)


def _category_options(session: Session) -> list[tuple[str, str]]:
    items = items_of(session, ["complaint_category", "fault_kind", "service_request_kind"])
    prefix = {"fault_kind": "故障：", "service_request_kind": "业务申请："}
    return [
        (i.code, "　" * (i.level - 1) + prefix.get(i.kind, "") + i.name)
        for i in sorted(items, key=lambda i: (i.kind, i.code))
    ]


@router.get("/orders", response_class=HTMLResponse)
def order_list(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    error = None
    try:
        query = parse_list_query(request.query_params)
    except InvalidInput as exc:
        error = exc.message
        query = parse_list_query({})
    now = utcnow()
    rows = repository.list_orders(
        session,
        principal=principal,
        filters=query.filters,
        sort=query.sort,
        now=now,
        offset=(query.page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
    )
    labels = load_labels(session)
    return render(
        request,
        "orders.html",
        {
            "orders": rows[:PAGE_SIZE],
            "has_more": len(rows) > PAGE_SIZE,
            "query": query,
            "labels": labels,
            "units": list_units(session, principal=principal),
            "categories": _category_options(session),
            "steps": STEPS,
            "sorts": SORT_LABELS,
            "export_link": "/orders/export.xlsx" + query.link(page=""),
            "error": error,
        },
    )


EXPORT_HEADERS = (
    "工单编号",
    "业务类型",
    "分类",
    "紧急程度",
    "受理渠道",
    "县公司",
    "供电所",
    "城乡类别",
    "联系人",
    "联系电话",
    "地址",
    "受理内容",
    "受理时间",
    "当前环节",
    "环节时限",
    "是否超时",
    "重复工单",
    "催办次数",
    "回单内容",
    "处理记录（历次回单、审核、回访）",
    "满意度",
    "归档时间",
)


def _export_lines(
    session: Session,
    rows: Iterator[Any],
    labels: Labels,
    principal: Principal,
    now: datetime,
    counter: list[int],
) -> Iterator[list[Any]]:
    """The rows as the sheet's lines, each with its order's record of replies, review notes, returns
    and callbacks (read per chunk of orders). `counter[0]` counts the lines written."""
    for chunk in chunks_of(rows, 2000):
        history = repository.history_texts(session, [r.id for r in chunk])
        for r in chunk:
            open_step = r.step not in ("archived", "merged")
            late = open_step and r.step_deadline is not None and r.step_deadline < now
            counter[0] += 1
            yield [
                r.number,
                labels.name("business_type", r.business_type),
                labels.category(r.business_type, r.category),
                labels.name("urgency", r.urgency),
                labels.name("channel", r.channel),
                labels.unit(r.county_id),
                labels.unit(r.station_id),
                LABELS_ZH.get(r.area_class, r.area_class),
                r.contact_name or "",
                phone_for(principal, r.contact_phone) or "",
                r.address or "",
                r.content,
                beijing(r.accepted_at),
                STEPS.get(r.step, r.step),
                beijing(r.step_deadline) if open_step else "",
                "是" if late else "否",
                "是" if r.is_repeat else "否",
                r.priority,
                r.reply or "",
                history.get(r.id, ""),
                labels.name("satisfaction", r.satisfaction),
                beijing(r.archived_at),
            ]


@router.get("/orders/export.xlsx")
def export(request: Request, session: SessionDep, principal: WebPrincipalDep) -> Response:
    """The filtered list as an Excel workbook (the same scope and filters as the page). Who exported
    which filter, and how many rows, goes to the audit log."""
    query = parse_list_query(request.query_params)
    now = utcnow()
    labels = load_labels(session)
    rows = repository.export_rows(
        session, principal=principal, filters=query.filters, sort=query.sort, now=now, limit=EXPORT_MAX
    )
    counter = [0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.xlsx"
        write_table(path, EXPORT_HEADERS, _export_lines(session, rows, labels, principal, now, counter))
        content = path.read_bytes()
    record(
        session,
        actor=principal,
        action="export",
        entity="work_order",
        detail={
            "format": "xlsx",
            "rows": counter[0],
            "filter": {k: v for k, v in query.values.items() if v},
            "sort": query.sort,
            "phones": "clear" if principal.sees_phones else "masked",
        },
    )
    name = f"工单列表_{beijing(now, '%Y%m%d_%H%M')}.xlsx"
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=orders.xlsx; filename*=UTF-8''{quote(name)}"},
    )


DONE_MESSAGES = {
    "created": "已受理，工单已生成",
    "duplicate": "该受理已保存过，未重复建单",
    "urge": "已生成催办工单",
    "callback_attempt": "已记录一次未联系上的回访",
}


_station_staff = station_staff


def _detail_page(
    request: Request, session: Session, principal: Principal, settings: Settings, order_id: int
) -> HTMLResponse:
    order = service.get_scoped(session, principal=principal, order_id=order_id)
    refused = flash.take(session, request, user_id=principal.user_id)
    labels: Labels = load_labels(session)
    events = repository.timeline(session, order.id)
    people = repository.user_names(
        session, {e.actor_id for e in events if e.actor_id} | {u for u in [order.handler_user_id] if u}
    )
    customer = None
    if order.customer_id is not None:
        try:
            customer = get_customer(session, principal=principal, customer_id=order.customer_id)
        except NotFound:
            customer = None
    related = repository.related(session, principal=principal, order=order)
    available = machine.available(KEEPER, principal, order)
    names = {spec.name for spec in available}
    contact_phone = phone_for(principal, order.contact_phone)
    done = request.query_params.get("done", "")
    message = DONE_MESSAGES.get(done) or (
        f"已{PROCESS.label_of(done)}" if done in PROCESS.actions or done in PROCESS.event_names else None
    )
    return render(
        request,
        "order_detail.html",
        {
            "order": order,
            "labels": labels,
            "events": events,
            "people": people,
            "customer": customer,
            "related": related,
            "available": available,
            "contact_phone": contact_phone,
            "stations": list_units(session, principal=principal, kind="station")
            if "dispatch" in names
            else [],
            "staff": _station_staff(session, order.station_id) if "dispatch" in names else [],
            "form": refused.values if refused else {},
            "message": None if refused else message,
            "error": refused.error if refused else None,
            "hints": {
                "reached": f"已尝试 {order.callback_attempts} 次，间隔不少于 {settings.callback_retry_hours:g} 小时"
            },
        },
        status=refused.status if refused else 200,
    )


@router.get("/orders/{order_id}/handlers", response_class=HTMLResponse)
def handler_options(
    request: Request, order_id: IdPath, session: SessionDep, principal: WebPrincipalDep, station_id: str = ""
) -> HTMLResponse:
    """The 处理人 choices of the station chosen in the dispatch form (re-read whenever it changes, so the
    old station's staff are never offered for the new one)."""
    order = service.get_scoped(session, principal=principal, order_id=order_id)
    station = optional_int(station_id, "供电所") or order.station_id
    allowed = {u.id for u in list_units(session, principal=principal, kind="station")}
    staff = _station_staff(session, station) if station in allowed else []
    return render(request, "order_handlers.html", {"staff": staff, "selected": None})


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_detail(
    request: Request, order_id: IdPath, session: SessionDep, principal: WebPrincipalDep, settings: SettingsDep
) -> HTMLResponse:
    return _detail_page(request, session, principal, settings, order_id)


def _body(spec: Action[Any], form: Mapping[str, str]) -> BaseModel:
    """The action's body from its form: the fields its spec draws (forms.parse names what is wrong)."""
    values: dict[str, Any] = clean(form, "note") if spec.custom else clean(form, "version", "note")
    for f in spec.fields:
        if f.widget == "verdict":
            values[f.name] = form.get(f.name)
        elif f.widget == "reached":
            reached = form.get(f.name)
            if reached not in ("1", "0"):
                raise InvalidInput("请选择是否联系上客户", details=[{"field": f.name}])
            values[f.name] = reached
        else:
            values.update(clean(form, f.name))
    body: BaseModel = parse(spec.body, values)
    return body


@router.post("/orders/{order_id}/act/{action}", response_class=HTMLResponse)
def act(
    request: Request,
    order_id: IdPath,
    action: str,
    session: SessionDep,
    principal: WebPrincipalDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """One form per action on the detail page. Success: back to the page with a note; failure: back to
    the page with the reason and what was typed, nothing stored (post/redirect/get: reloading the page
    never sends the form again)."""
    spec = PROCESS.actions.get(action)
    try:
        if spec is None or spec.system:
            raise NotFound(f"没有“{action}”这项操作")
        if action == "urge":
            created = actions.urge(
                session,
                principal=principal,
                settings=settings,
                order_id=order_id,
                body=parse(UrgeBody, clean(form, "content", "idempotency_key")),
            )
            return RedirectResponse(
                f"/orders/{order_id}?done=urge&urging={created.order.number}", status_code=303
            )
        order = actions.perform(
            session,
            principal=principal,
            settings=settings,
            order_id=order_id,
            action=action,
            body=_body(spec, form),
        )
    except DomainError as exc:
        return flash.refused(
            session,
            user_id=principal.user_id,
            error=exc,
            url=f"/orders/{order_id}",
            values={**form, "_action": action},  # refilled in that action's form only
        )
    done = action
    if action == "callback" and order.step == "pending_callback":
        done = "callback_attempt"
    elif action == "review":
        done = "review_pass" if form.get("passed") == "true" else "review_back"
    return RedirectResponse(f"/orders/{order_id}?done={done}", status_code=303)


@router.get("/callbacks", response_class=HTMLResponse)
def callbacks(
    request: Request, session: SessionDep, principal: WebPrincipalDep, settings: SettingsDep
) -> HTMLResponse:
    """回访: orders waiting for a callback in scope, earliest deadline first, with attempts so far."""
    now = utcnow()
    orders = repository.queue(session, principal=principal, steps=["pending_callback"], now=now, limit=200)
    wait = timedelta(hours=settings.callback_retry_hours)
    next_try = {o.id: o.last_callback_at + wait for o in orders if o.last_callback_at and o.callback_attempts}
    return render(
        request,
        "callbacks.html",
        {
            "orders": orders,
            "labels": load_labels(session),
            "next_try": next_try,
            "tries": 1 + settings.callback_extra_tries,
        },
    )
