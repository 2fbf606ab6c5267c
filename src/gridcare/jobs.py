"""Background jobs: each domain declares its jobs next to its code (`workorders/jobs.py` …) with
`register(Job(...))`; the runner runs whatever is due, one job at a time, each in isolation.

- A job's failure is logged (its kind only) and recorded with its message, phone-, 户号- and ID-like
  digit runs and e-mail addresses masked; the job is retried after a back-off (`retry_after`, doubling
  up to its interval); the other jobs go on. One broken dependency (a damaged report snapshot, a gateway that is down) stops only the
  job that needs it.
- Each job's last run, last success, last error and next run are kept in `job_runs` (shown on the
  admin page 后台任务). A runner takes a job for a lease, renewed while the job runs and given back when
  it ends (or when the runner stops), so several runners (the web app's and a `gridcare worker` on
  another host) never run one job at once; a runner that died lets go when its lease runs out. A job
  marked `per_host` (the report snapshot, kept in a local file) is leased per host instead.
- An admin may ask for a run now (`request_run`): the job's next run becomes now (also while it runs:
  it runs again right after).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
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
from gridcare.redact import redact

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
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"[:120]


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

    LEASE_SECONDS = 300.0  # renewed every third of it while the job runs

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
    def _due(self, now: datetime, force: bool) -> list[Job]:
        """The jobs to try now, read without writing (a pass with nothing due costs one read)."""
        with self.factory() as session:
            rows = {r.name: r for r in session.scalars(select(JobRun))}
        due = []
        for job in self.jobs:
            row = rows.get(_key(job))
            if row is None:
                due.append(job)
                continue
            free = row.lease_until is None or row.lease_until < now
            ready = force or row.next_run_at is None or row.next_run_at <= now
            if free and ready:
                due.append(job)
        return due

    def _take(self, job: Job, now: datetime, *, force: bool = False) -> datetime | bool | None:
        """Take the job if it is due and nobody holds it. Returns False when not taken, else the next
        run the job had when taken (to tell a run-now asked during the run from the schedule)."""
        key = _key(job)
        lease = now + timedelta(seconds=self.LEASE_SECONDS)
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
                .returning(JobRun.next_run_at)
                .execution_options(synchronize_session=False)
            ).first()
        return False if taken is None else taken[0]

    def _renew(self, job: Job, done: threading.Event) -> None:
        """Keep the lease while the job runs (a long snapshot rebuild, say)."""
        while not done.wait(self.LEASE_SECONDS / 3):
            try:
                with transaction(self.factory) as session:
                    session.execute(
                        update(JobRun)
                        .where(JobRun.name == _key(job), JobRun.leased_by == self.holder)
                        .values(lease_until=utcnow() + timedelta(seconds=self.LEASE_SECONDS))
                        .execution_options(synchronize_session=False)
                    )
            except Exception as exc:  # the next renewal tries again
                log.warning("job %s: lease not renewed: %s", job.name, type(exc).__name__)

    def _finish(
        self,
        job: Job,
        *,
        started: datetime,
        seconds: float,
        error: str | None,
        summary: str,
        scheduled: datetime | None = None,
    ) -> None:
        key = _key(job)
        now = utcnow()
        with transaction(self.factory) as session:
            row = session.get(JobRun, key)
            assert row is not None
            ours = row.leased_by == self.holder
            row.runs += 1
            row.last_finished_at = now
            row.last_seconds = round(seconds, 3)
            interval = job.interval(self.settings)
            asked_now = row.next_run_at != scheduled and row.next_run_at is not None  # 立即运行 meanwhile
            if error is None:
                row.last_success_at = now
                row.last_summary = summary[:500]
                row.failing_since = None
                row.streak = 0
                following = started + timedelta(seconds=interval)
            else:
                row.failures += 1
                row.last_error_at = now
                row.last_error = error[:500]
                row.failing_since = row.failing_since or now
                row.streak += 1
                # 10 s, 20 s, 40 s … up to the job's own interval: a lasting fault is not hammered.
                doubled = job.retry_after * 2 ** min(row.streak - 1, 20)
                following = now + timedelta(seconds=min(doubled, max(interval, job.retry_after)))
            if ours:  # a lease another runner took over (ours ran out) is theirs to give back
                row.leased_by = None
                row.lease_until = None
                if not asked_now:
                    row.next_run_at = following

    def release(self) -> None:
        """Give back every lease this runner holds (it stops: what it was running will not finish)."""
        with transaction(self.factory) as session:
            session.execute(
                update(JobRun)
                .where(JobRun.leased_by == self.holder)
                .values(leased_by=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    # -- running ----------------------------------------------------------------------------------
    def run_one(self, job: Job, now: datetime | None = None, *, force: bool = False) -> RunResult | None:
        """Run `job` if it is due (or `force`) and free. Its failure is caught, logged and recorded."""
        now = now or utcnow()
        scheduled = self._take(job, now, force=force)
        if scheduled is False:
            return None
        done = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(job, done), name="gridcare-lease", daemon=True)
        renewer.start()
        started = time.perf_counter()
        error = None
        summary = ""
        try:
            summary = job.run(self.context)
        except Exception as exc:  # one job's failure must not stop the others
            error = redact(f"{type(exc).__name__}: {str(exc)[:400]}")
            log.error("job %s failed: %s", job.name, type(exc).__name__)
        finally:
            done.set()
        seconds = time.perf_counter() - started
        self._finish(
            job,
            started=now,
            seconds=seconds,
            error=error,
            summary=summary,
            scheduled=scheduled if isinstance(scheduled, datetime) else None,
        )
        result = RunResult(job.name, error is None, error or summary, seconds)
        if self.echo is not None:
            state = "" if result.ok else "失败："
            self.echo(f"[{job.label}] {state}{result.summary}（{seconds:.2f} 秒）")
        return result

    def tick(self, now: datetime | None = None, *, force: bool = False) -> list[RunResult]:
        """One pass over the jobs: those due (every one with `force`) run, one after the other."""
        results: list[RunResult] = []
        try:
            due = self._due(now or utcnow(), force)
        except Exception as exc:  # the database itself failed: try again next tick
            log.error("job runner could not read the jobs: %s", type(exc).__name__)
            return results
        for job in due:
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
        try:
            self.release()
        except Exception as exc:  # the database is gone: the leases run out by themselves
            log.warning("job runner could not give back its leases: %s", type(exc).__name__)
