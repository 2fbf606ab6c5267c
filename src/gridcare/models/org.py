"""Organisation: units (city → county → station) and the villages/communities stations serve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gridcare.db import Base
from gridcare.models.types import UTCDateTime, utcnow


class Unit(Base):
    """A company unit. `path` is the chain of ids from the city down ("/1/4/17/"): scope = prefix match."""

    __tablename__ = "units"
    __table_args__ = (CheckConstraint("kind IN ('city','county','station')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    imported: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Village(Base):
    """A village (村) or urban community (社区); its area class sets repair arrival limits."""

    __tablename__ = "villages"
    __table_args__ = (CheckConstraint("area_class IN ('urban','rural','remote')", name="area_class"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    area_class: Mapped[str] = mapped_column(String(16))
    station_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    liaison_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    imported: Mapped[bool] = mapped_column(default=False)
