"""work orders: (station, step, deadline) index for the workbench

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

The 工作台 counts open orders per step and lists each queue by deadline within the user's stations;
this index answers both without reading the table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_orders_station_id_step_step_deadline",
            ["station_id", "step", "step_deadline"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_work_orders_station_id_step_step_deadline")
