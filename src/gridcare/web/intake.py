"""受理 (intake): find the caller as they speak, see their 台区 and history, choose the matter, save."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from gridcare.auth.http import SessionDep, SettingsDep
from gridcare.auth.principal import Principal
from gridcare.catalogs.service import items_of
from gridcare.customers import repository as customers
from gridcare.customers.schemas import CustomerRead
from gridcare.customers.service import get as get_customer
from gridcare.customers.service import to_read as customer_read
from gridcare.errors import DomainError
from gridcare.models import Outage, WorkOrder
from gridcare.models.types import utcnow
from gridcare.outages.repository import outages_of_area
from gridcare.params import MAX_ID, IdPath, IdQuery
from gridcare.web import flash
from gridcare.web.base import FormDep, WebPrincipalDep, load_labels, render
from gridcare.web.forms import clean, parse
from gridcare.workorders import repository, service
from gridcare.workorders.schemas import WorkOrderCreate

router = APIRouter(include_in_schema=False)

RECENT_ORDERS = 8
# Category lists offered per business type (the complaint tree is three levels deep).
TYPE_CATEGORIES = {t: kind for t, (kind, _) in service.CATEGORY_KIND.items()}


@dataclass
class Choice:
    code: str
    name: str
    path: str  # "供电质量投诉 / 供电可靠性 / 频繁停电", what the search matches


@dataclass
class ChoiceGroup:
    title: str
    choices: list[Choice] = field(default_factory=list)


def _id(value: object) -> int | None:
    """A record id from a form or a link, if it is one that could exist."""
    text = str(value or "")
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def category_groups(session: Session) -> dict[str, list[ChoiceGroup]]:
    """Per business type, the leaf categories grouped under their parents, in catalogue order."""
    items = items_of(session, list(TYPE_CATEGORIES.values()), active_only=True)
    by_id = {i.id: i for i in items}
    children = {i.parent_id for i in items if i.parent_id is not None}
    result: dict[str, list[ChoiceGroup]] = {}
    for business_type, kind in TYPE_CATEGORIES.items():
        groups: dict[str, ChoiceGroup] = {}
        leaves = sorted(
            (i for i in items if i.kind == kind and i.id not in children), key=lambda i: (i.code, i.sort)
        )
        for leaf in leaves:
            names = [leaf.name]
            parent = by_id.get(leaf.parent_id) if leaf.parent_id else None
            while parent is not None:
                names.insert(0, parent.name)
                parent = by_id.get(parent.parent_id) if parent.parent_id else None
            title = " / ".join(names[:-1])
            groups.setdefault(title, ChoiceGroup(title)).choices.append(
                Choice(leaf.code, leaf.name, " / ".join(names))
            )
        result[business_type] = list(groups.values())
    return result


def _customer_and_recent(
    session: Session, principal: Principal, customer_id: int
) -> tuple[CustomerRead, Sequence[WorkOrder], list[Outage]]:
    """The caller, their orders of the last year, and the active and coming outages of their 台区
    (with the expected restoration: the agent answers "when is power back" from it)."""
    customer = get_customer(session, principal=principal, customer_id=customer_id)
    recent = repository.recent_of_customer(
        session, customer.id, since=utcnow() - timedelta(days=365), limit=RECENT_ORDERS
    )
    outages = outages_of_area(session, customer.transformer_area_id, after=utcnow())
    return customer, recent, outages


def _intake_page(
    request: Request,
    session: Session,
    principal: Principal,
    values: dict[str, Any],
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    principal.require(*service.INTAKE_ROLES, action="受理")
    labels = load_labels(session)
    customer: CustomerRead | None = None
    recent: Sequence[WorkOrder] = []
    outages: list[Outage] = []
    chosen = _id(values.get("customer_id"))
    if chosen is not None:
        try:
            customer, recent, outages = _customer_and_recent(session, principal, chosen)
        except DomainError:
            customer = None
    return render(
        request,
        "intake.html",
        {
            "values": values,
            "customer": customer,
            "recent": recent,
            "outages": outages,
            "labels": labels,
            "groups": category_groups(session),
            "catalog": labels.catalogs,
            "error": error,
        },
        status=status,
    )


@router.get("/intake", response_class=HTMLResponse)
def intake(
    request: Request,
    session: SessionDep,
    principal: WebPrincipalDep,
    customer_id: IdQuery = None,
) -> HTMLResponse:
    refused = flash.take(session, request, user_id=principal.user_id)
    if refused is not None:  # back after a refused save: what was typed, and why it was refused
        return _intake_page(
            request, session, principal, refused.values, error=refused.error, status=refused.status
        )
    values: dict[str, Any] = {
        "business_type": "complaint",
        "channel": "phone_95598",
        "urgency": "normal",
        "idempotency_key": uuid.uuid4().hex,
        "customer_id": customer_id,
    }
    return _intake_page(request, session, principal, values)


@router.get("/intake/search", response_class=HTMLResponse)
def search(request: Request, session: SessionDep, principal: WebPrincipalDep, q: str = "") -> HTMLResponse:
    """Hits for 户号, phone (exact), name (prefix) or an address fragment, as the agent types."""
    term = q.strip()
    rows = customers.search(session, principal=principal, q=term, limit=15) if len(term) >= 2 else []
    hits = [customer_read(row, principal) for row in rows]
    return render(request, "intake_results.html", {"hits": hits, "q": term})


@router.get("/intake/customer/{customer_id}", response_class=HTMLResponse)
def customer_card(
    request: Request, customer_id: IdPath, session: SessionDep, principal: WebPrincipalDep
) -> HTMLResponse:
    customer, recent, outages = _customer_and_recent(session, principal, customer_id)
    return render(
        request,
        "intake_customer.html",
        {"customer": customer, "recent": recent, "outages": outages, "labels": load_labels(session)},
    )


@router.get("/intake/repeat", response_class=HTMLResponse)
def repeat_check(
    request: Request,
    session: SessionDep,
    principal: WebPrincipalDep,
    settings: SettingsDep,
    customer_id: str = "",
    business_type: str = "",
    category: str = "",
) -> HTMLResponse:
    """The warning shown while the agent chooses the matter: the same matter raised in the window."""
    earlier = None
    chosen = _id(customer_id)
    if chosen is not None and business_type:
        customer = get_customer(session, principal=principal, customer_id=chosen)
        earlier_id = service.find_repeat(
            session,
            customer_id=customer.id,
            transformer_area_id=customer.transformer_area_id,
            business_type=business_type,
            category=category or None,
            at=utcnow(),
            window_days=settings.repeat_window_days,
        )
        earlier = repository.by_id(session, earlier_id) if earlier_id else None
    return render(
        request,
        "intake_repeat.html",
        {"earlier": earlier, "labels": load_labels(session), "window": settings.repeat_window_days},
    )


@router.post("/intake", response_class=HTMLResponse)
def submit(
    request: Request, session: SessionDep, principal: WebPrincipalDep, settings: SettingsDep, form: FormDep
) -> Response:
    values: dict[str, Any] = dict(form)
    data: dict[str, Any] = clean(
        form,
        "business_type",
        "category",
        "urgency",
        "channel",
        "content",
        "contact_name",
        "contact_phone",
        "customer_id",
        "address",
        "transformer_area_code",
        "village_code",
        "idempotency_key",
    )
    data["anonymous"] = form.get("anonymous") == "1"
    data["callback_declined"] = form.get("callback_declined") == "1"
    try:
        created = service.create(
            session, principal=principal, settings=settings, data=parse(WorkOrderCreate, data)
        )
    except DomainError as exc:
        return flash.refused(session, user_id=principal.user_id, error=exc, url="/intake", values=values)
    done = "created" if created.created else "duplicate"
    return RedirectResponse(f"/orders/{created.order.id}?done={done}", status_code=303)
