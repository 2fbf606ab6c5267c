"""The overdue scan's queue keyed by time.

`step_alarms` is rebuilt with the primary key (at, order_id, kind) — on SQLite a WITHOUT ROWID table, so
the rows are stored in that order — and no other index: the scan takes a batch as one range at the
front of the key, and an order's alarms are removed by their exact key (the order knows the times it
was armed with). The old layout, keyed by (order_id, kind) with an index on `at`, paid for two indexes
on every alarm and read the due ones by index from pages all over the table.

Also: the events' index on (from_step, at) goes. No query of the application reads events that way
(the reports read their snapshot), and every event written paid for it.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import gridcare.models.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = gridcare.models.types.UTCDateTime(timezone=True)


def _alarms(key: list[str], **kw: Any) -> None:
    op.create_table(
        "step_alarms",
        sa.Column("at", UTC, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.CheckConstraint("kind IN ('warning','breach')", name=op.f("ck_step_alarms_kind")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["work_orders.id"], name=op.f("fk_step_alarms_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_step_alarms")),
        **kw,
    )


def upgrade() -> None:
    # Kept aside, the table rebuilt under the same names, the rows put back.
    op.execute("CREATE TABLE step_alarms_kept AS SELECT at, order_id, kind FROM step_alarms")
    op.drop_table("step_alarms")
    _alarms(["at", "order_id", "kind"], sqlite_with_rowid=False)
    op.execute("INSERT INTO step_alarms (at, order_id, kind) SELECT at, order_id, kind FROM step_alarms_kept")
    op.drop_table("step_alarms_kept")
    op.execute("DROP INDEX IF EXISTS ix_work_order_events_from_step_at")


def downgrade() -> None:
    op.create_index("ix_work_order_events_from_step_at", "work_order_events", ["from_step", "at"])
    op.execute("CREATE TABLE step_alarms_kept AS SELECT at, order_id, kind FROM step_alarms")
    op.drop_table("step_alarms")
    _alarms(["order_id", "kind"])
    # The old key holds one alarm per order and kind: the latest armed.
    op.execute(
        "INSERT INTO step_alarms (at, order_id, kind) "
        "SELECT max(at), order_id, kind FROM step_alarms_kept GROUP BY order_id, kind"
    )
    op.drop_table("step_alarms_kept")
    op.create_index("ix_step_alarms_at", "step_alarms", ["at"])
