"""Customer rules: who may see and change what, optimistic concurrency, masking, audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridcare.audit.service import record
from gridcare.auth.masking import id_number_for, phone_for
from gridcare.auth.principal import Principal
from gridcare.customers import repository
from gridcare.customers.schemas import CustomerCreate, CustomerRead, CustomerUpdate
from gridcare.errors import Conflict, InvalidInput, NotFound
from gridcare.models import Customer, TransformerArea, Village
from gridcare.models.enums import Role

EDITOR_ROLES = (Role.agent, Role.station_staff, Role.admin)
# Personal data: never written to the audit log in clear.
PERSONAL_FIELDS = frozenset({"phone", "phone_alt", "id_number"})


def to_read(row: Any, principal: Principal) -> CustomerRead:
    customer: Customer = row[0]
    data = CustomerRead.model_validate(customer).model_dump()
    data.update(
        village_name=row.village_name,
        area_class=row.area_class,
        transformer_area_code=row.transformer_area_code,
        transformer_area_name=row.transformer_area_name,
        station_name=row.station_name,
    )
    data["phone"] = phone_for(principal, customer.phone)
    data["phone_alt"] = phone_for(principal, customer.phone_alt)
    data["id_number"] = id_number_for(principal, customer.id_number)
    return CustomerRead(**data)


def audit_values(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in PERSONAL_FIELDS and v else v) for k, v in changes.items()}


def get(session: Session, *, principal: Principal, customer_id: int) -> CustomerRead:
    row = repository.get(session, principal=principal, customer_id=customer_id)
    if row is None:
        raise NotFound(f"客户 {customer_id} 不存在或不在您的权限范围内")
    return to_read(row, principal)


def _area_in_scope(session: Session, principal: Principal, code: str) -> TransformerArea:
    """The 台区 by code, if it is the user's; another station's answers exactly like a missing one."""
    area = session.scalar(
        select(TransformerArea).where(
            TransformerArea.code == code, principal.in_scope(TransformerArea.station_id)
        )
    )
    if area is None:
        raise InvalidInput(
            f"台区编号 {code} 不存在或不在您的权限范围内", details=[{"field": "transformer_area_code"}]
        )
    return area


def _village_in_scope(session: Session, principal: Principal, code: str, area: TransformerArea) -> int:
    """The village by code: the user's, and served by the 台区's station."""
    village = session.scalar(
        select(Village).where(Village.code == code, principal.in_scope(Village.station_id))
    )
    if village is None:
        raise InvalidInput(
            f"村/社区编号 {code} 不存在或不在您的权限范围内", details=[{"field": "village_code"}]
        )
    if village.station_id != area.station_id:
        raise InvalidInput(
            f"村/社区 {village.name} 与台区 {area.code} 不属于同一供电所", details=[{"field": "village_code"}]
        )
    return village.id


def create(session: Session, *, principal: Principal, data: CustomerCreate) -> CustomerRead:
    """A new customer on one of the user's 台区. Scope is checked before the 户号, so a 户号 of another
    unit is never told apart from a free one by a different answer to a station outside it."""
    principal.require(*EDITOR_ROLES)
    area = _area_in_scope(session, principal, data.transformer_area_code)
    village_id = area.village_id
    if data.village_code:
        village_id = _village_in_scope(session, principal, data.village_code, area)
    if session.scalar(select(Customer.id).where(Customer.account_no == data.account_no)) is not None:
        raise Conflict(f"户号 {data.account_no} 已被使用，不能重复建档", details=[{"field": "account_no"}])
    fields = data.model_dump(exclude={"transformer_area_code", "village_code"})
    customer = Customer(
        **fields, transformer_area_id=area.id, station_id=area.station_id, village_id=village_id
    )
    try:
        with session.begin_nested():
            session.add(customer)
            session.flush()
    except IntegrityError as exc:  # the same 户号 created meanwhile by someone else
        raise Conflict(
            f"户号 {data.account_no} 已被使用，不能重复建档", details=[{"field": "account_no"}]
        ) from exc
    record(
        session,
        actor=principal,
        action="create",
        entity="customer",
        entity_id=customer.id,
        detail=audit_values(data.model_dump(mode="json")),
    )
    return get(session, principal=principal, customer_id=customer.id)


def update(session: Session, *, principal: Principal, customer_id: int, data: CustomerUpdate) -> CustomerRead:
    principal.require(*EDITOR_ROLES)
    row = repository.get(session, principal=principal, customer_id=customer_id)
    if row is None:
        raise NotFound(f"客户 {customer_id} 不存在或不在您的权限范围内")
    customer: Customer = row[0]
    account_no = customer.account_no
    if customer.version != data.version:
        raise Conflict(
            f"客户 {account_no} 已被他人修改（当前版本 {customer.version}，"
            f"您读取的版本 {data.version}），请刷新后重试"
        )
    changes = {
        k: v
        for k, v in data.model_dump(exclude={"version"}, exclude_unset=True).items()
        if getattr(customer, k) != v
    }
    for key, value in changes.items():
        setattr(customer, key, value)
    if changes:
        try:
            session.flush()
        except StaleDataError as exc:  # another transaction committed between our read and write
            raise Conflict(f"客户 {account_no} 已被他人修改，请刷新后重试") from exc
        record(
            session,
            actor=principal,
            action="update",
            entity="customer",
            entity_id=customer.id,
            detail=audit_values({k: (str(v) if v is not None else None) for k, v in changes.items()}),
        )
    return get(session, principal=principal, customer_id=customer.id)
