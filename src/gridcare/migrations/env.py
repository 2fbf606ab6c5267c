"""Alembic environment: the URL comes from GridCare's settings (or the caller's config)."""

from __future__ import annotations

from alembic import context

import gridcare.models  # noqa: F401  (registers every table)
from gridcare.config import get_settings
from gridcare.db import Base, is_sqlite, make_engine

config = context.config


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


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=is_sqlite(str(connection.engine.url)),  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
