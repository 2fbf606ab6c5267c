from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from gridcare import migrate
from gridcare.auth.service import sign_in
from gridcare.config import Settings
from gridcare.demo.customers import customer_rows
from gridcare.demo.loader import load_demo
from gridcare.demo.province import DEMO_LOGINS, DEMO_PASSWORD, build_province
from gridcare.errors import Conflict
from gridcare.models import Customer, TransformerArea, Unit, User, Village
from tests.conftest import ScratchDatabases


def fingerprint(customers: int, seed: int) -> str:
    province = build_province(customers=customers, seed=seed, password_hash="x", created_at="t")
    digest = hashlib.sha256()
    for table in sorted(province.rows):
        digest.update(repr(province.rows[table]).encode())
    for row in customer_rows(province.areas, seed=seed, created_at="t"):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def test_same_seed_same_province_other_seed_other_province() -> None:
    assert fingerprint(3000, 7) == fingerprint(3000, 7)
    assert fingerprint(3000, 7) != fingerprint(3000, 8)


def test_customer_count_is_exact() -> None:
    province = build_province(customers=12_345, seed=1, password_hash="x", created_at="t")
    assert sum(a.customers for a in province.areas) == 12_345
    assert sum(1 for _ in customer_rows(province.areas, seed=1, created_at="t")) == 12_345


@pytest.fixture(scope="module")
def demo_session(scratch_databases: ScratchDatabases) -> Session:
    url = scratch_databases.create()
    migrate.upgrade(url)
    engine = create_engine(url)
    load_demo(engine, customers=20_000, seed=95598)
    return Session(engine)


def test_demo_province_shape(demo_session: Session) -> None:
    s = demo_session
    kinds = dict(s.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())
    assert kinds == {"city": 1, "county": 6, "station": 40}
    assert 300 <= (s.scalar(select(func.count()).select_from(Village)) or 0) <= 600
    assert (s.scalar(select(func.count()).select_from(TransformerArea)) or 0) >= 1000
    by_class = dict(
        s.execute(
            select(Village.area_class, func.count())
            .join(Customer, Customer.village_id == Village.id)
            .group_by(Village.area_class)
        ).all()
    )
    total = sum(by_class.values())
    assert total == 20_000
    assert abs(by_class["urban"] / total - 0.40) < 0.02
    assert abs((by_class["rural"] + by_class["remote"]) / total - 0.60) < 0.02
    special = s.scalar(select(func.count()).where(Customer.is_special_care)) or 0
    important = s.scalar(select(func.count()).where(Customer.is_important)) or 0
    assert 0.01 < special / total < 0.08
    assert 0.001 < important / total < 0.05
    # Every 台区 has a manager and a feeder; every village a liaison from its own station.
    assert s.scalar(select(func.count()).where(TransformerArea.manager_user_id.is_(None))) == 0
    assert s.scalar(select(func.count()).where(TransformerArea.feeder_id.is_(None))) == 0
    assert (
        s.scalar(
            select(func.count())
            .select_from(Village)
            .join(User, User.id == Village.liaison_user_id)
            .where(User.unit_id != Village.station_id)
        )
        == 0
    )
    # Customers sit in their 台区's station.
    assert (
        s.scalar(
            select(func.count())
            .select_from(Customer)
            .join(TransformerArea)
            .where(TransformerArea.station_id != Customer.station_id)
        )
        == 0
    )


def test_demo_logins_work_for_every_role(demo_session: Session) -> None:
    settings = Settings(database_url="sqlite://", login_max_failures=100)
    factory = sessionmaker(bind=demo_session.get_bind(), expire_on_commit=False)
    roles: set[str] = set()
    for username in DEMO_LOGINS:
        signed = sign_in(
            factory, username=username, password=DEMO_PASSWORD, client_ip=None, settings=settings, kind="api"
        )
        roles.update(signed.user.roles)
    assert roles == {"admin", "agent", "dispatcher", "station_staff", "manager", "auditor"}


def test_ids_continue_after_the_demo(demo_session: Session) -> None:
    max_id = demo_session.scalar(select(func.max(Customer.id)))
    unit = demo_session.scalar(select(Unit).where(Unit.kind == "city"))
    assert unit is not None
    new = Unit(code="NEW-1", name="新单位", kind="county", parent_id=unit.id, path="/x/")
    demo_session.add(new)
    demo_session.flush()
    assert new.id > 47
    assert max_id == 20_000
    demo_session.rollback()


def test_demo_refuses_a_database_with_data(demo_session: Session) -> None:
    engine = demo_session.get_bind()
    with pytest.raises(Conflict, match="已有"):
        load_demo(engine, customers=1000, seed=1)  # type: ignore[arg-type]


def test_address_search_index_covers_demo_rows(demo_session: Session) -> None:
    if demo_session.get_bind().dialect.name != "sqlite":
        pytest.skip("FTS5 index is SQLite's")
    n = demo_session.execute(
        text("SELECT count(*) FROM customers_fts WHERE customers_fts MATCH '\"江州市\"'")
    ).scalar()
    assert n == 20_000


def test_demo_has_work_order_history_and_new_orders_continue_it(demo_session: Session) -> None:
    from gridcare.auth.service import principal_for
    from gridcare.models import WorkOrder, WorkOrderEvent
    from gridcare.workorders import service
    from gridcare.workorders.schemas import WorkOrderCreate

    s = demo_session
    assert s.scalar(select(func.count()).select_from(WorkOrder)) == 6000
    assert (s.scalar(select(func.count()).select_from(WorkOrderEvent)) or 0) > 6000 * 5
    agent = s.scalar(select(User).where(User.username == "agent"))
    assert agent is not None
    customer = s.scalar(select(Customer).where(Customer.id == 1))
    assert customer is not None
    created = service.create(
        s,
        principal=principal_for(s, agent.id),
        settings=Settings(database_url="sqlite://"),
        data=WorkOrderCreate(
            business_type="consultation", content="咨询电费", account_no=customer.account_no
        ),
    ).order
    assert created.id == 6001
    same_day = s.scalars(
        select(WorkOrder.number).where(WorkOrder.number.startswith(created.number[:8]))
    ).all()
    assert len(same_day) == len(set(same_day))
    s.rollback()
