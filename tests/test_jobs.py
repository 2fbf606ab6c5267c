"""Background jobs: one job's broken dependency leaves the others running; each job's state is kept;
a job runs on one runner at a time; `gridcare serve` runs the jobs with no second command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.auth.service import principal_for
from gridcare.config import Settings
from gridcare.jobs import JOBS, Job, JobContext, Runner, register, request_run, status
from gridcare.models import JobRun, OutboxMessage, WorkOrderEvent
from gridcare.models.types import utcnow
from gridcare.workorders import service
from gridcare.workorders.schemas import WorkOrderCreate
from tests.conftest import _free_port, web_login
from tests.factories import PASSWORD, World, unique
from tests.workorders.helpers import COMPLAINT_FREQUENT_OUTAGE


def _late_complaint(s: Session, world: World, settings: Settings) -> int:
    """A complaint accepted two hours ago and never dispatched: its 20-minute step is overdue."""
    data = WorkOrderCreate(
        business_type="complaint",
        category=COMPLAINT_FREQUENT_OUTAGE,
        content="两个月停电三次",
        account_no=world.customers["station_a1"].account_no,
    )
    who = principal_for(s, world.users["agent"].id)
    order = service.create(s, principal=who, settings=settings, data=data, now=utcnow() - timedelta(hours=2))
    return order.order.id


def _pending_notice(s: Session) -> int:
    message = OutboxMessage(
        key=unique("job-test"),
        channel="file",
        recipient="1300000000",
        subject="停电通知",
        body="测试通知",
        kind="announce",
        status="pending",
        due_at=utcnow() - timedelta(seconds=1),
    )
    s.add(message)
    s.flush()
    return message.id


def test_a_broken_snapshot_stops_only_its_own_job(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"this is not a DuckDB database " * 200)
    damaged = settings.model_copy(update={"analytics_path": broken})
    with session_factory() as s:
        order_id = _late_complaint(s, world, settings)
        message_id = _pending_notice(s)
        s.commit()

    runner = Runner(damaged, engine, session_factory)
    results = {r.name: r for r in runner.tick(force=True)}

    assert not results["analytics.refresh"].ok
    assert results["workorders.scan_due"].ok, results["workorders.scan_due"].summary
    assert results["notify.deliver"].ok, results["notify.deliver"].summary
    with session_factory() as s:
        actions = s.scalars(select(WorkOrderEvent.action).where(WorkOrderEvent.order_id == order_id)).all()
        assert "breach" in actions
        delivered = s.get(OutboxMessage, message_id)
        assert delivered is not None
        assert delivered.status == "sent"
        rows = {job.name: found for job, found in status(s)}
        failed = rows["analytics.refresh"][0]
        assert failed.streak == 1
        assert failed.last_error
        assert failed.last_success_at is None or failed.last_error_at is not None
        assert failed.next_run_at is not None
        assert failed.lease_until is None  # given back
        scan = rows["workorders.scan_due"][0]
        assert scan.last_success_at is not None
        assert scan.streak == 0
    # Right after, the failed job waits for its retry (back-off), it is not run in a loop.
    assert "analytics.refresh" not in {r.name for r in runner.tick()}
    # Repaired (the damaged file removed), it succeeds when next due, and its streak ends.
    broken.unlink()
    with session_factory.begin() as s:
        request_run(s, "analytics.refresh")
    again = {r.name: r for r in runner.tick()}
    assert again["analytics.refresh"].ok, again["analytics.refresh"].summary
    with session_factory() as s:
        row = next(r for job, found in status(s) if job.name == "analytics.refresh" for r in found)
        assert row.streak == 0
        assert row.failing_since is None


def test_a_job_runs_on_one_runner_at_a_time(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    job = JOBS["auth.purge"]
    first = Runner(settings, engine, session_factory, only=[job.name])
    second = Runner(settings, engine, session_factory, only=[job.name])
    now = utcnow()
    scheduled = first._take(job, now, force=True)
    assert scheduled is not False
    assert second.run_one(job, now, force=True) is None  # held by the first
    # An admin asks for a run now while it runs: it is not lost when the run ends.
    with session_factory.begin() as s:
        request_run(s, job.name, now=now)
    first._finish(job, started=now, seconds=0.1, error=None, summary="ok", scheduled=scheduled or None)
    with session_factory() as s:
        row = s.get(JobRun, job.name)
        assert row is not None
        assert row.leased_by is None
        assert row.next_run_at == now
    assert second.run_one(job, utcnow()) is not None


def test_a_lease_that_ran_out_is_not_given_back_by_its_old_holder(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    job = JOBS["web.purge_flashes"]
    slow = Runner(settings, engine, session_factory, only=[job.name])
    other = Runner(settings, engine, session_factory, only=[job.name])
    now = utcnow()
    assert slow._take(job, now, force=True) is not False
    later = now + timedelta(seconds=Runner.LEASE_SECONDS + 1)  # the slow run's lease ran out
    assert other._take(job, later, force=True) is not False
    slow._finish(job, started=now, seconds=400, error=None, summary="late")
    with session_factory() as s:
        row = s.get(JobRun, job.name)
        assert row is not None
        assert row.leased_by == other.holder  # still the other runner's
    other.release()
    with session_factory() as s:
        row = s.get(JobRun, job.name)
        assert row is not None
        assert row.leased_by is None


def test_failures_back_off_without_end_and_keep_no_personal_data(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    def broken(ctx: JobContext) -> str:
        raise RuntimeError("gateway refused 13800138000 and 330100000777 (ops@example.com)")

    job = register(Job("test.broken", "测试任务", broken, interval=lambda s: 60.0))
    try:
        runner = Runner(settings, engine, session_factory, only=[job.name])
        result = runner.run_one(job, force=True)
        assert result is not None
        assert not result.ok
        with session_factory.begin() as s:
            row = s.get(JobRun, job.name)
            assert row is not None
            assert row.last_error is not None
            assert "13800138000" not in row.last_error
            assert "330100000777" not in row.last_error
            assert "example.com" not in row.last_error
            assert row.last_error.startswith("RuntimeError: gateway refused")
            row.streak = 5000  # a job failing for days: the back-off stays bounded
        again = runner.run_one(job, force=True)
        assert again is not None
        with session_factory() as s:
            row = s.get(JobRun, job.name)
            assert row is not None
            assert row.streak == 5001
            assert row.next_run_at is not None
            assert row.next_run_at - utcnow() <= timedelta(seconds=61)
    finally:
        JOBS.pop(job.name)


def test_serve_runs_the_jobs_with_no_second_command(
    settings: Settings, session_factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    """`make run` is `gridcare serve`: an overdue step gets its warning and a queued notice goes out
    while the web app serves, with no worker started."""
    with session_factory() as s:
        order_id = _late_complaint(s, world, settings)
        message_id = _pending_notice(s)
        for name in JOBS:  # due at once, as on a new installation (earlier tests ran them already)
            request_run(s, name)
        s.commit()
    port = _free_port()
    env = {
        **os.environ,
        "GRIDCARE_DATABASE_URL": settings.database_url,
        "GRIDCARE_SECRET_KEY": "test-secret-key-for-gridcare-tests-only-0123456789",
        "GRIDCARE_ANALYTICS_PATH": str(tmp_path / "snapshot.duckdb"),
        "GRIDCARE_NOTICE_FILE": str(tmp_path / "notices.jsonl"),
    }
    command = [sys.executable, "-m", "gridcare.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        done = False
        while time.monotonic() < deadline and not done:
            time.sleep(0.5)
            with session_factory() as s:
                raised = s.scalars(
                    select(WorkOrderEvent.action).where(
                        WorkOrderEvent.order_id == order_id, WorkOrderEvent.action == "breach"
                    )
                ).all()
                message = s.get(OutboxMessage, message_id)
                done = bool(raised and message and message.status == "sent")
        if not done:
            server.terminate()
            raise AssertionError(f"the jobs did not run under `gridcare serve`: {server.communicate()[0]}")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "后台任务已启动" in output


def test_the_admin_page_shows_each_job_and_runs_one_now(base_url: str, world: World) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        assert web_login(client, world.users["admin"].username, PASSWORD).status_code == 303
        page = client.get("/admin/jobs")
        assert page.status_code == 200
        for job in JOBS.values():
            assert job.label in page.text
        token = re.search(r'name="_csrf" value="([0-9a-f]+)"', page.text)
        assert token is not None
        asked = client.post("/admin/jobs/auth.purge/run", data={"_csrf": token.group(1)})
        assert asked.status_code == 303
        assert "已安排立即运行：登录记录清理" in client.get(asked.headers["location"]).text
        assert client.post("/admin/jobs/nothing/run", data={"_csrf": token.group(1)}).status_code == 404
    with httpx.Client(base_url=base_url, timeout=30) as agent:
        assert web_login(agent, world.users["agent"].username, PASSWORD).status_code == 303
        assert agent.get("/admin/jobs").status_code == 403
