"""work orders, catalogues, time limits, calendar

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Work-order events refuse UPDATE and DELETE (triggers), like the audit log.
Default catalogues, workflow and time limits are seeded by gridcare.migrate after upgrading.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gridcare.models.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_workday", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_correction", sa.Boolean(), nullable=False),
        sa.Column("updated_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "catalog_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["catalog_items.id"], name=op.f("fk_catalog_items_parent_id_catalog_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_items")),
        sa.UniqueConstraint("kind", "code", name=op.f("uq_catalog_items_kind_code")),
    )
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_items_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_items_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "order_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_order_counters")),
    )
    op.create_table(
        "workflow_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_step", sa.String(length=32), nullable=False),
        sa.Column("to_step", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_transitions")),
        sa.UniqueConstraint(
            "business_type",
            "action",
            "from_step",
            name=op.f("uq_workflow_transitions_business_type_action_from_step"),
        ),
    )
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["loaded_by"], ["users.id"], name=op.f("fk_calendar_years_loaded_by_users")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )
    op.create_table(
        "sla_policy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("effective_from", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_sla_policy_versions_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy_versions")),
    )
    with op.batch_alter_table("sla_policy_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sla_policy_versions_effective_from"), ["effective_from"], unique=False
        )

    op.create_table(
        "sla_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("area_class", sa.String(length=16), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("limit_value", sa.Numeric(precision=10, scale=3, asdecimal=False), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("anchor", sa.String(length=8), nullable=False),
        sa.Column("warn_ratio", sa.Numeric(precision=4, scale=3, asdecimal=False), nullable=False),
        sa.CheckConstraint("anchor IN ('step','order')", name=op.f("ck_sla_rules_anchor")),
        sa.CheckConstraint("unit IN ('minutes','hours','working_days')", name=op.f("ck_sla_rules_unit")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["sla_policy_versions.id"],
            name=op.f("fk_sla_rules_version_id_sla_policy_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_rules")),
    )
    with op.batch_alter_table("sla_rules", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sla_rules_version_id_business_type_step",
            ["version_id", "business_type", "step"],
            unique=False,
        )

    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("complaint_level", sa.String(length=16), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=True),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("callback_declined", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("transformer_area_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("area_class", sa.String(length=16), nullable=False),
        sa.Column("handler_user_id", sa.Integer(), nullable=True),
        sa.Column("first_owner_user_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("accepted_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("step_entered_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("step_deadline", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("step_warn_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("step_breached", sa.Boolean(), nullable=False),
        sa.Column("step_warned", sa.Boolean(), nullable=False),
        sa.Column("calendar_missing_year", sa.Integer(), nullable=True),
        sa.Column("policy_version_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("is_repeat", sa.Boolean(), nullable=False),
        sa.Column("repeat_of_id", sa.Integer(), nullable=True),
        sa.Column("main_order_id", sa.Integer(), nullable=True),
        sa.Column("urged_order_id", sa.Integer(), nullable=True),
        sa.Column("fault_point", sa.String(length=100), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("satisfaction", sa.String(length=32), nullable=True),
        sa.Column("callback_attempts", sa.Integer(), nullable=False),
        sa.Column("last_callback_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("archived_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["county_id"], ["units.id"], name=op.f("fk_work_orders_county_id_units")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_work_orders_created_by_users")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_work_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["first_owner_user_id"], ["users.id"], name=op.f("fk_work_orders_first_owner_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["handler_user_id"], ["users.id"], name=op.f("fk_work_orders_handler_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["main_order_id"], ["work_orders.id"], name=op.f("fk_work_orders_main_order_id_work_orders")
        ),
        sa.ForeignKeyConstraint(
            ["policy_version_id"],
            ["sla_policy_versions.id"],
            name=op.f("fk_work_orders_policy_version_id_sla_policy_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["repeat_of_id"], ["work_orders.id"], name=op.f("fk_work_orders_repeat_of_id_work_orders")
        ),
        sa.ForeignKeyConstraint(["station_id"], ["units.id"], name=op.f("fk_work_orders_station_id_units")),
        sa.ForeignKeyConstraint(
            ["transformer_area_id"],
            ["transformer_areas.id"],
            name=op.f("fk_work_orders_transformer_area_id_transformer_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["urged_order_id"], ["work_orders.id"], name=op.f("fk_work_orders_urged_order_id_work_orders")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_work_orders_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_work_orders_idempotency_key")),
        sa.UniqueConstraint("number", name=op.f("uq_work_orders_number")),
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_orders_business_type_created_at", ["business_type", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_work_orders_calendar_missing_year"), ["calendar_missing_year"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_orders_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_county_id"), ["county_id"], unique=False)
        batch_op.create_index("ix_work_orders_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_work_orders_customer_id_created_at", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_work_orders_due",
            ["step_deadline"],
            unique=False,
            postgresql_where=sa.text("NOT step_breached"),
            sqlite_where=sa.text("NOT step_breached"),
        )
        batch_op.create_index(
            "ix_work_orders_handler_user_id_step", ["handler_user_id", "step"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_orders_main_order_id"), ["main_order_id"], unique=False)
        batch_op.create_index(
            "ix_work_orders_station_id_created_at", ["station_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_work_orders_step_step_deadline", ["step", "step_deadline"], unique=False)
        batch_op.create_index("ix_work_orders_step_step_warn_at", ["step", "step_warn_at"], unique=False)
        batch_op.create_index(
            "ix_work_orders_transformer_area_id_created_at",
            ["transformer_area_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_work_orders_urged_order_id"), ["urged_order_id"], unique=False)
        batch_op.create_index(
            "ix_work_orders_warn",
            ["step_warn_at"],
            unique=False,
            postgresql_where=sa.text("NOT step_warned"),
            sqlite_where=sa.text("NOT step_warned"),
        )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("created_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["work_orders.id"], name=op.f("fk_notifications_order_id_work_orders")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user_id_id", ["user_id", "id"], unique=False)

    op.create_table(
        "work_order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_step", sa.String(length=32), nullable=True),
        sa.Column("to_step", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("step_entered_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("step_deadline", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("step_late", sa.Boolean(), nullable=True),
        sa.Column("step_unit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_work_order_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["work_orders.id"], name=op.f("fk_work_order_events_order_id_work_orders")
        ),
        sa.ForeignKeyConstraint(
            ["step_unit_id"], ["units.id"], name=op.f("fk_work_order_events_step_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_events")),
    )
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.create_index("ix_work_order_events_from_step_at", ["from_step", "at"], unique=False)
        batch_op.create_index("ix_work_order_events_order_id_id", ["order_id", "id"], unique=False)

    _append_only_events()


def downgrade() -> None:
    _drop_event_triggers()
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_work_order_events_order_id_id")
        batch_op.drop_index("ix_work_order_events_from_step_at")

    op.drop_table("work_order_events")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_id_id")

    op.drop_table("notifications")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_work_orders_warn",
            postgresql_where=sa.text("NOT step_warned"),
            sqlite_where=sa.text("NOT step_warned"),
        )
        batch_op.drop_index(batch_op.f("ix_work_orders_urged_order_id"))
        batch_op.drop_index("ix_work_orders_transformer_area_id_created_at")
        batch_op.drop_index("ix_work_orders_step_step_deadline")
        batch_op.drop_index("ix_work_orders_step_step_warn_at")
        batch_op.drop_index("ix_work_orders_station_id_created_at")
        batch_op.drop_index(batch_op.f("ix_work_orders_main_order_id"))
        batch_op.drop_index("ix_work_orders_handler_user_id_step")
        batch_op.drop_index(
            "ix_work_orders_due",
            postgresql_where=sa.text("NOT step_breached"),
            sqlite_where=sa.text("NOT step_breached"),
        )
        batch_op.drop_index("ix_work_orders_customer_id_created_at")
        batch_op.drop_index("ix_work_orders_created_at")
        batch_op.drop_index(batch_op.f("ix_work_orders_county_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_category"))
        batch_op.drop_index(batch_op.f("ix_work_orders_calendar_missing_year"))
        batch_op.drop_index("ix_work_orders_business_type_created_at")

    op.drop_table("work_orders")
    with op.batch_alter_table("sla_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_rules_version_id_business_type_step")

    op.drop_table("sla_rules")
    with op.batch_alter_table("sla_policy_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_policy_versions_effective_from"))

    op.drop_table("sla_policy_versions")
    op.drop_table("calendar_years")
    op.drop_table("workflow_transitions")
    op.drop_table("order_counters")
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_items_parent_id"))
        batch_op.drop_index(batch_op.f("ix_catalog_items_kind"))

    op.drop_table("catalog_items")
    op.drop_table("calendar_days")


def _append_only_events() -> None:
    message = "work_order_events is append-only"
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER work_order_events_no_{verb.lower()} BEFORE {verb} ON work_order_events "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION work_order_events_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER work_order_events_append_only BEFORE UPDATE OR DELETE ON work_order_events "
            "FOR EACH ROW EXECUTE FUNCTION work_order_events_refuse()"
        )


def _drop_event_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS work_order_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS work_order_events_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS work_order_events_append_only ON work_order_events")
        op.execute("DROP FUNCTION IF EXISTS work_order_events_refuse()")
