"""Delivering the outbox to a local HTTP gateway: retries with backoff, failures visible, and a worker
process killed in the middle of a batch losing no notice and getting none delivered twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from gridcare import migrate
from gridcare.config import Settings
from gridcare.db import make_engine, make_session_factory
from gridcare.models import OutboxMessage
from gridcare.models.types import utcnow
from gridcare.notify.outbox import deliver_due
from tests.conftest import ScratchDatabases
from tests.notify.sink import running_sink

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=utcnow().tzinfo)


@pytest.fixture(scope="module")
def outbox_db(
    scratch_databases: ScratchDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A database of its own: the worker process takes every due message it finds."""
    url = scratch_databases.create()
    migrate.upgrade(url)
    folder = tmp_path_factory.mktemp("outbox")
    return Settings(
        database_url=url,
        secret_key="x" * 32,
        notice_file=Path(folder) / "notices.jsonl",
        customer_channels="sms",
        sms_secret="sink-secret",
    )


@pytest.fixture
def factory(outbox_db: Settings) -> Iterator[sessionmaker[Session]]:
    engine: Engine = make_engine(outbox_db)
    yield make_session_factory(engine)
    engine.dispose()


def queue(factory: sessionmaker[Session], prefix: str, count: int, *, due: datetime) -> list[str]:
    keys = [f"{prefix}:{i}" for i in range(count)]
    rows = [
        {
            "key": key,
            "channel": "sms",
            "recipient": f"1390000{i:04d}",
            "subject": "停电通知",
            "body": f"【供电公司】测试通知 {i}，如有疑问请拨打95598。",
            "kind": "announce",
            "status": "pending",
            "attempts": 0,
            "due_at": due,
            "created_at": due,
        }
        for i, key in enumerate(keys)
    ]
    with factory() as s:
        s.execute(insert(OutboxMessage), rows)
        s.commit()
    return keys


def rows(factory: sessionmaker[Session], prefix: str) -> dict[str, OutboxMessage]:
    with factory() as s:
        found = s.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith(prefix + ":")))
        return {m.key: m for m in found}


def test_failures_are_retried_with_backoff_and_stay_visible(
    outbox_db: Settings, factory: sessionmaker[Session]
) -> None:
    keys = queue(factory, "retry", 5, due=T0)
    with running_sink() as sink:
        settings = outbox_db.model_copy(update={"sms_url": sink.url, "outbox_max_attempts": 3})
        sink.fail_next = 1
        sink.reject = {keys[0]}
        first = deliver_due(factory, settings, clock=lambda: T0)
        assert (first.claimed, first.sent, first.retrying) == (5, 0, 5)
        after = rows(factory, "retry")
        assert {m.last_error for m in after.values()} == {"sms 网关返回 HTTP 500"}
        assert {m.due_at for m in after.values()} == {T0 + timedelta(seconds=30)}
        # Not due yet: nothing is claimed.
        assert deliver_due(factory, settings, clock=lambda: T0 + timedelta(seconds=10)).claimed == 0
        second = deliver_due(factory, settings, clock=lambda: T0 + timedelta(seconds=31))
        assert (second.sent, second.retrying) == (4, 1)
        refused = rows(factory, "retry")[keys[0]]
        assert (refused.status, refused.attempts, refused.last_error) == ("pending", 2, "号码停机")
        assert refused.due_at == T0 + timedelta(seconds=31 + 60)
        third = deliver_due(factory, settings, clock=lambda: T0 + timedelta(seconds=100))
        assert third.failed == 1
        final = rows(factory, "retry")
        assert final[keys[0]].status == "failed"
        assert final[keys[0]].last_error == "号码停机"
        assert {final[k].status for k in keys[1:]} == {"sent"}
        assert sink.bad_signatures == 0
        assert set(sink.delivered) == set(keys[1:])


def test_a_wrong_secret_is_refused_by_the_gateway(
    outbox_db: Settings, factory: sessionmaker[Session]
) -> None:
    queue(factory, "secret", 2, due=T0)
    with running_sink() as sink:
        settings = outbox_db.model_copy(update={"sms_url": sink.url, "sms_secret": "wrong"})
        result = deliver_due(factory, settings, clock=lambda: T0)
        assert result.retrying == 2
        assert sink.bad_signatures == 1
        assert {m.last_error for m in rows(factory, "secret").values()} == {"sms 网关返回 HTTP 401"}
        deliver_due(
            factory,
            outbox_db.model_copy(update={"sms_url": sink.url}),
            clock=lambda: T0 + timedelta(minutes=1),
        )
        assert {m.status for m in rows(factory, "secret").values()} == {"sent"}


def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(
    outbox_db: Settings, factory: sessionmaker[Session]
) -> None:
    count = 3000
    keys = queue(factory, "crash", count, due=utcnow() - timedelta(seconds=1))
    with running_sink() as sink:
        sink.delay = 0.15  # each request of 200 messages takes a while: the kill lands mid-batch
        env = {
            **os.environ,
            "GRIDCARE_DATABASE_URL": outbox_db.database_url,
            "GRIDCARE_SMS_URL": sink.url,
            "GRIDCARE_SMS_SECRET": "sink-secret",
            "GRIDCARE_OUTBOX_LEASE_SECONDS": "3",
            "GRIDCARE_NOTICE_FILE": str(outbox_db.notice_file),
        }
        command = [sys.executable, "-m", "gridcare.cli", "deliver", "--once"]
        worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while sink.requests < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        in_flight = [
            k for k, m in rows(factory, "crash").items() if m.status == "pending" and m.attempts == 1
        ]
        assert 0 < len(sink.delivered) < count  # killed in the middle
        assert in_flight  # rows it had claimed and not recorded
        time.sleep(3.2)  # the lease runs out
        sink.delay = 0.0
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0, again.stderr
    final = rows(factory, "crash")
    assert {m.status for m in final.values()} == {"sent"}
    assert set(sink.delivered) == set(keys)  # nothing lost
    repeats = {k: n for k, n in sink.received.items() if n > 1}
    assert max(sink.received.values()) <= 2
    # Only what the killed worker had sent but not yet recorded came again (one record chunk at most),
    # and the gateway delivered none of it a second time.
    assert len(repeats) <= 200
    assert len(sink.delivered) == count
