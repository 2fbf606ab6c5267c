"""Every customer query: lookups agents make all day (户号, phone, name, address fragment), scoped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, text
from sqlalchemy.orm import Session

from gridcare.auth.principal import Principal
from gridcare.errors import PermissionDenied
from gridcare.models import Customer, TransformerArea, Unit, Village
from gridcare.tabular import iter_chunks

# Above the highest code point: "name >= p AND name < p + MAX" is an index range for prefix p.
_MAX_CHAR = "\U0010ffff"
# Trigram indexes need fragments of at least three characters.
_TRIGRAM_MIN = 3


def _customer_columns() -> Select[Customer, str, str, str, str, str]:
    return (
        select(
            Customer,
            Village.name.label("village_name"),
            Village.area_class.label("area_class"),
            TransformerArea.code.label("transformer_area_code"),
            TransformerArea.name.label("transformer_area_name"),
            Unit.name.label("station_name"),
        )
        .join(TransformerArea, TransformerArea.id == Customer.transformer_area_id)
        .join(Unit, Unit.id == Customer.station_id)
        .outerjoin(Village, Village.id == Customer.village_id)
    )


def name_prefix(session: Session, prefix: str) -> ColumnElement[bool]:
    like = Customer.name.startswith(prefix, autoescape=True)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE ignores the index unless case-sensitive; a range on the same index does not.
        return and_(Customer.name >= prefix, Customer.name < prefix + _MAX_CHAR, like)
    return like  # PostgreSQL: served by ix_customers_name_pattern (varchar_pattern_ops)


def address_contains(session: Session, fragment: str) -> ColumnElement[bool]:
    like = Customer.address.contains(fragment, autoescape=True)
    if len(fragment) < _TRIGRAM_MIN:
        return like
    if session.get_bind().dialect.name == "sqlite":
        phrase = '"' + fragment.replace('"', '""') + '"'
        fts = (
            select(text("rowid"))
            .select_from(text("customers_fts"))
            .where(text("customers_fts MATCH :fts_phrase").bindparams(fts_phrase=phrase))
        )
        return Customer.id.in_(fts)
    return like  # PostgreSQL: served by ix_customers_address_trgm (pg_trgm)


def search(
    session: Session,
    *,
    principal: Principal,
    q: str | None = None,
    account_no: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    address: str | None = None,
    station_id: int | None = None,
    transformer_area_id: int | None = None,
    offset: int = 0,
    limit: int = 20,
) -> Sequence[Any]:
    """Rows of (Customer, village_name, area_class, 台区 code, 台区 name, station name).

    A role that sees phone numbers masked cannot look customers up by phone (it could otherwise find
    a masked number by trying every candidate): `phone` is refused, and a number in `q` matches 户号
    only."""
    conditions: list[ColumnElement[bool]] = []
    if phone and not principal.sees_phones:
        raise PermissionDenied("您的角色只能看到隐去中间位的电话号码，不能按电话号码查找客户")
    if account_no:
        conditions.append(Customer.account_no == account_no)
    if phone:
        conditions.append(or_(Customer.phone == phone, Customer.phone_alt == phone))
    if name:
        conditions.append(name_prefix(session, name))
    if address:
        conditions.append(address_contains(session, address))
    if station_id is not None:
        conditions.append(Customer.station_id == station_id)
    if transformer_area_id is not None:
        conditions.append(Customer.transformer_area_id == transformer_area_id)
    if q:
        term = q.strip()
        if term.isdigit() and principal.sees_phones:
            conditions.append(
                or_(Customer.account_no == term, Customer.phone == term, Customer.phone_alt == term)
            )
        elif term.isdigit():
            conditions.append(Customer.account_no == term)
        else:
            conditions.append(or_(name_prefix(session, term), address_contains(session, term)))
    stmt = (
        _customer_columns()
        .where(principal.in_scope(Customer.station_id), *conditions)
        .order_by(Customer.id)
        .offset(offset)
        .limit(limit)
    )
    return session.execute(stmt).all()


def get(session: Session, *, principal: Principal, customer_id: int) -> Any | None:
    stmt = _customer_columns().where(Customer.id == customer_id, principal.in_scope(Customer.station_id))
    return session.execute(stmt).first()


def by_account_numbers(session: Session, account_nos: Sequence[str]) -> dict[str, Customer]:
    found: dict[str, Customer] = {}
    for chunk in iter_chunks(account_nos, 500):
        for customer in session.scalars(select(Customer).where(Customer.account_no.in_(chunk))):
            found[customer.account_no] = customer
    return found
