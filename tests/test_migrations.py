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
