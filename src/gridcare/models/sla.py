"""Time-limit policies (versioned) and the operator's calendar data."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from gridcare.db import Base
from gridcare.models.types import UTCDateTime, utcnow


class SlaPolicyVersion(Base):
    """A complete set of time limits; the newest version in effect applies to steps entered after it."""

    __tablename__ = "sla_policy_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaRule(Base):
    """One limit. Empty category / area class / urgency match any; the most specific rule wins.

    `anchor` = 'step': counted from entering the step; 'order': from the order's acceptance
    (e.g. a complaint's whole handling, 5 working days).
    """

    __tablename__ = "sla_rules"
    __table_args__ = (
        CheckConstraint("unit IN ('minutes','hours','working_days')", name="unit"),
        CheckConstraint("anchor IN ('step','order')", name="anchor"),
        Index("ix_sla_rules_version_id_business_type_step", "version_id", "business_type", "step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("sla_policy_versions.id", ondelete="CASCADE"))
    business_type: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    area_class: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[str | None] = mapped_column(String(16))
    limit_value: Mapped[float] = mapped_column(Numeric(10, 3, asdecimal=False))
    unit: Mapped[str] = mapped_column(String(16))
    anchor: Mapped[str] = mapped_column(String(8), default="step")
    warn_ratio: Mapped[float] = mapped_column(Numeric(4, 3, asdecimal=False), default=0.8)


class CalendarYear(Base):
    """A year whose official calendar the operator loaded (overrides the built-in data for that year)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    loaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CalendarDay(Base):
    """An exception to Monday–Friday in a loaded year, or a correction (`is_correction`) of any day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(100), default="")
    is_correction: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
