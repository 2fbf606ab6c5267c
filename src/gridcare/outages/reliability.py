"""Reliability indices (IEEE 1366; DL/T 836 in China), per unit or feeder and period (docs/domain.md §7).

- Customers served (N): the customers of the unit or feeder now, through their 台区.
- A **sustained interruption** is an outage on company assets (not 欠费停电, not a customer-side cause,
  not a declared disaster) that lasted more than 3 minutes. It counts in the period it started in;
  its duration is clipped to the period (an outage still on counts up to now).
- The customers of an interruption are those it affected (kept with it), within the unit or feeder.
- SAIFI = Σ customers interrupted / N; SAIDI = Σ (hours × customers interrupted) / N, in hours;
  CAIDI = SAIDI / SAIFI; 供电可靠率 RS-1 = (1 − SAIDI / hours in the period) × 100 %;
  CEMI-n = customers with more than n sustained interruptions / N, in %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from gridcare.models import Customer, Outage, OutageCustomer, TransformerArea, Unit
from gridcare.models.types import utcnow


@dataclass(frozen=True)
class Where:
    """The customers counted: of a unit (by its path) or of a feeder."""

    unit_path: str | None = None
    feeder_id: int | None = None

    def areas(self) -> ColumnElement[bool]:
        if self.feeder_id is not None:
            return TransformerArea.feeder_id == self.feeder_id
        if self.unit_path:
            return TransformerArea.station_id.in_(select(Unit.id).where(Unit.path.startswith(self.unit_path)))
        return TransformerArea.id.is_not(None)


def sustained(start: datetime, end: datetime, now: datetime) -> ColumnElement[bool]:
    """Outages that count: company causes, sustained, started in [start, end)."""
    return and_(
        Outage.kind != "arrears",
        Outage.cause_class == "company",
        Outage.momentary.is_(False),
        Outage.actual_start.is_not(None),
        Outage.actual_start >= start,
        Outage.actual_start < end,
        Outage.status.in_(("in_progress", "confirmed", "restored", "closed")),
        or_(Outage.actual_end.is_not(None), Outage.actual_start < now),
    )


def indices(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    where: Where,
    cemi: Sequence[int] = (1, 2, 3),
    now: datetime | None = None,
) -> dict[str, object]:
    now = now or utcnow()
    areas = select(TransformerArea.id).where(where.areas())
    everywhere = where.unit_path in (None, "", "/") and where.feeder_id is None
    served_query = select(func.count()).select_from(Customer)
    links = [OutageCustomer.outage_id.in_(select(Outage.id).where(sustained(start, end, now)))]
    if not everywhere:
        served_query = served_query.where(Customer.transformer_area_id.in_(areas))
        links.append(OutageCustomer.transformer_area_id.in_(areas))
    served = session.scalar(served_query) or 0
    # The interruptions (a few thousand a year), then their customers in scope, counted per outage
    # (the primary key's order) and per customer (the (customer, outage, 台区) index's order).
    spans = {
        i: (began, ended)
        for i, began, ended in session.execute(
            select(Outage.id, Outage.actual_start, Outage.actual_end).where(sustained(start, end, now))
        )
    }
    per_outage = session.execute(
        select(OutageCustomer.outage_id, func.count()).where(*links).group_by(OutageCustomer.outage_id)
    ).all()
    interrupted = 0
    customer_hours = 0.0
    for outage_id, customers in per_outage:
        began, ended = spans[outage_id]
        assert began is not None  # `sustained` requires it
        stop = min(ended or now, end)
        hours = max((stop - max(began, start)).total_seconds(), 0.0) / 3600
        interrupted += int(customers)
        customer_hours += hours * int(customers)
    counts = (
        select(OutageCustomer.customer_id, func.count().label("n"))
        .where(*links)
        .group_by(OutageCustomer.customer_id)
        .subquery()
    )
    # One pass over the per-customer counts for every n.
    tallies = session.execute(
        select(*(func.coalesce(func.sum(case((counts.c.n > n, 1), else_=0)), 0) for n in cemi))
    ).one()
    over = {n: int(tally) for n, tally in zip(cemi, tallies, strict=True)}
    period_hours = (end - start).total_seconds() / 3600
    saifi = interrupted / served if served else None
    saidi = customer_hours / served if served else None
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "customers_served": served,
        "interruptions": len(per_outage),
        "customers_interrupted": interrupted,
        "customer_hours": round(customer_hours, 4),
        "saifi": None if saifi is None else round(saifi, 4),
        "saidi_hours": None if saidi is None else round(saidi, 4),
        "caidi_hours": round(saidi / saifi, 4) if saidi is not None and saifi else None,
        "rs1": None if saidi is None else round((1 - saidi / period_hours) * 100, 4),
        "cemi": {str(n): (round(count * 100 / served, 4) if served else None) for n, count in over.items()},
    }
