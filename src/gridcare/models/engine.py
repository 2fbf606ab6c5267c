"""What the process engine keeps for processes other than work orders (whose orders keep their own
step and events): each item's events (append-only, like work-order events), and the open steps of
processes with several at once, each with its clock — which may be paused for the customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridcare.db import Base
from gridcare.models.types import UTCDateTime, utcnow


class ItemEvent(Base):
    """One event of an item of `process` (an outage, an arrears case …). Append-only (triggers)."""

    __tablename__ = "item_events"
    __table_args__ = (Index("ix_item_events_process_item_id_id", "process", "item_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(32))
    from_step: Mapped[str | None] = mapped_column(String(32))
    to_step: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    step_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    step_late: Mapped[bool | None]
    unit_id: Mapped[int | None]


class ItemStep(Base):
    """One step of an item of a process that has several steps open at once (parallel branches that
    join later). `state`: open, paused (the customer owes something: `pause_reason`; the clock stands
    still and `left_seconds` of it remain) or done."""

    __tablename__ = "item_steps"
    __table_args__ = (
        CheckConstraint("state IN ('open','paused','done')", name="state"),
        Index("ix_item_steps_process_item_id", "process", "item_id"),
        Index("ix_item_steps_state_deadline", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int]
    step: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8), default="open")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    working: Mapped[bool] = mapped_column(default=False)  # the clock counts working time
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(500))
    left_seconds: Mapped[int | None]  # of the clock, while paused
    paused_seconds: Mapped[int] = mapped_column(default=0)  # all pauses together
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it as declared
