"""Alembic environment: the URL comes from GridCare's settings (or the caller's config)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import gridcare.models  # noqa: F401  (registers every table)
from gridcare.config import get_settings
from gridcare.db import Base, is_sqlite, make_engine

config = context.config
HAND_MADE_INDEXES = {"ix_customers_address_trgm", "ix_customers_name_pattern"}


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave the search structures made by hand in 0001 (FTS5 tables, trigram and pattern indexes) out
    of autogenerate: the models don't declare them."""
    if type_ == "table" and name is not None and name.startswith("customers_fts"):
        return False
    return not (type_ == "index" and name in HAND_MADE_INDEXES)


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    settings = get_settings()
    url = config.get_main_option("sqlalchemy.url") or settings.database_url
    engine = make_engine(settings.model_copy(update={"database_url": url}))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    sqlite = is_sqlite(str(connection.engine.url))
    if sqlite:
        # A batch migration rebuilds a table (create, copy, drop, rename); with foreign keys enforced,
        # dropping a table other rows point at fails. They are checked once the migration is done.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        before = context.get_context().get_current_heads()
        context.run_migrations()
        if sqlite and context.get_context().get_current_heads() != before:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left {len(broken)} broken references, first: {broken[0]}")
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


run_migrations()
