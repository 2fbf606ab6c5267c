"""What the background jobs (gridcare/jobs.py) have done: one row per job, kept by the runner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from gridcare.db import Base
from gridcare.models.types import UTCDateTime


class JobRun(Base):
    """A job's last run, last success and last error, its next run, and who holds it now: a runner
    takes a job for a lease (`leased_by` until `lease_until`), so two runners never run one job at
    once, and a runner that died lets go when the lease runs out."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_summary: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    runs: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    streak: Mapped[int] = mapped_column(default=0)  # failures in a row (retries back off)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seconds: Mapped[float | None]
