"""Queries for grid equipment. Equipment is visible to every user; 台区 are scoped by station."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.models import BranchSwitch, Feeder, Substation, TransformerArea


def list_substations(session: Session, *, offset: int, limit: int) -> Sequence[Substation]:
    return session.scalars(select(Substation).order_by(Substation.id).offset(offset).limit(limit)).all()


def list_feeders(session: Session, *, substation_id: int | None, offset: int, limit: int) -> Sequence[Feeder]:
    stmt = select(Feeder)
    if substation_id is not None:
        stmt = stmt.where(Feeder.substation_id == substation_id)
    return session.scalars(stmt.order_by(Feeder.id).offset(offset).limit(limit)).all()


def list_branch_switches(
    session: Session, *, feeder_id: int | None, offset: int, limit: int
) -> Sequence[BranchSwitch]:
    stmt = select(BranchSwitch)
    if feeder_id is not None:
        stmt = stmt.where(BranchSwitch.feeder_id == feeder_id)
    return session.scalars(stmt.order_by(BranchSwitch.id).offset(offset).limit(limit)).all()


def list_transformer_areas(
    session: Session,
    *,
    principal: Principal,
    station_id: int | None,
    feeder_id: int | None,
    q: str | None,
    offset: int,
    limit: int,
) -> Sequence[TransformerArea]:
    stmt = select(TransformerArea).where(principal.in_scope(TransformerArea.station_id))
    if station_id is not None:
        stmt = stmt.where(TransformerArea.station_id == station_id)
    if feeder_id is not None:
        stmt = stmt.where(TransformerArea.feeder_id == feeder_id)
    if q:
        stmt = stmt.where((TransformerArea.code == q) | TransformerArea.name.contains(q, autoescape=True))
    return session.scalars(stmt.order_by(TransformerArea.id).offset(offset).limit(limit)).all()


def get_transformer_area(session: Session, *, principal: Principal, area_id: int) -> TransformerArea | None:
    stmt = select(TransformerArea).where(
        TransformerArea.id == area_id, principal.in_scope(TransformerArea.station_id)
    )
    return session.scalar(stmt)
