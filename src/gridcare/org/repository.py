"""Queries for units and villages, always within the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.models import Unit, Village


def list_units(session: Session, *, principal: Principal, kind: str | None = None) -> Sequence[Unit]:
    stmt = select(Unit).where(principal.in_scope(Unit.id)).order_by(Unit.path)
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    return session.scalars(stmt).all()


def get_unit(session: Session, *, principal: Principal, unit_id: int) -> Unit | None:
    unit = session.get(Unit, unit_id)
    return unit if unit is not None and principal.covers_path(unit.path) else None


def list_villages(
    session: Session,
    *,
    principal: Principal,
    station_id: int | None,
    q: str | None,
    offset: int,
    limit: int,
) -> Sequence[Village]:
    stmt = select(Village).where(principal.in_scope(Village.station_id))
    if station_id is not None:
        stmt = stmt.where(Village.station_id == station_id)
    if q:
        stmt = stmt.where(Village.name.contains(q, autoescape=True))
    return session.scalars(stmt.order_by(Village.id).offset(offset).limit(limit)).all()


def unit_names(session: Session) -> dict[int, str]:
    """{unit id: name} of every unit (the pages' labels: names are not confidential)."""
    return {int(i): str(n) for i, n in session.execute(select(Unit.id, Unit.name)).all()}
