"""process engine: transitions in code, events of every process, paused clocks, seeded defaults

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

- workflow_transitions is dropped: the moves of every process are its specs in code
  (workorders/actions.py, outages/process.py), so a changed move reaches every database with the
  release that changes it. The downgrade puts back the table with the moves 0006 knew.
- item_events (append-only, like work_order_events) keeps the events of the other processes:
  outages, arrears cases, and the processes with several open steps (item_steps, with their clocks).
- work_orders: a step's clock may be paused for the customer (挂起): the time left is kept.
- The default catalogues and time limits are seeded here, once; a later change to them is a
  migration of its own that updates the rows (they used to be re-seeded add-only at every upgrade,
  so a changed row never reached an existing database).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import gridcare.models.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = gridcare.models.types.UTCDateTime(timezone=True)

# The moves as 0006 stored them (for the downgrade only).
TRANSITIONS_0006 = [
    ("*", "dispatch", "pending_dispatch", "pending_accept"),
    ("*", "accept", "pending_accept", "pending_contact"),
    ("*", "return", "pending_accept", "pending_dispatch"),
    ("*", "contact", "pending_contact", "in_progress"),
    ("*", "reply", "in_progress", "pending_review"),
    ("*", "review_pass", "pending_review", "pending_callback"),
    ("*", "review_back", "pending_review", "in_progress"),
    ("*", "callback", "pending_callback", "pending_archive"),
    ("*", "archive", "pending_archive", "archived"),
    ("consultation", "resolve", "pending_dispatch", "pending_archive"),
    ("fault_repair", "merge", "pending_dispatch", "merged"),
    ("fault_repair", "merge", "pending_accept", "merged"),
    ("fault_repair", "merge", "pending_contact", "merged"),
    ("fault_repair", "merge", "in_progress", "merged"),
    ("fault_repair", "follow_main", "merged", "pending_review"),
    ("fault_repair", "attach_outage", "pending_dispatch", "merged"),
    ("fault_repair", "outage_restored", "merged", "pending_callback"),
    ("fault_repair", "outage_dismissed", "merged", "pending_dispatch"),
    ("urging", "dispatch", "pending_dispatch", "pending_archive"),
]


def upgrade() -> None:
    op.create_table(
        "item_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_step", sa.String(length=32), nullable=True),
        sa.Column("to_step", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("step_entered_at", UTC, nullable=True),
        sa.Column("step_deadline", UTC, nullable=True),
        sa.Column("step_late", sa.Boolean(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_events")),
    )
    op.create_index("ix_item_events_process_item_id_id", "item_events", ["process", "item_id", "id"])
    op.create_table(
        "item_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("entered_at", UTC, nullable=False),
        sa.Column("deadline", UTC, nullable=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("paused_at", UTC, nullable=True),
        sa.Column("pause_reason", sa.String(length=500), nullable=True),
        sa.Column("left_seconds", sa.Integer(), nullable=True),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("left_at", UTC, nullable=True),
        sa.CheckConstraint("state IN ('open','paused','done')", name=op.f("ck_item_steps_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_steps")),
    )
    op.create_index("ix_item_steps_process_item_id", "item_steps", ["process", "item_id"])
    op.create_index("ix_item_steps_state_deadline", "item_steps", ["state", "deadline"])
    _append_only("item_events")

    with op.batch_alter_table("work_orders") as batch_op:
        batch_op.add_column(
            sa.Column("step_working", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("step_paused_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("step_pause_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("step_left_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("step_warn_left_seconds", sa.Integer(), nullable=True))
    # Open steps under a working-day limit: their clocks count working time.
    op.execute(
        "UPDATE work_orders SET step_working = TRUE WHERE step NOT IN ('archived','merged') AND EXISTS ("
        "SELECT 1 FROM sla_rules r WHERE r.version_id = work_orders.policy_version_id "
        "AND r.unit = 'working_days' AND r.step = work_orders.step "
        "AND r.business_type IN (work_orders.business_type, '*'))"
    )
    op.drop_table("workflow_transitions")

    from gridcare.workorders.defaults import ensure_defaults  # the catalogues and limits of this release

    with Session(bind=op.get_bind()) as session:
        ensure_defaults(session)


def downgrade() -> None:
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
    table = sa.table(
        "workflow_transitions",
        sa.column("business_type"),
        sa.column("action"),
        sa.column("from_step"),
        sa.column("to_step"),
    )
    op.bulk_insert(
        table,
        [{"business_type": t, "action": a, "from_step": f, "to_step": s} for t, a, f, s in TRANSITIONS_0006],
    )
    # A paused order goes back with its clock running (0006 knows no pause): the time it had left.
    op.execute(
        "UPDATE work_orders SET step_deadline = step_paused_at WHERE step_paused_at IS NOT NULL "
        "AND step_left_seconds IS NOT NULL"
    )
    with op.batch_alter_table("work_orders") as batch_op:
        for column in (
            "step_warn_left_seconds",
            "step_left_seconds",
            "step_pause_reason",
            "step_paused_at",
            "step_working",
        ):
            batch_op.drop_column(column)
    _drop_append_only("item_events")
    op.drop_index("ix_item_steps_state_deadline", table_name="item_steps")
    op.drop_index("ix_item_steps_process_item_id", table_name="item_steps")
    op.drop_table("item_steps")
    op.drop_index("ix_item_events_process_item_id_id", table_name="item_events")
    op.drop_table("item_events")


def _append_only(table: str) -> None:
    message = f"{table} is append-only"
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    else:
        op.execute(
            f"CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse()"
        )


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")
