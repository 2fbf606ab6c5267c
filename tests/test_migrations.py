from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text
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
