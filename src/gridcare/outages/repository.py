"""Queries for outages: the topology below a scope, the customers it reaches, the outages of a 台区."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, literal, or_, select, true
from sqlalchemy.orm import Session

from gridcare.auth.masking import phone_for
from gridcare.auth.principal import Principal
from gridcare.errors import InvalidInput
from gridcare.models import (
    BranchSwitch,
    Customer,
    Feeder,
    ItemEvent,
    Outage,
    OutageCustomer,
    OutageScopeItem,
    OutageStation,
    OutageTimeChange,
    OutboxMessage,
    Substation,
    TransformerArea,
    Unit,
    Village,
    WorkOrder,
)
from gridcare.outages.schemas import OutageScope

ACTIVE = ("announced", "confirmed", "predicted", "in_progress", "planned")


def areas_below(scope: OutageScope) -> Select[int]:
    """The ids of the 台区 a scope covers: behind its feeders, behind its switches, and those named."""
    conditions = []
    if scope.feeders:
        conditions.append(TransformerArea.feeder_id.in_(scope.feeders))
    if scope.branch_switches:
        conditions.append(TransformerArea.branch_switch_id.in_(scope.branch_switches))
    if scope.transformer_areas:
        conditions.append(TransformerArea.id.in_(scope.transformer_areas))
    return select(TransformerArea.id).where(or_(*conditions))


def missing_elements(session: Session, principal: Principal, scope: OutageScope) -> list[dict[str, object]]:
    """Scope ids that do not exist, as error details (field, id). A 台区 outside the user's scope is
    reported exactly like a missing one (feeders and switches are the grid's, listed to everyone)."""
    details: list[dict[str, object]] = []
    for field, model, ids in (
        ("feeders", Feeder, scope.feeders),
        ("branch_switches", BranchSwitch, scope.branch_switches),
        ("transformer_areas", TransformerArea, scope.transformer_areas),
    ):
        if not ids:
            continue
        query = select(model.id).where(model.id.in_(ids))
        if model is TransformerArea:
            query = query.where(principal.in_scope(TransformerArea.station_id))
        found = set(session.scalars(query))
        reason = "不存在或不在您的权限范围内" if model is TransformerArea else "不存在"
        details += [{"field": f"scope.{field}", "id": i, "reason": reason} for i in ids if i not in found]
    return details


def area_summary(session: Session, scope: OutageScope) -> tuple[int, int, int, list[int], list[str]]:
    """(台区, customers, important customers, station ids, village names) of a scope, without saving."""
    areas = areas_below(scope).subquery()
    customers, important = session.execute(
        select(func.count(), func.count().filter(Customer.is_important)).where(
            Customer.transformer_area_id.in_(select(areas.c.id))
        )
    ).one()
    stations = list(
        session.scalars(
            select(TransformerArea.station_id).where(TransformerArea.id.in_(select(areas.c.id))).distinct()
        )
    )
    count = session.scalar(select(func.count()).select_from(areas)) or 0
    villages = list(
        session.scalars(
            select(Village.name)
            .join(TransformerArea, TransformerArea.village_id == Village.id)
            .where(TransformerArea.id.in_(select(areas.c.id)))
            .distinct()
            .order_by(Village.name)
            .limit(6)
        )
    )
    return count, int(customers), int(important or 0), stations, villages


def save_scope(session: Session, outage_id: int, scope: OutageScope) -> None:
    rows = [
        {"outage_id": outage_id, "element": element, "element_id": i}
        for element, ids in (
            ("feeder", scope.feeders),
            ("branch_switch", scope.branch_switches),
            ("transformer_area", scope.transformer_areas),
        )
        for i in sorted(set(ids))
    ]
    session.execute(insert(OutageScopeItem), rows)


def save_affected(session: Session, outage_id: int, scope: OutageScope) -> tuple[int, int]:
    """Keep the customers the scope reaches now with the outage (one INSERT … SELECT); (customers, 台区)."""
    areas = areas_below(scope)
    session.execute(
        insert(OutageCustomer).from_select(
            ["outage_id", "customer_id", "transformer_area_id", "is_important"],
            select(
                literal(outage_id),
                Customer.id,
                Customer.transformer_area_id,
                Customer.is_important,
            ).where(Customer.transformer_area_id.in_(areas)),
        )
    )
    customers = session.scalar(select(func.count()).where(OutageCustomer.outage_id == outage_id)) or 0
    count = session.scalar(select(func.count()).select_from(areas.subquery())) or 0
    return int(customers), int(count)


def county_of(session: Session, station_ids: Sequence[int]) -> int | None:
    if not station_ids:
        return None
    return session.scalar(select(Unit.parent_id).where(Unit.id == station_ids[0]))


def outages_of_area(session: Session, transformer_area_id: int, *, after: datetime) -> list[Outage]:
    """Outages touching a 台区 that are active or still to come (for the agent taking a call)."""
    return list(
        session.scalars(
            select(Outage)
            .where(
                Outage.id.in_(
                    select(OutageCustomer.outage_id)
                    .where(OutageCustomer.transformer_area_id == transformer_area_id)
                    .distinct()
                ),
                Outage.status.in_(ACTIVE),
                Outage.expected_restore_at >= after,
            )
            .order_by(Outage.planned_start)
        )
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """Outages a user sees: those that reach a station in their scope (another station's outage in the
    same county is not theirs)."""
    if principal.covers_all:
        return true()
    return Outage.id.in_(select(OutageStation.outage_id).where(principal.in_scope(OutageStation.station_id)))


def list_outages(
    session: Session,
    *,
    principal: Principal,
    status: str | None,
    kind: str | None,
    start: datetime | None,
    end: datetime | None,
    offset: int,
    limit: int,
) -> list[Outage]:
    query = select(Outage).where(visible(principal))
    if status:
        query = query.where(Outage.status == status)
    if kind:
        query = query.where(Outage.kind == kind)
    if start is not None:
        query = query.where(Outage.expected_restore_at >= start)
    if end is not None:
        query = query.where(Outage.planned_start < end)
    return list(
        session.scalars(
            query.order_by(Outage.planned_start.desc(), Outage.id.desc()).offset(offset).limit(limit)
        )
    )


@dataclass(frozen=True)
class AffectedCustomer:
    """A household an outage affects, with its notices' delivery, as the viewer may see it."""

    customer_id: int
    account_no: str
    name: str
    phone: str | None
    address: str | None
    transformer_area: str
    is_important: bool
    notices_sent: int
    notices_pending: int
    notices_failed: int
    last_error: str | None


def affected_customers(
    session: Session, *, principal: Principal, outage_id: int, offset: int, limit: int
) -> list[AffectedCustomer]:
    """The affected customers in the user's scope with their notices' delivery, phones as the viewer
    may see them. A station sees its own households of an outage that also reaches others."""
    notices = (
        select(
            OutboxMessage.customer_id,
            func.count().filter(OutboxMessage.status == "sent").label("sent"),
            func.count().filter(OutboxMessage.status == "pending").label("pending"),
            func.count().filter(OutboxMessage.status == "failed").label("failed"),
            func.max(OutboxMessage.last_error).label("error"),
        )
        .where(
            OutboxMessage.item_kind == "outage",
            OutboxMessage.item_id == outage_id,
            OutboxMessage.customer_id.is_not(None),
        )
        .group_by(OutboxMessage.customer_id)
        .subquery()
    )
    return [
        AffectedCustomer(
            customer_id=c.id,
            account_no=c.account_no,
            name=c.name,
            phone=phone_for(principal, c.phone),
            address=c.address,
            transformer_area=area,
            is_important=bool(important),
            notices_sent=int(sent),
            notices_pending=int(pending),
            notices_failed=int(failed),
            last_error=error,
        )
        for c, area, important, sent, pending, failed, error in session.execute(
            select(
                Customer,
                TransformerArea.name,
                OutageCustomer.is_important,
                func.coalesce(notices.c.sent, 0),
                func.coalesce(notices.c.pending, 0),
                func.coalesce(notices.c.failed, 0),
                notices.c.error,
            )
            .join(OutageCustomer, OutageCustomer.customer_id == Customer.id)
            .join(TransformerArea, TransformerArea.id == OutageCustomer.transformer_area_id)
            .outerjoin(notices, notices.c.customer_id == Customer.id)
            .where(OutageCustomer.outage_id == outage_id, principal.in_scope(Customer.station_id))
            .order_by(OutageCustomer.is_important.desc(), Customer.account_no)
            .offset(offset)
            .limit(limit)
        )
    ]


def grid_choices(session: Session, principal: Principal) -> dict[str, Any]:
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
    return {"feeders": feeders, "switches": switches}


def scope_area_ids(session: Session, principal: Principal, codes: str) -> list[int]:
    """The 台区 an outage form names by code (comma- or space-separated), each in the user's scope."""
    wanted = [c.strip() for c in codes.replace("，", ",").replace(" ", ",").split(",") if c.strip()]
    if not wanted:
        return []
    found = dict(
        session.execute(
            select(TransformerArea.code, TransformerArea.id).where(
                TransformerArea.code.in_(wanted), principal.in_scope(TransformerArea.station_id)
            )
        ).all()
    )
    missing = [c for c in wanted if c not in found]
    if missing:
        raise InvalidInput(
            f"台区编号不存在或不在您的权限范围内：{'、'.join(missing[:20])}",
            details=[{"field": "transformer_areas", "reason": "不存在或不在您的权限范围内"}],
        )
    return [found[c] for c in wanted]


def attached_orders(session: Session, principal: Principal, outage_id: int) -> Sequence[WorkOrder]:
    """The repair calls attached to the outage, those in the user's scope."""
    return session.scalars(
        select(WorkOrder)
        .where(WorkOrder.outage_id == outage_id, principal.in_scope(WorkOrder.station_id))
        .order_by(WorkOrder.id)
    ).all()


def time_changes(session: Session, outage_id: int) -> Sequence[OutageTimeChange]:
    return session.scalars(
        select(OutageTimeChange).where(OutageTimeChange.outage_id == outage_id).order_by(OutageTimeChange.id)
    ).all()


def history(session: Session, outage_id: int) -> Sequence[ItemEvent]:
    """The outage's events (登记, 发布, 停电, 复电 …), oldest first."""
    return session.scalars(
        select(ItemEvent)
        .where(ItemEvent.process == "outage", ItemEvent.item_id == outage_id)
        .order_by(ItemEvent.id)
    ).all()


def villages_reached(session: Session, principal: Principal, outage_id: int) -> list[tuple[str, int]]:
    """(village, households affected) in the user's scope: one board notice per village."""
    rows = session.execute(
        select(Village.name, func.count(OutageCustomer.customer_id))
        .join(Customer, Customer.village_id == Village.id)
        .join(OutageCustomer, OutageCustomer.customer_id == Customer.id)
        .where(OutageCustomer.outage_id == outage_id, principal.in_scope(Customer.station_id))
        .group_by(Village.name)
        .order_by(Village.name)
    ).all()
    return [(str(name), int(n)) for name, n in rows]
