"""Intake (受理): validation against the catalogues, routing by the grid, numbering, idempotency,
repeat calls and sensitive customers. Transitions live in actions.py."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Select, Table, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from gridcare.audit.service import record
from gridcare.auth.principal import SYSTEM, Principal
from gridcare.calendar import BEIJING
from gridcare.catalogs.service import ACTIVE
from gridcare.config import Settings
from gridcare.engine import machine
from gridcare.engine.machine import Context
from gridcare.errors import InvalidInput, NotFound
from gridcare.models import (
    CatalogItem,
    Customer,
    OrderCounter,
    TransformerArea,
    Unit,
    Village,
    WorkOrder,
)
from gridcare.models.enums import Role
from gridcare.models.types import utcnow
from gridcare.workorders import hooks
from gridcare.workorders.process import KEEPER
from gridcare.workorders.schemas import WorkOrderCreate
from gridcare.workorders.steps import arm, enter_step, step_name

INTAKE_ROLES = (Role.agent, Role.dispatcher, Role.station_staff)
# Which catalogue a type's `category` comes from, and whether it is required.
CATEGORY_KIND = {
    "complaint": ("complaint_category", True),
    "fault_repair": ("fault_kind", False),
    "service_request": ("service_request_kind", False),
}


@dataclass
class Created:
    order: WorkOrder
    created: bool  # False: an earlier request with the same idempotency key made it


def catalog_item(session: Session, kind: str, code: str | None) -> CatalogItem | None:
    if code is None:
        return None
    return session.scalar(
        select(CatalogItem).where(CatalogItem.kind == kind, CatalogItem.code == code, CatalogItem.active)
    )


def require_code(session: Session, kind: str, code: str, field: str, label: str) -> CatalogItem:
    item = catalog_item(session, kind, code)
    if item is None:
        raise InvalidInput(f"{label}“{code}”不存在或已停用", details=[{"field": field}])
    return item


def _validate(session: Session, data: WorkOrderCreate) -> None:
    """Every code of the request against the active catalogues (kept by the process: catalogs.service)."""
    kind, required = CATEGORY_KIND.get(data.business_type, (None, False))
    wanted = [
        ("business_type", data.business_type, "business_type", "业务类型"),
        ("channel", data.channel, "channel", "受理渠道"),
        ("urgency", data.urgency, "urgency", "紧急程度"),
    ]
    if data.complaint_level:
        wanted.append(("complaint_level", data.complaint_level, "complaint_level", "投诉等级"))
    if kind is not None and data.category is not None:
        wanted.append((kind, data.category, "category", "分类"))
    found = ACTIVE.get(session)
    for k, code, field, label in wanted:
        if (k, code) not in found:
            raise InvalidInput(f"{label}“{code}”不存在或已停用", details=[{"field": field}])
    if kind is None:
        if data.category:
            raise InvalidInput(f"业务类型 {data.business_type} 不设分类", details=[{"field": "category"}])
        return
    if data.category is None:
        if required:
            raise InvalidInput("投诉工单必须选择三级投诉分类", details=[{"field": "category"}])
        return
    item = found[(kind, data.category)]
    if kind == "complaint_category" and item.level != 3:
        raise InvalidInput(
            f"投诉分类“{item.name}”不是三级分类，请选择到最末一级", details=[{"field": "category"}]
        )


# The statements intake runs for every order, built once (building a statement costs more than running
# it): parameters are bound at each call. The scope is checked on the row read.
_CUSTOMER_BY_ID = select(Customer).where(Customer.id == bindparam("value"))
_CUSTOMER_BY_ACCOUNT = select(Customer).where(Customer.account_no == bindparam("value"))
_CUSTOMERS_BY_PHONE = (
    select(Customer)
    .where(or_(Customer.phone == bindparam("value"), Customer.phone_alt == bindparam("value")))
    .order_by(Customer.id)
)


def _find_customer(session: Session, principal: Principal, data: WorkOrderCreate) -> Customer | None:
    if data.customer_id is not None:
        found = session.scalar(_CUSTOMER_BY_ID, {"value": data.customer_id})
        if found is None or not principal.in_scope_id(found.station_id):
            raise InvalidInput(
                f"客户 {data.customer_id} 不存在或不在您的权限范围内", details=[{"field": "customer_id"}]
            )
        return found
    if data.account_no:
        found = session.scalar(_CUSTOMER_BY_ACCOUNT, {"value": data.account_no})
        if found is None or not principal.in_scope_id(found.station_id):
            raise InvalidInput(
                f"户号 {data.account_no} 不存在或不在您的权限范围内", details=[{"field": "account_no"}]
            )
        return found
    if data.phone:
        matches = [
            c
            for c in session.scalars(_CUSTOMERS_BY_PHONE, {"value": data.phone})
            if principal.in_scope_id(c.station_id)
        ][:2]
        if len(matches) > 1:
            raise InvalidInput("该电话号码对应多个客户，请提供户号", details=[{"field": "phone"}])
        if matches:
            return matches[0]
    return None


_CUSTOMER_PLACE = (
    select(TransformerArea, Unit, Village)
    .join(Unit, Unit.id == TransformerArea.station_id)
    .outerjoin(Village, Village.id == bindparam("village"))
    .where(TransformerArea.id == bindparam("area"))
)


@dataclass
class Route:
    station: Unit
    area: TransformerArea | None
    village: Village | None
    handler_user_id: int | None


def _route(session: Session, principal: Principal, data: WorkOrderCreate, customer: Customer | None) -> Route:
    """The station that owns the customer's 台区 (or the caller's village), and the default handler."""
    area = None
    village = None
    if customer is not None:
        # The 台区, its station and the customer's village in one read (then from the identity map).
        found = session.execute(
            _CUSTOMER_PLACE, {"area": customer.transformer_area_id, "village": customer.village_id}
        ).first()
        if found is not None:
            area, _, village = found
    elif data.transformer_area_code:
        # Another station's 台区 (or village) answers exactly like a missing one.
        area = session.scalar(
            select(TransformerArea).where(
                TransformerArea.code == data.transformer_area_code,
                principal.in_scope(TransformerArea.station_id),
            )
        )
        if area is None:
            raise InvalidInput(
                f"台区编号 {data.transformer_area_code} 不存在或不在您的权限范围内",
                details=[{"field": "transformer_area_code"}],
            )
    if village is None and data.village_code:
        village = session.scalar(
            select(Village).where(Village.code == data.village_code, principal.in_scope(Village.station_id))
        )
        if village is None:
            raise InvalidInput(
                f"村/社区编号 {data.village_code} 不存在或不在您的权限范围内",
                details=[{"field": "village_code"}],
            )
    if village is None and area is not None and area.village_id:
        village = session.get(Village, area.village_id)
    if area is None and village is None:
        raise InvalidInput(
            "无法确定供电单位：请提供户号、来电号码、台区编号或村/社区编号",
            details=[{"field": "account_no"}, {"field": "transformer_area_code"}, {"field": "village_code"}],
        )
    station_id = area.station_id if area is not None else village.station_id  # type: ignore[union-attr]
    station = session.get(Unit, station_id)
    assert station is not None
    if not principal.covers_path(station.path):
        raise InvalidInput(f"{station.name} 不在您的权限范围内", details=[{"field": "transformer_area_code"}])
    handler = area.manager_user_id if area is not None else None
    if handler is None and village is not None:
        handler = village.liaison_user_id
    return Route(station=station, area=area, village=village, handler_user_id=handler)


def _take_numbers(connection: Connection, day: date, count: int) -> int:
    """Raise the day's counter by `count` (one upsert); the last number taken."""
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    counters = cast(Table, OrderCounter.__table__)
    statement = (
        insert(counters)
        .values(day=day, value=count)
        .on_conflict_do_update(index_elements=[counters.c.day], set_={"value": counters.c.value + count})
        .returning(counters.c.value)
    )
    value: int = connection.execute(statement).scalar_one()
    return value


class _NumberBlocks:
    """On PostgreSQL each process takes the day's numbers a block at a time, in a short transaction of
    its own: the counter's row lock is held for that instant, not until every create commits (which
    made concurrent creates queue behind one another). Numbers stay unique and readable; a block a
    process did not use up leaves a gap, and numbers of one day need not follow acceptance order
    across processes."""

    SIZE = 20

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blocks: dict[tuple[str, date], tuple[int, int]] = {}

    def take(self, engine: Engine, day: date) -> int:
        key = (str(engine.url), day)
        with self._lock:
            following, last = self._blocks.get(key, (1, 0))
            if following > last:
                with engine.begin() as connection:
                    last = _take_numbers(connection, day, self.SIZE)
                following = last - self.SIZE + 1
            self._blocks[key] = (following + 1, last)
            return following


_BLOCKS = _NumberBlocks()


def next_number(session: Session, now: datetime) -> str:
    """Readable and unique under concurrency: Beijing date + a per-day sequence (20261129000123)."""
    day = now.astimezone(BEIJING).date()
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        value = _BLOCKS.take(bind, day)
    else:  # SQLite: one writer at a time anyway; the counter is written in this transaction
        value = _take_numbers(session.connection(), day, 1)
    return f"{day:%Y%m%d}{value:06d}"


def _earlier(by: InstrumentedAttribute[Any], with_category: bool) -> Select[Any]:
    query = select(WorkOrder.id).where(
        by == bindparam("key"),
        WorkOrder.created_at >= bindparam("since"),
        WorkOrder.business_type == bindparam("business_type"),
    )
    if with_category:
        query = query.where(WorkOrder.category == bindparam("category"))
    return query.order_by(WorkOrder.created_at.desc()).limit(1)


_EARLIER = {
    (by.key, with_category): _earlier(by, with_category)
    for by in (WorkOrder.customer_id, WorkOrder.transformer_area_id)
    for with_category in (True, False)
}


def find_repeat(
    session: Session,
    *,
    customer_id: int | None,
    transformer_area_id: int | None,
    business_type: str,
    category: str | None,
    at: datetime,
    window_days: int,
) -> int | None:
    """The latest earlier order on the same matter within the window: same customer, type and category —
    or, for a complaint, same 台区 and complaint leaf."""
    params: dict[str, Any] = {
        "since": at - timedelta(days=window_days),
        "business_type": business_type,
        "category": category,
    }
    earlier: int | None = None
    if customer_id is not None:
        query = _EARLIER[("customer_id", category is not None)]
        earlier = session.scalar(query, {**params, "key": customer_id})
    if earlier is None and business_type == "complaint" and transformer_area_id and category:
        earlier = session.scalar(
            _EARLIER[("transformer_area_id", True)], {**params, "key": transformer_area_id}
        )
    return earlier


def _mark_repeat(session: Session, order: WorkOrder, settings: Settings) -> None:
    earlier = find_repeat(
        session,
        customer_id=order.customer_id,
        transformer_area_id=order.transformer_area_id,
        business_type=order.business_type,
        category=order.category,
        at=order.accepted_at,
        window_days=settings.repeat_window_days,
    )
    if earlier is not None:
        order.is_repeat = True
        order.repeat_of_id = earlier


_COMPLAINTS = select(func.count()).where(
    WorkOrder.customer_id == bindparam("customer"),
    WorkOrder.business_type == "complaint",
    WorkOrder.created_at >= bindparam("since"),
)


def _mark_sensitive(
    session: Session, principal: Principal, customer: Customer, settings: Settings, now: datetime
) -> None:
    if customer.is_sensitive:
        return
    complaints = (
        session.scalar(_COMPLAINTS, {"customer": customer.id, "since": now - timedelta(days=365)}) or 0
    )
    if complaints >= settings.sensitive_after_complaints:
        customer.is_sensitive = True
        record(
            session,
            actor=principal,
            action="flag_sensitive",
            entity="customer",
            entity_id=customer.id,
            detail={"complaints_12_months": complaints},
        )


def scoped_key(principal: Principal, key: str | None) -> str | None:
    """An idempotency key belongs to the user who sent it: another user's request with the same key is
    a different request (it must never return someone else's order)."""
    return f"{principal.user_id}:{key}" if key else None


def by_idempotency_key(session: Session, principal: Principal, key: str | None) -> WorkOrder | None:
    stored = scoped_key(principal, key)
    return session.scalar(select(WorkOrder).where(WorkOrder.idempotency_key == stored)) if stored else None


def create(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    data: WorkOrderCreate,
    urged: WorkOrder | None = None,
    now: datetime | None = None,
) -> Created:
    principal.require(*INTAKE_ROLES)
    existing = by_idempotency_key(session, principal, data.idempotency_key)
    if existing is not None:
        return Created(existing, created=False)
    _validate(session, data)
    now = now or utcnow()
    customer = _find_customer(session, principal, data) if urged is None else None
    if urged is not None:
        station = session.get(Unit, urged.station_id)
        assert station is not None
        route = Route(station=station, area=None, village=None, handler_user_id=urged.handler_user_id)
        area_class = urged.area_class
    else:
        route = _route(session, principal, data, customer)
        area_class = route.village.area_class if route.village is not None else "rural"
    order = WorkOrder(
        number=next_number(session, now),
        idempotency_key=scoped_key(principal, data.idempotency_key),
        business_type=data.business_type,
        category=data.category,
        complaint_level=data.complaint_level,
        urgency=data.urgency,
        channel=data.channel,
        content=data.content,
        contact_name=data.contact_name or (customer.name if customer else None),
        contact_phone=data.contact_phone or (customer.phone if customer else None),
        anonymous=data.anonymous,
        callback_declined=data.callback_declined,
        customer_id=customer.id if customer else (urged.customer_id if urged else None),
        address=data.address or (customer.address if customer else (urged.address if urged else None)),
        village_id=route.village.id if route.village else (urged.village_id if urged else None),
        transformer_area_id=route.area.id if route.area else (urged.transformer_area_id if urged else None),
        station_id=route.station.id,
        county_id=route.station.parent_id or route.station.id,
        area_class=area_class,
        handler_user_id=route.handler_user_id,
        first_owner_user_id=principal.user_id or None,
        created_by=principal.user_id or None,
        accepted_at=now,
        step="pending_dispatch",
        step_entered_at=now,
        urged_order_id=urged.id if urged else None,
        fault_point=data.fault_point,
        created_at=now,
        updated_at=now,
    )
    if urged is None:
        _mark_repeat(session, order, settings)
    enter_step(session, order, "pending_dispatch", now=now, settings=settings)
    if data.idempotency_key is None:
        session.add(order)
        session.flush()
    else:
        try:
            with session.begin_nested():  # a concurrent retry of the same request may win the race
                session.add(order)
                session.flush()
        except IntegrityError:
            existing = by_idempotency_key(session, principal, data.idempotency_key)
            if existing is not None:
                return Created(existing, created=False)
            raise
    arm(session, order)
    ctx = Context(session=session, actor=principal, settings=settings, now=now)
    first = {"number": order.number, "first_owner": principal.username, "is_repeat": order.is_repeat}
    machine.begin(ctx, KEEPER, order, "pending_dispatch", data=first)
    if order.calendar_missing_year:  # the system's note, not the agent's
        machine.record(
            Context(session=session, actor=SYSTEM, settings=settings, now=now),
            KEEPER,
            order,
            "calendar_missing",
            note=f"{order.calendar_missing_year} 年工作日历未载入，{step_name(order.step)}时限无法计算，请管理员载入日历",
        )
    if customer is not None and data.business_type == "complaint":
        _mark_sensitive(session, principal, customer, settings, now)
    session.flush()
    hooks.order_created.publish(session, hooks.OrderEvent(order, ctx))
    session.flush()
    return Created(order, created=True)


def get_scoped(session: Session, *, principal: Principal, order_id: int) -> WorkOrder:
    order = session.scalar(
        select(WorkOrder).where(WorkOrder.id == order_id, principal.in_scope(WorkOrder.station_id))
    )
    if order is None:
        raise NotFound(f"工单 {order_id} 不存在或不在您的权限范围内")
    return order
