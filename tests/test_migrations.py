from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError

from gridcare import migrate
from gridcare.db import Base
from tests.conftest import ScratchDatabases


def test_upgrade_downgrade_upgrade_on_a_fresh_database(scratch_databases: ScratchDatabases) -> None:
    url = scratch_databases.create()
    migrate.upgrade(url)
    engine = create_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    migrate.downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    assert "customers" in inspect(engine).get_table_names()
    engine.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    from alembic import command

    command.check(migrate.alembic_config(database_url))  # raises if autogenerate would change anything
    # Autogenerate does not compare primary keys: their columns, in order, checked here.
    engine = create_engine(database_url)
    found = inspect(engine)
    for name, table in Base.metadata.tables.items():
        expected = [c.name for c in table.primary_key.columns]
        assert found.get_pk_constraint(name)["constrained_columns"] == expected, name
    engine.dispose()


def test_audit_log_is_append_only(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO audit_log (at, action, entity) VALUES (CURRENT_TIMESTAMP, 'test', 'x')")
        )
    for statement in ("UPDATE audit_log SET action = 'changed'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()


def test_sqlite_pragmas(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    from gridcare.config import Settings
    from gridcare.db import make_engine

    e = make_engine(Settings(database_url=database_url))
    with e.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == Settings().sqlite_busy_timeout_ms
    e.dispose()


def test_0006_keeps_earlier_outages_working_and_goes_back_with_data(
    scratch_databases: ScratchDatabases,
) -> None:
    """Outages stored before 0006 get their stations (from their customers and their scope) and, when
    they were announced at short notice, their approval; going back to 0005 works with data in place."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.orm import Session

    from gridcare.models import OutageApproval, OutageStation
    from tests.factories import build_world, make_area

    url = scratch_databases.create()
    migrate.upgrade(url, "0005")
    engine = create_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
        empty_area = make_area(s, station=world.units["station_a2"], name="无户台区")
        s.commit()
        start = datetime(2026, 12, 1, 8, tzinfo=UTC)
        values = {
            "county": world.units["county_a"].id,
            "start": start.replace(tzinfo=None) if url.startswith("sqlite") else start,
            "end": (start + timedelta(hours=4)).replace(tzinfo=None) if url.startswith("sqlite") else start,
            "approver": world.users["manager"].id,
            "area": world.areas["station_a1"].id,
            "customer": world.customers["station_a1"].id,
            "empty": empty_area.id,
        }
        s.execute(
            text(
                "INSERT INTO outages (id, number, kind, status, title, cause, area_text, county_id, planned_start, "
                "planned_end, expected_restore_at, announced_at, short_notice_reason, short_notice_approver_id, "
                "cause_class, momentary, affected_customers, affected_areas, created_at, updated_at, version) "
                "VALUES (1, 'TD1', 'planned', 'announced', '检修', '检修', '某村', :county, :start, :end, :end, "
                ":start, '紧急', :approver, 'company', false, 1, 2, :start, :start, 1)"
            ),
            values,
        )
        s.execute(
            text("INSERT INTO outage_customers VALUES (1, :customer, :area, false)"),
            values,
        )
        s.execute(
            text("INSERT INTO outage_scope_items VALUES (1, 'transformer_area', :empty)"),
            values,
        )
        s.commit()
    migrate.upgrade(url)
    with Session(engine) as s:
        stations = set(s.scalars(select(OutageStation.station_id).where(OutageStation.outage_id == 1)))
        assert stations == {world.units["station_a1"].id, world.units["station_a2"].id}
        approval = s.scalars(select(OutageApproval).where(OutageApproval.outage_id == 1)).one()
        assert (approval.status, approval.approver_id, approval.reason) == (
            "approved",
            values["approver"],
            "紧急",
        )
    migrate.downgrade(url, "0005")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outages")).scalar() == 1
    migrate.upgrade(url)
    engine.dispose()


def test_0007_to_0009_on_a_database_with_orders_and_notices(scratch_databases: ScratchDatabases) -> None:
    """From 0006 with data: orders with events (rebuilding tables that others point at must work on
    SQLite), arrears notices (a replaced one keeps its case), open steps get their alarms; back to 0006
    a paused order's clock runs again with what it had left; and up again."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.orm import Session

    from gridcare.models import OutboxMessage, StepAlarm
    from tests.factories import build_world

    url = scratch_databases.create()
    migrate.upgrade(url, "0006")
    engine = create_engine(url)
    sqlite = url.startswith("sqlite")
    now = datetime.now(UTC)

    def t(at: datetime) -> object:
        return at.replace(tzinfo=None) if sqlite else at

    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
        s.commit()
        v = {
            "station": world.units["station_a1"].id,
            "county": world.units["county_a"].id,
            "customer": world.customers["station_a1"].id,
            "accepted": t(now - timedelta(hours=1)),
            "deadline": t(now + timedelta(hours=2)),
            "warn": t(now + timedelta(hours=1)),
            "past": t(now - timedelta(minutes=5)),
        }
        for order_id, number, warn, warned in (
            (1, "20261129000001", "warn", False),
            (2, "20261129000002", "past", True),
        ):
            s.execute(
                text(
                    "INSERT INTO work_orders (id, number, business_type, urgency, channel, content, anonymous, "
                    "callback_declined, customer_id, station_id, county_id, area_class, accepted_at, step, "
                    "step_entered_at, step_deadline, step_warn_at, step_breached, step_warned, priority, is_repeat, "
                    "callback_attempts, imported, version, created_at, updated_at) VALUES "
                    "(:id, :number, 'complaint', 'normal', 'phone_95598', '频繁停电', false, false, "
                    ":customer, :station, :county, 'urban', :accepted, 'pending_contact', :accepted, :deadline, "
                    ":warn_at, false, :warned, 0, false, 0, false, 1, :accepted, :accepted)"
                ),
                {**v, "id": order_id, "number": number, "warn_at": v[warn], "warned": warned},
            )
            s.execute(
                text(
                    "INSERT INTO work_order_events (order_id, at, action, to_step, step_unit_id) "
                    "VALUES (:id, :accepted, 'create', 'pending_dispatch', :station)"
                ),
                {**v, "id": order_id},
            )
        s.execute(
            text(
                "INSERT INTO arrears_cases (id, customer_id, bill_month, amount_cents, due_date, status, "
                "created_at, version) VALUES (7, :customer, '2026-09', 12345, :accepted, 'open', :accepted, 1)"
            ),
            v,
        )
        for serial in (0, 1):
            s.execute(
                text(
                    "INSERT INTO outbox (key, channel, recipient, subject, body, kind, customer_id, status, "
                    "attempts, due_at, created_at) VALUES "
                    "(:key, 'file', '1', '停电通知书', '…', 'arrears_first', :customer, 'sent', 1, :accepted, "
                    ":accepted)"
                ),
                {**v, "key": f"a7:first:{serial}:file:c1"},
            )
        s.execute(
            text("UPDATE arrears_cases SET first_notice_id = (SELECT max(id) FROM outbox) WHERE id = 7")
        )
        s.commit()

    migrate.upgrade(url)
    with Session(engine) as s:
        alarms = {(a.order_id, a.kind) for a in s.scalars(select(StepAlarm))}
        assert alarms == {(1, "warning"), (1, "breach"), (2, "breach")}  # order 2 was warned already
        notices = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(n.item_kind, n.item_id) for n in notices] == [("arrears", 7), ("arrears", 7)]
        # Order 1 is suspended with an hour left.
        s.execute(
            text(
                "UPDATE work_orders SET step_paused_at = :past, step_pause_reason = '客户出差', "
                "step_left_seconds = 3600, step_deadline = NULL, step_warn_at = NULL WHERE id = 1"
            ),
            v,
        )
        s.execute(text("DELETE FROM step_alarms WHERE order_id = 1"))
        s.commit()

    migrate.downgrade(url, "0006")
    with engine.connect() as conn:
        deadline = conn.execute(text("SELECT step_deadline FROM work_orders WHERE id = 1")).scalar()
        assert deadline is not None
        if isinstance(deadline, str):
            deadline = datetime.fromisoformat(deadline)
        deadline = deadline if deadline.tzinfo else deadline.replace(tzinfo=UTC)
        assert timedelta(minutes=55) < deadline - now < timedelta(minutes=65)  # an hour from now
        warned = conn.execute(text("SELECT step_warned FROM work_orders WHERE id = 2")).scalar()
        assert bool(warned)
        assert conn.execute(text("SELECT count(*) FROM outbox WHERE outage_id IS NULL")).scalar() == 2
    migrate.upgrade(url)
    engine.dispose()
