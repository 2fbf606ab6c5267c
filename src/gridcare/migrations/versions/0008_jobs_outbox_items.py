"""jobs and the outbox's item: job_runs; outbox.outage_id becomes (item_kind, item_id)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

- job_runs: each background job's last run, success and error, its next run and its lease
  (gridcare/jobs.py).
- outbox: a notice is about any item of a process, not only an outage: (item_kind, item_id)
  replace outage_id. Outage notices keep their outage; arrears notices get their case.
- outage_customers (outage_id, transformer_area_id): whether a repair call's 台区 is inside an active
  outage is an index lookup, not a scan of every outage's customers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gridcare.models.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = gridcare.models.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_run_at", UTC, nullable=True),
        sa.Column("leased_by", sa.String(length=120), nullable=True),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("last_started_at", UTC, nullable=True),
        sa.Column("last_finished_at", UTC, nullable=True),
        sa.Column("last_success_at", UTC, nullable=True),
        sa.Column("last_summary", sa.String(length=500), nullable=True),
        sa.Column("last_error_at", UTC, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("failing_since", UTC, nullable=True),
        sa.Column("last_seconds", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("item_kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
    op.execute("UPDATE outbox SET item_kind = 'outage', item_id = outage_id WHERE outage_id IS NOT NULL")
    op.execute(
        "UPDATE outbox SET item_kind = 'arrears', item_id = (SELECT a.id FROM arrears_cases a "
        "WHERE a.first_notice_id = outbox.id OR a.final_notice_id = outbox.id) "
        "WHERE outage_id IS NULL AND kind IN ('arrears_first', 'arrears_final')"
    )
    # A notice a later one replaced: its case is in its key ("a{case id}:first:…").
    case_in_key = (
        "CAST(substr(key, 2, instr(key, ':') - 2) AS INTEGER)"
        if op.get_bind().dialect.name == "sqlite"
        else "CAST(split_part(substr(key, 2), ':', 1) AS INTEGER)"
    )
    op.execute(
        f"UPDATE outbox SET item_id = {case_in_key} WHERE item_kind = 'arrears' AND item_id IS NULL "
        "AND key LIKE 'a%:%'"
    )
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_outage_id_customer_id")
        batch_op.create_index(
            "ix_outbox_item_kind_item_id_customer_id", ["item_kind", "item_id", "customer_id"], unique=False
        )
    _drop_outage_column()
    op.create_index(
        "ix_outage_customers_outage_id_transformer_area_id",
        "outage_customers",
        ["outage_id", "transformer_area_id"],
    )


def _drop_outage_column() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("outbox") as batch_op:
            batch_op.drop_column("outage_id")  # its reference goes with the rebuilt table
    else:
        op.drop_constraint(op.f("fk_outbox_outage_id_outages"), "outbox", type_="foreignkey")
        op.drop_column("outbox", "outage_id")


def downgrade() -> None:
    op.drop_index("ix_outage_customers_outage_id_transformer_area_id", table_name="outage_customers")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE outbox ADD COLUMN outage_id INTEGER REFERENCES outages (id)")
    else:
        op.add_column("outbox", sa.Column("outage_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_outbox_outage_id_outages"), "outbox", "outages", ["outage_id"], ["id"])
    op.execute("UPDATE outbox SET outage_id = item_id WHERE item_kind = 'outage'")
    op.drop_index("ix_outbox_item_kind_item_id_customer_id", table_name="outbox")
    op.create_index("ix_outbox_outage_id_customer_id", "outbox", ["outage_id", "customer_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE outbox DROP COLUMN item_id")
        op.execute("ALTER TABLE outbox DROP COLUMN item_kind")
    else:
        op.drop_column("outbox", "item_id")
        op.drop_column("outbox", "item_kind")
    op.drop_table("job_runs")
