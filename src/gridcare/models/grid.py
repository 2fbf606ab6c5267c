"""Grid topology: substation → 10 kV feeder → optional branch switch → 台区 (transformer area)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gridcare.db import Base


class Substation(Base):
    __tablename__ = "substations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    county_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    voltage_kv: Mapped[int] = mapped_column(default=110)


class Feeder(Base):
    """A 10 kV line leaving a substation."""

    __tablename__ = "feeders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    substation_id: Mapped[int] = mapped_column(ForeignKey("substations.id"), index=True)


class BranchSwitch(Base):
    """A branch line or switch on a feeder; 台区 behind it go dark together."""

    __tablename__ = "branch_switches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    feeder_id: Mapped[int] = mapped_column(ForeignKey("feeders.id"), index=True)


class TransformerArea(Base):
    """台区: one distribution transformer and the low-voltage customers behind it."""

    __tablename__ = "transformer_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    capacity_kva: Mapped[int | None]
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"), index=True)
    branch_switch_id: Mapped[int | None] = mapped_column(ForeignKey("branch_switches.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    manager_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    imported: Mapped[bool] = mapped_column(default=False)
