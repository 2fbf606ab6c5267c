"""Customers (户). `station_id` repeats the 台区's station so scoping is one indexed column."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gridcare.db import Base
from gridcare.models.types import UTCDateTime, utcnow


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("usage_category IN ('residential','non_residential')", name="usage_category"),
        CheckConstraint("voltage_level IN ('low','high')", name="voltage_level"),
        Index("ix_customers_station_id_id", "station_id", "id"),
        Index("ix_customers_updated_at", "updated_at"),  # the analytics snapshot reads changes
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    phone_alt: Mapped[str | None] = mapped_column(String(20), index=True)
    id_number: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(255))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    transformer_area_id: Mapped[int] = mapped_column(ForeignKey("transformer_areas.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    usage_category: Mapped[str] = mapped_column(String(20), default="residential")
    voltage_level: Mapped[str] = mapped_column(String(8), default="low")
    is_important: Mapped[bool] = mapped_column(default=False)
    is_special_care: Mapped[bool] = mapped_column(default=False)
    is_sensitive: Mapped[bool] = mapped_column(default=False)
    imported: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it as declared
