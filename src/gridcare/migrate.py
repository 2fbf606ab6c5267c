"""Run the Alembic history from code (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate, then add the default catalogues, workflow and time limits where they are missing."""
    command.upgrade(alembic_config(database_url), revision)
    if revision == "head":
        seed_defaults(database_url)


def seed_defaults(database_url: str) -> dict[str, int]:
    from gridcare.config import Settings
    from gridcare.db import make_engine, make_session_factory, transaction
    from gridcare.workorders.defaults import ensure_defaults

    engine = make_engine(Settings(database_url=database_url))
    try:
        with transaction(make_session_factory(engine)) as session:
            return ensure_defaults(session)
    finally:
        engine.dispose()


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url))
