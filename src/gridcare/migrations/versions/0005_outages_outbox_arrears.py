"""outages, affected customers, outbox, arrears cases

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Outages keep the customers they affected (outage_customers), so later topology changes do not
rewrite history. Notices wait in the outbox, written in the same transaction as the change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gridcare.models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=200), nullable=True))
    op.create_table(
        "outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("cause", sa.String(length=500), nullable=False),
        sa.Column("area_text", sa.String(length=500), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("planned_start", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("planned_end", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actual_start", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actual_end", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expected_restore_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("announced_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("short_notice_reason", sa.String(length=500), nullable=True),
        sa.Column("short_notice_approver_id", sa.Integer(), nullable=True),
        sa.Column("cause_class", sa.String(length=16), nullable=False),
        sa.Column("momentary", sa.Boolean(), nullable=False),
        sa.Column("affected_customers", sa.Integer(), nullable=False),
        sa.Column("affected_areas", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('planned', 'temporary', 'fault', 'arrears', 'limiting')", name=op.f("ck_outages_kind")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'announced', 'predicted', 'confirmed', 'in_progress', 'restored', 'closed', 'cancelled')",
            name=op.f("ck_outages_status"),
        ),
        sa.CheckConstraint(
            "cause_class IN ('company','customer_side','disaster')", name=op.f("ck_outages_cause_class")
        ),
        sa.ForeignKeyConstraint(["county_id"], ["units.id"], name=op.f("fk_outages_county_id_units")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_outages_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["short_notice_approver_id"], ["users.id"], name=op.f("fk_outages_short_notice_approver_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outages")),
        sa.UniqueConstraint("number", name=op.f("uq_outages_number")),
    )
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outages_county_id_planned_start", ["county_id", "planned_start"], unique=False
        )
        batch_op.create_index("ix_outages_status_planned_start", ["status", "planned_start"], unique=False)

    op.create_table(
        "outage_scope_items",
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=20), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "element IN ('feeder', 'branch_switch', 'transformer_area', 'customer')",
            name=op.f("ck_outage_scope_items_element"),
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"], ["outages.id"], name=op.f("fk_outage_scope_items_outage_id_outages")
        ),
        sa.PrimaryKeyConstraint("outage_id", "element", "element_id", name=op.f("pk_outage_scope_items")),
    )
    op.create_table(
        "outage_time_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("previous", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("new", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.id"], name=op.f("fk_outage_time_changes_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"], ["outages.id"], name=op.f("fk_outage_time_changes_outage_id_outages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_time_changes")),
    )
    with op.batch_alter_table("outage_time_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outage_time_changes_outage_id"), ["outage_id"], unique=False)

    op.create_table(
        "outage_customers",
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("transformer_area_id", sa.Integer(), nullable=False),
        sa.Column("is_important", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_outage_customers_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"], ["outages.id"], name=op.f("fk_outage_customers_outage_id_outages")
        ),
        sa.ForeignKeyConstraint(
            ["transformer_area_id"],
            ["transformer_areas.id"],
            name=op.f("fk_outage_customers_transformer_area_id_transformer_areas"),
        ),
        sa.PrimaryKeyConstraint("outage_id", "customer_id", name=op.f("pk_outage_customers")),
    )
    with op.batch_alter_table("outage_customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outage_customers_customer_id_outage_id",
            ["customer_id", "outage_id", "transformer_area_id"],
            unique=False,
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending','sent','failed')", name=op.f("ck_outbox_status")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_outbox_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["outage_id"], ["outages.id"], name=op.f("fk_outbox_outage_id_outages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_outage_id_customer_id", ["outage_id", "customer_id"], unique=False)
        batch_op.create_index("ix_outbox_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "arrears_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("bill_month", sa.String(length=7), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("due_date", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("first_notice_id", sa.Integer(), nullable=True),
        sa.Column("final_notice_id", sa.Integer(), nullable=True),
        sa.Column("outage_id", sa.Integer(), nullable=True),
        sa.Column("reconnect_order_id", sa.Integer(), nullable=True),
        sa.Column("paid_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("restored_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", gridcare.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open','cut','paid','restored','cancelled')", name=op.f("ck_arrears_cases_status")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_arrears_cases_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["final_notice_id"], ["outbox.id"], name=op.f("fk_arrears_cases_final_notice_id_outbox")
        ),
        sa.ForeignKeyConstraint(
            ["first_notice_id"], ["outbox.id"], name=op.f("fk_arrears_cases_first_notice_id_outbox")
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"], ["outages.id"], name=op.f("fk_arrears_cases_outage_id_outages")
        ),
        sa.ForeignKeyConstraint(
            ["reconnect_order_id"],
            ["work_orders.id"],
            name=op.f("fk_arrears_cases_reconnect_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrears_cases")),
    )
    with op.batch_alter_table("arrears_cases", schema=None) as batch_op:
        batch_op.create_index("ix_arrears_cases_customer_id_status", ["customer_id", "status"], unique=False)
    # A plain ADD COLUMN with its reference, not a batch table copy: work_orders holds millions of
    # rows, and SQLite adds a nullable referencing column in place (Alembic's SQLite dialect would
    # only do it by copying the table).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE work_orders ADD COLUMN outage_id INTEGER "
            "CONSTRAINT fk_work_orders_outage_id_outages REFERENCES outages (id)"
        )
    else:
        op.add_column("work_orders", sa.Column("outage_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_work_orders_outage_id_outages"), "work_orders", "outages", ["outage_id"], ["id"]
        )
    op.create_index(op.f("ix_work_orders_outage_id"), "work_orders", ["outage_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_work_orders_outage_id"), table_name="work_orders")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("work_orders", schema=None) as batch_op:
            batch_op.drop_column("outage_id")  # and its reference with it
    else:
        op.drop_constraint(op.f("fk_work_orders_outage_id_outages"), "work_orders", type_="foreignkey")
        op.drop_column("work_orders", "outage_id")
    with op.batch_alter_table("arrears_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_arrears_cases_customer_id_status")

    op.drop_table("arrears_cases")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_due_at")
        batch_op.drop_index("ix_outbox_outage_id_customer_id")

    op.drop_table("outbox")
    with op.batch_alter_table("outage_customers", schema=None) as batch_op:
        batch_op.drop_index("ix_outage_customers_customer_id_outage_id")

    op.drop_table("outage_customers")
    with op.batch_alter_table("outage_time_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outage_time_changes_outage_id"))

    op.drop_table("outage_time_changes")
    op.drop_table("outage_scope_items")
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.drop_index("ix_outages_status_planned_start")
        batch_op.drop_index("ix_outages_county_id_planned_start")

    op.drop_table("outages")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email")
