"""Frequent-outage watch (频繁停电, docs/domain.md §7): customers who may complain before they do.

Counted per customer over the last 2 months: sustained outages on company assets. Left out: 欠费停电,
causes on the customer's side, declared disasters, and flickers of 3 minutes or less, up to
`FLICKER_ALLOWANCE` a day (the 4th flicker of a day counts). 2 → the station's watch list; 3 or more
→ flagged (a frequent-outage complaint is justified).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.calendar import BEIJING, add_months
from gridcare.models import Customer, Outage, OutageCustomer, TransformerArea, Unit
from gridcare.models.types import utcnow

WATCH_AT = 2
FLAG_AT = 3
FLICKER_ALLOWANCE = 3
BUNDLE_DAYS = 60
COUNTED = ("in_progress", "confirmed", "restored", "closed")


@dataclass
class Watched:
    customer_id: int
    account_no: str
    name: str
    transformer_area: str
    station: str
    outages: int
    last_at: datetime
    level: str  # "watch" or "flagged"


def counts(
    session: Session, *, station_ids: list[int] | None, now: datetime | None = None
) -> dict[int, tuple[int, datetime]]:
    """Customer id → (counted outages in the last 2 months, the latest one's start)."""
    now = now or utcnow()
    local = now.astimezone(BEIJING)
    since = datetime.combine(add_months(local.date(), -2), local.timetz())
    rows = select(OutageCustomer.customer_id, Outage.actual_start, Outage.momentary).join(
        Outage, Outage.id == OutageCustomer.outage_id
    )
    rows = rows.where(
        Outage.kind != "arrears",
        Outage.cause_class == "company",
        Outage.status.in_(COUNTED),
        Outage.actual_start >= since,
        Outage.actual_start <= now,
    )
    if station_ids is not None:
        areas = select(TransformerArea.id).where(TransformerArea.station_id.in_(station_ids))
        rows = rows.where(OutageCustomer.transformer_area_id.in_(areas))
    sustained: dict[int, int] = defaultdict(int)
    flickers: dict[tuple[int, date], int] = defaultdict(int)
    latest: dict[int, datetime] = {}
    for customer_id, began, momentary in session.execute(rows):
        assert began is not None  # filtered on it
        if momentary:
            flickers[(customer_id, began.astimezone(BEIJING).date())] += 1
        else:
            sustained[customer_id] += 1
        latest[customer_id] = max(latest.get(customer_id, began), began)
    for (customer_id, _), n in flickers.items():
        if n > FLICKER_ALLOWANCE:
            sustained[customer_id] += n - FLICKER_ALLOWANCE
    return {c: (n, latest[c]) for c, n in sustained.items() if n}


def watch_list(session: Session, *, principal: Principal, now: datetime | None = None) -> list[Watched]:
    """Customers of the user's stations at 2 or more counted outages, most outages first."""
    stations = list(
        session.scalars(select(Unit.id).where(Unit.kind == "station", principal.in_scope(Unit.id)))
    )
    found = {c: v for c, v in counts(session, station_ids=stations, now=now).items() if v[0] >= WATCH_AT}
    if not found:
        return []
    details = session.execute(
        select(Customer.id, Customer.account_no, Customer.name, TransformerArea.name, Unit.name)
        .join(TransformerArea, TransformerArea.id == Customer.transformer_area_id)
        .join(Unit, Unit.id == Customer.station_id)
        .where(Customer.id.in_(list(found)))
    ).all()
    listed = [
        Watched(
            cid,
            account,
            name,
            area,
            station,
            found[cid][0],
            found[cid][1],
            "flagged" if found[cid][0] >= FLAG_AT else "watch",
        )
        for cid, account, name, area, station in details
    ]
    return sorted(listed, key=lambda w: (-w.outages, w.account_no))


def recently_out(session: Session, *, area_ids: Select[Any], now: datetime | None = None) -> int:
    """How many customers of these 台区 had an outage in the last 60 days (suggest bundling work: 一停多用)."""
    now = now or utcnow()
    return int(
        session.scalar(
            select(func.count(func.distinct(OutageCustomer.customer_id)))
            .join(Outage, Outage.id == OutageCustomer.outage_id)
            .where(
                OutageCustomer.transformer_area_id.in_(area_ids),
                Outage.kind != "arrears",
                Outage.status.in_(COUNTED),
                Outage.actual_start >= now - timedelta(days=BUNDLE_DAYS),
            )
        )
        or 0
    )
