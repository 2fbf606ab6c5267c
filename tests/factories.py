"""Plain factory functions with overridable defaults, and a small province to test against."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from gridcare.auth.passwords import hash_password
from gridcare.models import Customer, Feeder, Substation, TransformerArea, Unit, User, UserRole, Village

PASSWORD = "test-password-1"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashing is slow on purpose: once per run
_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def unique_digits(length: int = 12) -> str:
    return str(uuid.uuid4().int)[:length].rjust(length, "1")


def make_unit(session: Session, *, kind: str, parent: Unit | None = None, **kw: Any) -> Unit:
    unit = Unit(
        code=kw.pop("code", unique("U")),
        name=kw.pop("name", f"测试单位{next(_counter)}"),
        kind=kind,
        parent_id=parent.id if parent else None,
        path="",
        **kw,
    )
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    return unit


def make_user(session: Session, *, unit: Unit, roles: list[str], **kw: Any) -> User:
    user = User(
        username=kw.pop("username", unique("u")),
        display_name=kw.pop("display_name", "测试员工"),
        password_hash=_PASSWORD_HASH,
        unit_id=unit.id,
        role_rows=[UserRole(role=r) for r in roles],
        **kw,
    )
    session.add(user)
    session.flush()
    return user


def make_village(session: Session, *, station: Unit, **kw: Any) -> Village:
    village = Village(
        code=kw.pop("code", unique("V")),
        name=kw.pop("name", "测试村"),
        area_class=kw.pop("area_class", "rural"),
        station_id=station.id,
        **kw,
    )
    session.add(village)
    session.flush()
    return village


def make_feeder(session: Session, *, county: Unit) -> Feeder:
    sub = Substation(code=unique("SS"), name="测试变电站", county_id=county.id, voltage_kv=110)
    session.add(sub)
    session.flush()
    feeder = Feeder(code=unique("F"), name="10kV测试线", substation_id=sub.id)
    session.add(feeder)
    session.flush()
    return feeder


def make_area(
    session: Session,
    *,
    station: Unit,
    village: Village | None = None,
    feeder: Feeder | None = None,
    **kw: Any,
) -> TransformerArea:
    area = TransformerArea(
        code=kw.pop("code", unique("TQ")),
        name=kw.pop("name", "测试台区"),
        capacity_kva=kw.pop("capacity_kva", 315),
        station_id=station.id,
        village_id=village.id if village else None,
        feeder_id=feeder.id if feeder else None,
        **kw,
    )
    session.add(area)
    session.flush()
    return area


def make_customer(session: Session, *, area: TransformerArea, **kw: Any) -> Customer:
    customer = Customer(
        account_no=kw.pop("account_no", unique_digits(12)),
        name=kw.pop("name", "张测试"),
        phone=kw.pop("phone", "139" + unique_digits(8)),
        address=kw.pop("address", "江州市测试路1号"),
        transformer_area_id=area.id,
        station_id=area.station_id,
        village_id=kw.pop("village_id", area.village_id),
        **kw,
    )
    session.add(customer)
    session.flush()
    return customer


@dataclass
class World:
    """city → county_a (station_a1, station_a2), county_b (station_b1); one customer per station."""

    units: dict[str, Unit] = field(default_factory=dict)
    areas: dict[str, TransformerArea] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def build_world(session: Session) -> World:
    w = World()
    city = make_unit(session, kind="city", name="测试市公司")
    county_a = make_unit(session, kind="county", parent=city, name="甲县公司")
    county_b = make_unit(session, kind="county", parent=city, name="乙县公司")
    stations = {
        "station_a1": make_unit(session, kind="station", parent=county_a, name="甲一供电所"),
        "station_a2": make_unit(session, kind="station", parent=county_a, name="甲二供电所"),
        "station_b1": make_unit(session, kind="station", parent=county_b, name="乙一供电所"),
    }
    w.units.update(city=city, county_a=county_a, county_b=county_b, **stations)
    feeder = make_feeder(session, county=county_a)
    for key, station in stations.items():
        village = make_village(session, station=station, name=f"{station.name[:2]}村", area_class="rural")
        area = make_area(
            session, station=station, village=village, feeder=feeder, name=f"{station.name[:2]}1号台区"
        )
        w.areas[key] = area
        w.customers[key] = make_customer(
            session,
            area=area,
            name=f"{station.name[:2]}客户",
            address=f"江州市{station.name[:2]}镇{village.name}3组{next(_counter)}号",
            id_number="330101199001011234",
        )
    for role in ("agent", "manager", "auditor", "admin"):
        w.users[role] = make_user(session, unit=city, roles=[role])
    w.users["dispatcher_a"] = make_user(session, unit=county_a, roles=["dispatcher"])
    w.users["staff_a1"] = make_user(session, unit=stations["station_a1"], roles=["station_staff"])
    w.users["staff_b1"] = make_user(session, unit=stations["station_b1"], roles=["station_staff"])
    w.users["staff_a2"] = make_user(session, unit=stations["station_a2"], roles=["station_staff"])
    for key in stations:  # each 台区经理 manages the 台区 of their station
        w.areas[key].manager_user_id = w.users[key.replace("station", "staff")].id
    session.flush()
    return w
