"""grid, customers, users, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Besides the tables: the audit log refuses UPDATE and DELETE (triggers), customer address
fragments are searchable through a trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL), and
name prefixes through a pattern index on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gridcare.models.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_username_at", ["username", "at"], unique=False)

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("created_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('city','county','station')", name=op.f("ck_units_kind")),
        sa.ForeignKeyConstraint(["parent_id"], ["units.id"], name=op.f("fk_units_parent_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("code", name=op.f("uq_units_code")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_path"), ["path"], unique=False)

    op.create_table(
        "substations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("voltage_kv", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["county_id"], ["units.id"], name=op.f("fk_substations_county_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substations")),
        sa.UniqueConstraint("code", name=op.f("uq_substations_code")),
    )
    with op.batch_alter_table("substations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_substations_county_id"), ["county_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_users_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_log_entity_entity_id", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_user_id"), ["user_id"], unique=False)

    op.create_table(
        "feeders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("substation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["substation_id"], ["substations.id"], name=op.f("fk_feeders_substation_id_substations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeders")),
        sa.UniqueConstraint("code", name=op.f("uq_feeders_code")),
    )
    with op.batch_alter_table("feeders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feeders_substation_id"), ["substation_id"], unique=False)

    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "villages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("area_class", sa.String(length=16), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("liaison_user_id", sa.Integer(), nullable=True),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.CheckConstraint("area_class IN ('urban','rural','remote')", name=op.f("ck_villages_area_class")),
        sa.ForeignKeyConstraint(
            ["liaison_user_id"], ["users.id"], name=op.f("fk_villages_liaison_user_id_users")
        ),
        sa.ForeignKeyConstraint(["station_id"], ["units.id"], name=op.f("fk_villages_station_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_villages")),
        sa.UniqueConstraint("code", name=op.f("uq_villages_code")),
    )
    with op.batch_alter_table("villages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_villages_liaison_user_id"), ["liaison_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_villages_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_villages_station_id"), ["station_id"], unique=False)

    op.create_table(
        "branch_switches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("feeder_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feeder_id"], ["feeders.id"], name=op.f("fk_branch_switches_feeder_id_feeders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch_switches")),
        sa.UniqueConstraint("code", name=op.f("uq_branch_switches_code")),
    )
    with op.batch_alter_table("branch_switches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_branch_switches_feeder_id"), ["feeder_id"], unique=False)

    op.create_table(
        "transformer_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("capacity_kva", sa.Integer(), nullable=True),
        sa.Column("feeder_id", sa.Integer(), nullable=True),
        sa.Column("branch_switch_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("manager_user_id", sa.Integer(), nullable=True),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_switch_id"],
            ["branch_switches.id"],
            name=op.f("fk_transformer_areas_branch_switch_id_branch_switches"),
        ),
        sa.ForeignKeyConstraint(
            ["feeder_id"], ["feeders.id"], name=op.f("fk_transformer_areas_feeder_id_feeders")
        ),
        sa.ForeignKeyConstraint(
            ["manager_user_id"], ["users.id"], name=op.f("fk_transformer_areas_manager_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["units.id"], name=op.f("fk_transformer_areas_station_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_transformer_areas_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transformer_areas")),
        sa.UniqueConstraint("code", name=op.f("uq_transformer_areas_code")),
    )
    with op.batch_alter_table("transformer_areas", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transformer_areas_branch_switch_id"), ["branch_switch_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transformer_areas_feeder_id"), ["feeder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_transformer_areas_manager_user_id"), ["manager_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transformer_areas_station_id"), ["station_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transformer_areas_village_id"), ["village_id"], unique=False)

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_no", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("phone_alt", sa.String(length=20), nullable=True),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("transformer_area_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("usage_category", sa.String(length=20), nullable=False),
        sa.Column("voltage_level", sa.String(length=8), nullable=False),
        sa.Column("is_important", sa.Boolean(), nullable=False),
        sa.Column("is_special_care", sa.Boolean(), nullable=False),
        sa.Column("is_sensitive", sa.Boolean(), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "usage_category IN ('residential','non_residential')", name=op.f("ck_customers_usage_category")
        ),
        sa.CheckConstraint("voltage_level IN ('low','high')", name=op.f("ck_customers_voltage_level")),
        sa.ForeignKeyConstraint(["station_id"], ["units.id"], name=op.f("fk_customers_station_id_units")),
        sa.ForeignKeyConstraint(
            ["transformer_area_id"],
            ["transformer_areas.id"],
            name=op.f("fk_customers_transformer_area_id_transformer_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_customers_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("account_no", name=op.f("uq_customers_account_no")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_phone_alt"), ["phone_alt"], unique=False)
        batch_op.create_index("ix_customers_station_id_id", ["station_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_customers_transformer_area_id"), ["transformer_area_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customers_village_id"), ["village_id"], unique=False)

    _search_indexes()
    _append_only_audit_log()


def downgrade() -> None:
    _drop_extras()
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_village_id"))
        batch_op.drop_index(batch_op.f("ix_customers_transformer_area_id"))
        batch_op.drop_index("ix_customers_station_id_id")
        batch_op.drop_index(batch_op.f("ix_customers_phone_alt"))
        batch_op.drop_index(batch_op.f("ix_customers_phone"))
        batch_op.drop_index(batch_op.f("ix_customers_name"))

    op.drop_table("customers")
    with op.batch_alter_table("transformer_areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transformer_areas_village_id"))
        batch_op.drop_index(batch_op.f("ix_transformer_areas_station_id"))
        batch_op.drop_index(batch_op.f("ix_transformer_areas_manager_user_id"))
        batch_op.drop_index(batch_op.f("ix_transformer_areas_feeder_id"))
        batch_op.drop_index(batch_op.f("ix_transformer_areas_branch_switch_id"))

    op.drop_table("transformer_areas")
    with op.batch_alter_table("branch_switches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_branch_switches_feeder_id"))

    op.drop_table("branch_switches")
    with op.batch_alter_table("villages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_villages_station_id"))
        batch_op.drop_index(batch_op.f("ix_villages_name"))
        batch_op.drop_index(batch_op.f("ix_villages_liaison_user_id"))

    op.drop_table("villages")
    op.drop_table("user_roles")
    with op.batch_alter_table("feeders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feeders_substation_id"))

    op.drop_table("feeders")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_user_id"))
        batch_op.drop_index("ix_audit_log_entity_entity_id")
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_unit_id"))

    op.drop_table("users")
    with op.batch_alter_table("substations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_substations_county_id"))

    op.drop_table("substations")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_path"))
        batch_op.drop_index(batch_op.f("ix_units_parent_id"))

    op.drop_table("units")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_username_at")

    op.drop_table("login_failures")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _search_indexes() -> None:
    if _is_sqlite():
        op.execute(
            "CREATE VIRTUAL TABLE customers_fts USING fts5("
            "address, content='customers', content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            "CREATE TRIGGER customers_fts_ai AFTER INSERT ON customers BEGIN "
            "INSERT INTO customers_fts(rowid, address) VALUES (new.id, new.address); END"
        )
        op.execute(
            "CREATE TRIGGER customers_fts_ad AFTER DELETE ON customers BEGIN "
            "INSERT INTO customers_fts(customers_fts, rowid, address) VALUES ('delete', old.id, old.address); END"
        )
        op.execute(
            "CREATE TRIGGER customers_fts_au AFTER UPDATE OF address ON customers BEGIN "
            "INSERT INTO customers_fts(customers_fts, rowid, address) VALUES ('delete', old.id, old.address); "
            "INSERT INTO customers_fts(rowid, address) VALUES (new.id, new.address); END"
        )
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_customers_address_trgm ON customers USING gin (address gin_trgm_ops)")
        op.execute("CREATE INDEX ix_customers_name_pattern ON customers (name varchar_pattern_ops)")


def _append_only_audit_log() -> None:
    message = "audit_log is append-only"
    if _is_sqlite():
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse()"
        )


def _drop_extras() -> None:
    if _is_sqlite():
        for trigger in (
            "audit_log_no_update",
            "audit_log_no_delete",
            "customers_fts_ai",
            "customers_fts_ad",
            "customers_fts_au",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS customers_fts")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse()")
        op.execute("DROP INDEX IF EXISTS ix_customers_address_trgm")
        op.execute("DROP INDEX IF EXISTS ix_customers_name_pattern")
