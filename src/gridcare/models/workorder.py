"""Work orders (工单), their append-only events, their steps' pending alarms, notifications to staff, and
number counters.

An order stores its current step's deadline and warning time, so "overdue" and "due soon" are index
lookups; the alarms still to raise (warning, breach) wait in `step_alarms`, the overdue scan's queue. Each event that leaves a step records how long it took and whether
it was late, so step durations stay queryable for analytics.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from gridcare.db import Base
from gridcare.models.types import UTCDateTime, utcnow

OPEN_CONDITION = "step NOT IN ('archived','merged')"


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_station_id_created_at", "station_id", "created_at"),
        Index("ix_work_orders_created_at", "created_at"),
        Index("ix_work_orders_step_step_deadline", "step", "step_deadline"),
        # Per-station queues and step counts (工作台): answered from the index alone.
        Index("ix_work_orders_station_id_step_step_deadline", "station_id", "step", "step_deadline"),
        Index("ix_work_orders_step_step_warn_at", "step", "step_warn_at"),
        Index("ix_work_orders_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_work_orders_transformer_area_id_created_at", "transformer_area_id", "created_at"),
        Index("ix_work_orders_business_type_created_at", "business_type", "created_at"),
        Index("ix_work_orders_handler_user_id_step", "handler_user_id", "step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    business_type: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    complaint_level: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    channel: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    anonymous: Mapped[bool] = mapped_column(default=False)
    callback_declined: Mapped[bool] = mapped_column(default=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    address: Mapped[str | None] = mapped_column(String(255))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))
    transformer_area_id: Mapped[int | None] = mapped_column(ForeignKey("transformer_areas.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    area_class: Mapped[str] = mapped_column(String(16))
    handler_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    step: Mapped[str] = mapped_column(String(32))
    step_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    step_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    calendar_missing_year: Mapped[int | None] = mapped_column(index=True)
    # 挂起: the customer owes something; the clock stands still (deadline and warning time set aside,
    # with what was left of them) until it is resumed.
    step_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_pause_reason: Mapped[str | None] = mapped_column(String(200))
    step_left_seconds: Mapped[int | None]
    step_warn_left_seconds: Mapped[int | None]
    policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policy_versions.id"))
    priority: Mapped[int] = mapped_column(default=0)
    is_repeat: Mapped[bool] = mapped_column(default=False)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    main_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    # A repair call from inside a fault outage waits on the outage (attached); its restoration moves it on.
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id"), index=True)
    urged_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    fault_point: Mapped[str | None] = mapped_column(String(100))
    reply: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(32))
    callback_attempts: Mapped[int] = mapped_column(default=0)
    last_callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it as declared


class WorkOrderEvent(Base):
    """Append-only. An event that leaves a step carries that step's timing (for per-step analytics)."""

    __tablename__ = "work_order_events"
    __table_args__ = (Index("ix_work_order_events_order_id_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_step: Mapped[str | None] = mapped_column(String(32))
    to_step: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    step_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_late: Mapped[bool | None]
    step_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))


class Notification(Base):
    """A message to a staff member (warnings, urging, dispatches, approvals); delivered in the
    workspace. `link` is the page it is about when that is not an order (e.g. an outage to approve)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        # The header's unread count (every page, every 10 s): the few unread rows only.
        Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrderCounter(Base):
    """Per-day sequence for readable order numbers (incremented under a row lock)."""

    __tablename__ = "order_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class StepAlarm(Base):
    """An alarm still to raise for an order's current step: its warning (80 % of the limit) or its
    breach. Written when the order enters the step (and when a paused clock resumes), removed when it
    leaves the step, is paused (by its exact key: the order knows the times it was armed with), or when
    the overdue scan raises it. Keyed by time first (and, on SQLite, stored in that order) with no other
    index: the scan takes the due ones from the front, a range of consecutive rows, and never updates
    the wide, much-indexed work_orders row. An alarm whose time no longer matches its order's (left by
    a path that changed the times without re-arming) is discarded by the scan, not raised."""

    __tablename__ = "step_alarms"
    __table_args__ = (
        CheckConstraint("kind IN ('warning','breach')", name="kind"),
        {"sqlite_with_rowid": False},
    )

    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
