"""step alarms: the overdue scan's queue replaces the breach and warning flags of work_orders

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

A step's warning and breach still to raise wait in step_alarms (order, kind, at), written when the
order enters the step and removed when it leaves it, is paused, or when the scan raises them. The scan
reads the narrow table by time and writes events and messages; it no longer updates work_orders, whose
flags (step_warned, step_breached) and their two partial indexes go: updating a flag that a partial
index reads rewrote every one of the table's indexes for each flag on PostgreSQL. "Overdue" was always
read from the deadline itself.

Also: a partial index of the unread messages, for the header's count on every page.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gridcare.models.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = gridcare.models.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "step_alarms",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.CheckConstraint("kind IN ('warning','breach')", name=op.f("ck_step_alarms_kind")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["work_orders.id"], name=op.f("fk_step_alarms_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "kind", name=op.f("pk_step_alarms")),
    )
    # What is still to raise: open steps whose flag is not set yet (and not paused).
    op.execute(
        "INSERT INTO step_alarms (order_id, kind, at) SELECT id, 'warning', step_warn_at FROM work_orders "
        "WHERE step NOT IN ('archived','merged') AND step_warn_at IS NOT NULL AND NOT step_warned AND step_paused_at IS NULL"
    )
    op.execute(
        "INSERT INTO step_alarms (order_id, kind, at) SELECT id, 'breach', step_deadline FROM work_orders "
        "WHERE step NOT IN ('archived','merged') AND step_deadline IS NOT NULL AND NOT step_breached AND step_paused_at IS NULL"
    )
    op.create_index("ix_step_alarms_at", "step_alarms", ["at"])
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["user_id"],
        postgresql_where=sa.text("read_at IS NULL"),
        sqlite_where=sa.text("read_at IS NULL"),
    )
    op.drop_index("ix_work_orders_due", table_name="work_orders")
    op.drop_index("ix_work_orders_warn", table_name="work_orders")
    for column in ("step_warned", "step_breached"):
        # Plain ALTER TABLE on SQLite too (3.35+): no copy of the table and its 17 other indexes.
        op.execute(f"ALTER TABLE work_orders DROP COLUMN {column}")


def downgrade() -> None:
    for column in ("step_breached", "step_warned"):
        op.execute(f"ALTER TABLE work_orders ADD COLUMN {column} BOOLEAN NOT NULL DEFAULT FALSE")
    # Raised already: open steps past their time with no alarm left.
    op.execute(
        "UPDATE work_orders SET step_warned = TRUE WHERE step NOT IN ('archived','merged') AND step_warn_at IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM step_alarms a WHERE a.order_id = work_orders.id AND a.kind = 'warning')"
    )
    op.execute(
        "UPDATE work_orders SET step_breached = TRUE WHERE step NOT IN ('archived','merged') AND step_deadline IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM step_alarms a WHERE a.order_id = work_orders.id AND a.kind = 'breach')"
    )
    op.create_index(
        "ix_work_orders_due",
        "work_orders",
        ["step_deadline"],
        postgresql_where=sa.text("NOT step_breached"),
        sqlite_where=sa.text("NOT step_breached"),
    )
    op.create_index(
        "ix_work_orders_warn",
        "work_orders",
        ["step_warn_at"],
        postgresql_where=sa.text("NOT step_warned"),
        sqlite_where=sa.text("NOT step_warned"),
    )
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_index("ix_step_alarms_at", table_name="step_alarms")
    op.drop_table("step_alarms")
