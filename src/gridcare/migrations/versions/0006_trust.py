"""trust: sign-in attempts and sessions, outage scope by station, short-notice approvals, flashes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

- login_attempts replaces login_failures: each password evaluation is recorded before it runs, so
  concurrent guesses count at once; successes are kept to recognise addresses a user signed in from.
- user_sessions: a token or cookie names its session; signing out revokes it.
- outage_stations: the stations an outage reaches (its visibility), filled from the kept customers.
- outage_approvals: a short-notice announcement needs the named approver's decision.
- outages.analysis (trouble-call analysis, internal) apart from outages.cause (published);
  outages.cancel_reason; notifications.link; form_flashes (post/redirect/get).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gridcare.models.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = gridcare.models.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('pending','failed','success')", name=op.f("ck_login_attempts_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_client_ip_at", ["client_ip", "at"], unique=False)
        batch_op.create_index("ix_login_attempts_username_at", ["username", "at"], unique=False)
    op.execute(
        "INSERT INTO login_attempts (username, client_ip, at, outcome) "
        "SELECT username, client_ip, at, 'failed' FROM login_failures"
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_username_at")
    op.drop_table("login_failures")

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "form_flashes",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_form_flashes_user_id_users")),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_form_flashes")),
    )
    with op.batch_alter_table("form_flashes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_flashes_created_at"), ["created_at"], unique=False)

    op.create_table(
        "outage_stations",
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outage_id"], ["outages.id"], name=op.f("fk_outage_stations_outage_id_outages")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["units.id"], name=op.f("fk_outage_stations_station_id_units")
        ),
        sa.PrimaryKeyConstraint("outage_id", "station_id", name=op.f("pk_outage_stations")),
    )
    with op.batch_alter_table("outage_stations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outage_stations_station_id_outage_id", ["station_id", "outage_id"], unique=False
        )
    # The stations of the outages already stored: those of the 台区 their kept customers were on, and
    # those of the 台区 their scope names (feeders, switches, 台区), customers or not.
    op.execute(
        "INSERT INTO outage_stations (outage_id, station_id) "
        "SELECT oc.outage_id, ta.station_id FROM outage_customers oc "
        "JOIN transformer_areas ta ON ta.id = oc.transformer_area_id "
        "UNION "
        "SELECT si.outage_id, ta.station_id FROM outage_scope_items si JOIN transformer_areas ta ON "
        "(si.element = 'feeder' AND ta.feeder_id = si.element_id) "
        "OR (si.element = 'branch_switch' AND ta.branch_switch_id = si.element_id) "
        "OR (si.element = 'transformer_area' AND ta.id = si.element_id)"
    )

    op.create_table(
        "outage_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("planned_start", UTC, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending','approved','refused','withdrawn')", name=op.f("ck_outage_approvals_status")
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["users.id"], name=op.f("fk_outage_approvals_approver_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"], ["outages.id"], name=op.f("fk_outage_approvals_outage_id_outages")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_outage_approvals_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_approvals")),
    )
    with op.batch_alter_table("outage_approvals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outage_approvals_approver_id_status", ["approver_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outage_approvals_outage_id"), ["outage_id"], unique=False)
    # Outages announced at short notice before this revision named their approver on the outage: that
    # is kept as their (approved) request, so they can start as announced.
    op.execute(
        "INSERT INTO outage_approvals (outage_id, requested_by_id, approver_id, reason, planned_start, status, "
        "requested_at, decided_at) "
        "SELECT id, created_by_id, short_notice_approver_id, COALESCE(short_notice_reason, '（升级前记录）'), "
        "planned_start, 'approved', COALESCE(announced_at, created_at), COALESCE(announced_at, created_at) "
        "FROM outages WHERE short_notice_approver_id IS NOT NULL"
    )

    # Plain ADD COLUMN (nullable, no reference): done in place on SQLite, no table copy.
    op.add_column("notifications", sa.Column("link", sa.String(length=200), nullable=True))
    op.add_column("outages", sa.Column("analysis", sa.String(length=500), nullable=True))
    op.add_column("outages", sa.Column("cancel_reason", sa.String(length=500), nullable=True))
    # A prediction's cause was the analysis text; customers are told a cause only when it is confirmed.
    op.execute("UPDATE outages SET analysis = cause, cause = '原因待查明' WHERE status = 'predicted'")


def downgrade() -> None:
    op.execute("UPDATE outages SET cause = analysis WHERE status = 'predicted' AND analysis IS NOT NULL")
    # Plain DROP COLUMN (SQLite 3.35+): a batch table copy of outages would break the references to it.
    for table, column in (("outages", "cancel_reason"), ("outages", "analysis"), ("notifications", "link")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

    with op.batch_alter_table("outage_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outage_approvals_outage_id"))
        batch_op.drop_index("ix_outage_approvals_approver_id_status")
    op.drop_table("outage_approvals")
    with op.batch_alter_table("outage_stations", schema=None) as batch_op:
        batch_op.drop_index("ix_outage_stations_station_id_outage_id")
    op.drop_table("outage_stations")
    with op.batch_alter_table("form_flashes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_flashes_created_at"))
    op.drop_table("form_flashes")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_user_sessions_expires_at"))
    op.drop_table("user_sessions")

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_username_at", ["username", "at"], unique=False)
    op.execute(
        "INSERT INTO login_failures (username, client_ip, at) "
        "SELECT username, client_ip, at FROM login_attempts WHERE outcome <> 'success'"
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_username_at")
        batch_op.drop_index("ix_login_attempts_client_ip_at")
    op.drop_table("login_attempts")
