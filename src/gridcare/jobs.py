"""Background jobs: each domain declares its jobs next to its code (`workorders/jobs.py` …) with
`register(Job(...))`; the runner runs whatever is due, one job at a time, each in isolation.

- A job's failure is logged (its kind and message; never the data it was working on) and recorded,
  and the job is retried after a back-off (`retry_after`, doubling up to its interval); the other jobs
  go on. One broken dependency (a damaged report snapshot, a gateway that is down) stops only the
  job that needs it.
- Each job's last run, last success, last error and next run are kept in `job_runs` (shown on the
  admin page 后台任务). A runner takes a job for a lease, so several runners (the web app's and a
  `gridcare worker` on another host) never run one job at once; a job marked `per_host` (the report
  snapshot, kept in a local file) is leased per host instead.
- An admin may ask for a run now (`request_run`): the job's next run becomes now.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from gridcare.config import Settings
from gridcare.db import transaction
from gridcare.models import JobRun
from gridcare.models.types import utcnow

log = logging.getLogger("gridcare.jobs")


@dataclass
class JobContext:
    """What a job gets: the settings, the database, and a place to keep things between its runs (the
    report snapshot object, say)."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """`run` does one pass and returns a line for people (“预警 3，超时 1”). `interval` is read from the
    settings, so operators tune it by configuration."""

    name: str
    label: str
    run: Callable[[JobContext], str]
    interval: Callable[[Settings], float]
    retry_after: float = 10.0  # seconds before the first retry of a failed run
    per_host: bool = False
    description: str = ""


JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    if job.name in JOBS and JOBS[job.name] is not job:
        raise ValueError(f"job {job.name} registered twice")
    JOBS[job.name] = job
    return job


def _key(job: Job) -> str:
    return f"{job.name}@{socket.gethostname()}"[:64] if job.per_host else job.name


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def request_run(session: Session, name: str, now: datetime | None = None) -> None:
    """An admin's "run now": the job (every host's copy of a per-host job) is due at once."""
    job = JOBS[name]
    now = now or utcnow()
    session.execute(
        _insert(session)(JobRun).values(name=_key(job), runs=0, failures=0, streak=0).on_conflict_do_nothing()
    )
    session.execute(
        update(JobRun)
        .where(or_(JobRun.name == job.name, JobRun.name.startswith(f"{job.name}@")))
        .values(next_run_at=now)
    )


def status(session: Session) -> list[tuple[Job, list[JobRun]]]:
    """Every registered job with its rows (one, or one per host)."""
    rows = list(session.scalars(select(JobRun).order_by(JobRun.name)))
    return [
        (job, [r for r in rows if r.name == job.name or r.name.startswith(f"{job.name}@")])
        for job in JOBS.values()
    ]


@dataclass
class RunResult:
    name: str
    ok: bool
    summary: str
    seconds: float


class Runner:
    """Runs the registered jobs that are due. `tick()` is one pass (used by `--once` and the tests);
    `run_forever()` ticks every second until stopped; `start()` does that in a daemon thread (the web
    app's own runner under `gridcare serve`)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        factory: sessionmaker[Session],
        *,
        only: list[str] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.jobs = [j for n, j in JOBS.items() if only is None or n in only]
        self.context = JobContext(settings=settings, engine=engine, factory=factory)
        self.factory = factory
        self.echo = echo
        self.holder = _holder()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- leases -----------------------------------------------------------------------------------
    def _take(self, job: Job, now: datetime, *, force: bool = False) -> bool:
        """Take the job if it is due and nobody holds it; the lease covers a long run (5 minutes or the
        interval, whichever is longer) and is given back when the run ends."""
        key = _key(job)
        lease = now + timedelta(seconds=max(300.0, job.interval(self.settings)))
        with transaction(self.factory) as session:
            session.execute(
                _insert(session)(JobRun)
                .values(name=key, runs=0, failures=0, streak=0)
                .on_conflict_do_nothing()
            )
            taken = session.execute(
                update(JobRun)
                .where(
                    JobRun.name == key,
                    or_(JobRun.next_run_at.is_(None), JobRun.next_run_at <= now, literal(force)),
                    or_(JobRun.lease_until.is_(None), JobRun.lease_until < now),
                )
                .values(leased_by=self.holder, lease_until=lease, last_started_at=now)
                .returning(JobRun.name)
                .execution_options(synchronize_session=False)
            ).first()
        return taken is not None

    def _finish(
        self, job: Job, *, started: datetime, seconds: float, error: str | None, summary: str
    ) -> None:
        key = _key(job)
        now = utcnow()
        with transaction(self.factory) as session:
            row = session.get(JobRun, key)
            assert row is not None
            row.runs += 1
            row.last_finished_at = now
            row.last_seconds = round(seconds, 3)
            row.leased_by = None
            row.lease_until = None
            interval = job.interval(self.settings)
            if error is None:
                row.last_success_at = now
                row.last_summary = summary[:500]
                row.failing_since = None
                row.streak = 0
                row.next_run_at = started + timedelta(seconds=interval)
            else:
                row.failures += 1
                row.last_error_at = now
                row.last_error = error[:500]
                row.failing_since = row.failing_since or now
                row.streak += 1
                # 10 s, 20 s, 40 s … up to the job's own interval: a lasting fault is not hammered.
                backoff = min(job.retry_after * 2 ** (row.streak - 1), max(interval, job.retry_after))
                row.next_run_at = now + timedelta(seconds=backoff)

    # -- running ----------------------------------------------------------------------------------
    def run_one(self, job: Job, now: datetime | None = None, *, force: bool = False) -> RunResult | None:
        """Run `job` if it is due (or `force`) and free. Its failure is caught, logged and recorded."""
        now = now or utcnow()
        if not self._take(job, now, force=force):
            return None
        started = time.perf_counter()
        error = None
        summary = ""
        try:
            summary = job.run(self.context)
        except Exception as exc:  # one job's failure must not stop the others
            error = f"{type(exc).__name__}: {str(exc)[:400]}"
            log.error("job %s failed: %s", job.name, type(exc).__name__)
        seconds = time.perf_counter() - started
        self._finish(job, started=now, seconds=seconds, error=error, summary=summary)
        result = RunResult(job.name, error is None, error or summary, seconds)
        if self.echo is not None:
            state = "" if result.ok else "失败："
            self.echo(f"[{job.label}] {state}{result.summary}（{seconds:.2f} 秒）")
        return result

    def tick(self, now: datetime | None = None, *, force: bool = False) -> list[RunResult]:
        """One pass over the jobs: those due (every one with `force`) run, one after the other."""
        results = []
        for job in self.jobs:
            if self._stop.is_set():
                break
            try:
                result = self.run_one(job, now, force=force)
            except Exception as exc:  # the database itself failed: try again next tick
                log.error("job runner could not take %s: %s", job.name, type(exc).__name__)
                continue
            if result is not None:
                results.append(result)
        return results

    def run_forever(self, *, poll: float = 1.0) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(poll)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run_forever, name="gridcare-jobs", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
