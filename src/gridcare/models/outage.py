"""Outages (停电): the event, its scope on the grid, the customers it affected (kept, so later topology
changes do not rewrite history), changes of the expected restoration time, and the outbox of notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridcare.db import Base
from gridcare.models.types import UTCDateTime, utcnow

OUTAGE_KINDS = ("planned", "temporary", "fault", "arrears", "limiting")
OUTAGE_STATUSES = (
    "planned",
    "announced",
    "predicted",
    "confirmed",
    "in_progress",
    "restored",
    "closed",
    "cancelled",
)
SCOPE_ELEMENTS = ("feeder", "branch_switch", "transformer_area", "customer")


class Outage(Base):
    __tablename__ = "outages"
    __table_args__ = (
        CheckConstraint(f"kind IN {OUTAGE_KINDS}", name="kind"),
        CheckConstraint(f"status IN {OUTAGE_STATUSES}", name="status"),
        CheckConstraint("cause_class IN ('company','customer_side','disaster')", name="cause_class"),
        Index("ix_outages_status_planned_start", "status", "planned_start"),
        Index("ix_outages_county_id_planned_start", "county_id", "planned_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str] = mapped_column(String(500))  # what customers read
    # Trouble-call analysis: why an outage was predicted (internal; never published to customers).
    analysis: Mapped[str | None] = mapped_column(String(500))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    area_text: Mapped[str] = mapped_column(String(500))  # what the notice calls the area
    county_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime)
    actual_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expected_restore_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A planned outage announced less than 7 days ahead (or a temporary one less than 24 h ahead)
    # needs both, recorded here.
    short_notice_reason: Mapped[str | None] = mapped_column(String(500))
    short_notice_approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What the frequent-outage count and the reliability indices leave out (docs/domain.md §7): causes on
    # the customer's side and declared disasters; an interruption of 3 minutes or less (momentary).
    cause_class: Mapped[str] = mapped_column(String(16), default="company")
    momentary: Mapped[bool] = mapped_column(default=False)
    affected_customers: Mapped[int] = mapped_column(default=0)
    affected_areas: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it as declared


class OutageStation(Base):
    """A station whose 台区 the outage reaches. A user sees an outage that reaches a station in their
    scope, and acts on it only when every station it reaches is theirs."""

    __tablename__ = "outage_stations"
    __table_args__ = (Index("ix_outage_stations_station_id_outage_id", "station_id", "outage_id"),)

    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)


class OutageApproval(Base):
    """A request to announce an outage with less than its notice period, and the named approver's
    decision. Only an approved request for the outage's current start lets it be announced."""

    __tablename__ = "outage_approvals"
    __table_args__ = (
        CheckConstraint("status IN ('pending','approved','refused','withdrawn')", name="status"),
        Index("ix_outage_approvals_approver_id_status", "approver_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime)  # the start the approval covers
    status: Mapped[str] = mapped_column(String(12), default="pending")
    decision_note: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutageScopeItem(Base):
    """One element the outage was declared on: a feeder, a branch switch, a 台区, or (arrears) a customer."""

    __tablename__ = "outage_scope_items"
    __table_args__ = (CheckConstraint(f"element IN {SCOPE_ELEMENTS}", name="element"),)

    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id"), primary_key=True)
    element: Mapped[str] = mapped_column(String(20), primary_key=True)
    element_id: Mapped[int] = mapped_column(primary_key=True)


class OutageCustomer(Base):
    """A customer the outage affected, as the topology stood when it was computed."""

    __tablename__ = "outage_customers"
    # Per customer: CEMI-n and the frequent-outage watch count a customer's outages in this order,
    # from the index alone.
    __table_args__ = (
        Index("ix_outage_customers_customer_id_outage_id", "customer_id", "outage_id", "transformer_area_id"),
        # Is a repair call's 台区 inside this outage (attaching calls, trouble-call analysis)?
        Index("ix_outage_customers_outage_id_transformer_area_id", "outage_id", "transformer_area_id"),
    )

    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    transformer_area_id: Mapped[int] = mapped_column(ForeignKey("transformer_areas.id"))
    is_important: Mapped[bool] = mapped_column(default=False)


class OutageTimeChange(Base):
    """A change of the expected restoration time (each one is announced)."""

    __tablename__ = "outage_time_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id"), index=True)
    previous: Mapped[datetime] = mapped_column(UTCDateTime)
    new: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(Base):
    """A notice to deliver, written in the same transaction as the change that caused it.

    `key` is unique: the same notice to the same recipient on the same channel is queued once. The
    worker claims due rows for a lease (`locked_until`), delivers, and records the outcome per row;
    a crashed worker's lease runs out and another picks the rows up. Gateways receive `key` as the
    message id so they can drop a repeat of a delivery whose result the worker never recorded."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending','sent','failed')", name="status"),
        Index("ix_outbox_status_due_at", "status", "due_at"),
        Index("ix_outbox_item_kind_item_id_customer_id", "item_kind", "item_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    # What the notice is about: an item of a process (engine/spec.py), e.g. ("outage", 12), ("arrears", 3).
    item_kind: Mapped[str | None] = mapped_column(String(32))
    item_id: Mapped[int | None]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArrearsCase(Base):
    """A customer's overdue bill on the way to a disconnection (欠费停电) and back.

    A cut is refused unless the bill is more than 30 days overdue, the disconnection notice
    (停电通知书) was delivered 3–7 days before and the second notice at least 30 minutes before; both
    notices go through the outbox, and `*_notice_id` point at them. After payment the reconnection is
    a 欠费复电 work order with a 24-hour limit, tracked and warned like any step."""

    __tablename__ = "arrears_cases"
    __table_args__ = (
        CheckConstraint("status IN ('open','cut','paid','restored','cancelled')", name="status"),
        Index("ix_arrears_cases_customer_id_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    bill_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount_cents: Mapped[int]
    due_date: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="open")
    first_notice_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    final_notice_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id"))
    reconnect_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it as declared
