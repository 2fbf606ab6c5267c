"""A small grid for outages: one feeder with a branch switch; 台区 behind the switch and on the feeder
itself; a village with a liaison; customers of every kind (important, without a phone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gridcare.auth.principal import Principal
from gridcare.auth.service import principal_for
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.models import BranchSwitch, Customer, Feeder, Outage, TransformerArea, WorkOrder
from gridcare.outages import service
from gridcare.outages.schemas import OutageCreate, OutageScope
from gridcare.workorders import service as orders
from gridcare.workorders.schemas import WorkOrderCreate
from tests.factories import World, build_world, make_area, make_customer, make_feeder, make_user, make_village


def bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


@dataclass
class Grid:
    world: World
    feeder: Feeder
    switch: BranchSwitch
    behind_switch: list[TransformerArea]
    on_feeder: TransformerArea
    customers: dict[str, Customer] = field(default_factory=dict)

    def principal(self, session: Session, key: str) -> Principal:
        return principal_for(session, self.world.users[key].id)


@pytest.fixture
def grid(session_factory: sessionmaker[Session]) -> Grid:
    with session_factory() as s:
        world = build_world(s)
        station = world.units["station_a1"]
        feeder = make_feeder(s, county=world.units["county_a"])
        switch = BranchSwitch(code=f"K{feeder.id}", name="2号分支开关", feeder_id=feeder.id)
        s.add(switch)
        s.flush()
        liaison = make_user(
            s, unit=station, roles=["station_staff"], phone="13900000001", email="liaison@example.cn"
        )
        village = make_village(s, station=station, name="东山村", liaison_user_id=liaison.id)
        behind = [
            make_area(
                s,
                station=station,
                village=village,
                feeder=feeder,
                branch_switch_id=switch.id,
                name=f"东山{i}号台区",
            )
            for i in (1, 2)
        ]
        on_feeder = make_area(s, station=station, village=village, feeder=feeder, name="东山3号台区")
        grid = Grid(world, feeder, switch, behind, on_feeder)
        grid.customers["plain"] = make_customer(s, area=behind[0], name="李平")
        grid.customers["important"] = make_customer(s, area=behind[0], name="东山水厂", is_important=True)
        grid.customers["no_phone"] = make_customer(s, area=behind[1], name="王无机", phone=None)
        grid.customers["on_feeder"] = make_customer(s, area=on_feeder, name="赵线路")
        world.users["liaison"] = liaison
        s.commit()
    return grid


def restored_fault(
    s: Session,
    grid: Grid,
    settings: Settings,
    start: datetime,
    minutes: int,
    cause_class: str = "company",
    **scope: list[int],
) -> Outage:
    """A fault outage entered at `start` on `scope` and restored `minutes` later."""
    who = grid.principal(s, "dispatcher_a")
    made = service.create(
        s,
        principal=who,
        settings=settings,
        data=OutageCreate(
            kind="fault",
            title="故障",
            cause="线路故障",
            cause_class=cause_class,
            scope=OutageScope(**scope),
            planned_start=start,
            planned_end=start + timedelta(hours=4),
        ),
        now=start,
    )
    return service.restore(
        s,
        principal=who,
        settings=settings,
        outage_id=made.id,
        version=made.version,
        now=start + timedelta(minutes=minutes),
    )


def no_power_call(s: Session, grid: Grid, settings: Settings, account_no: str, at: datetime) -> WorkOrder:
    """A 故障报修 ("no power", 低压故障) taken by the agent at `at`."""
    data = WorkOrderCreate(
        business_type="fault_repair", category="lv", content="家里没电了", account_no=account_no
    )
    return orders.create(s, principal=grid.principal(s, "agent"), settings=settings, data=data, now=at).order
