"""Delivering the outbox: claim due messages for a lease, send them by channel, record each outcome.

A claim is its own committed transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers share
the queue; SQLite has one writer). Outcomes are committed every `RECORD_EVERY` messages. A worker
killed in between leaves its claimed rows leased; when the lease runs out another worker sends them
again under the same key, which the gateway uses to drop what it already has. Failures are retried
with exponential backoff (30 s, 1 min, 2 min … at most 1 h) until `outbox_max_attempts`, then the
message is `failed` with its last error, for people to see.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from gridcare.config import Settings
from gridcare.models import OutboxMessage
from gridcare.models.types import utcnow
from gridcare.notify.channels import Channel, Outcome, Outgoing, open_channel

RECORD_EVERY = 200
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


@dataclass
class DeliveryResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)


def backoff(attempts: int) -> timedelta:
    delay: timedelta = BACKOFF_FIRST * (2 ** max(attempts - 1, 0))
    return min(delay, BACKOFF_MAX)


def claim(
    session: Session, *, now: datetime, limit: int, lease: timedelta
) -> list[tuple[int, int, str, Outgoing]]:
    """Lease up to `limit` due messages to this worker: (id, attempts so far, channel, message). The
    caller commits."""
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.due_at <= now,
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
        )
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(locked_until=now + lease, attempts=OutboxMessage.attempts + 1),
        execution_options={"synchronize_session": False},
    )
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.attempts,
            OutboxMessage.channel,
            OutboxMessage.key,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.body,
        )
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.id)
    )
    return [
        (i, attempts, channel, Outgoing(i, key, to, subject, body))
        for i, attempts, channel, key, to, subject, body in rows
    ]


def _record(
    session: Session,
    settings: Settings,
    rows: list[tuple[int, int, Outcome]],
    now: datetime,
    result: DeliveryResult,
) -> None:
    sent = [i for i, _, o in rows if o.ok]
    if sent:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(sent))
            .values(status="sent", sent_at=now, locked_until=None, last_error=None),
            execution_options={"synchronize_session": False},
        )
        result.sent += len(sent)
    for message_id, attempts, outcome in rows:
        if outcome.ok:
            continue
        error = (outcome.error or "发送失败")[:500]
        result.errors[error] = result.errors.get(error, 0) + 1
        final = attempts >= settings.outbox_max_attempts
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status="failed" if final else "pending",
                due_at=now + backoff(attempts),
                locked_until=None,
                last_error=error,
            ),
            execution_options={"synchronize_session": False},
        )
        if final:
            result.failed += 1
        else:
            result.retrying += 1


def deliver_due(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    limit: int | None = None,
    clock: Callable[[], datetime] = utcnow,
    channels: dict[str, Channel] | None = None,
) -> DeliveryResult:
    """One round: claim a batch, deliver it channel by channel, record outcomes as they come."""
    started = time.perf_counter()
    result = DeliveryResult()
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    with factory() as session:
        batch = claim(session, now=clock(), limit=limit or settings.outbox_batch_size, lease=lease)
        session.commit()
    result.claimed = len(batch)
    if not batch:
        return result
    opened: dict[str, Channel] = dict(channels or {})
    try:
        by_channel: dict[str, list[tuple[int, int, Outgoing]]] = {}
        for message_id, attempts, channel_name, outgoing in batch:
            by_channel.setdefault(channel_name, []).append((message_id, attempts, outgoing))
        for name, items in by_channel.items():
            for start in range(0, len(items), RECORD_EVERY):
                chunk = items[start : start + RECORD_EVERY]
                outcomes = _send(opened, name, settings, [o for _, _, o in chunk])
                with factory() as session:
                    _record(
                        session,
                        settings,
                        [(i, a, outcomes.get(o.key, Outcome(False, "渠道未返回结果"))) for i, a, o in chunk],
                        clock(),
                        result,
                    )
                    session.commit()
    finally:
        for label, channel in opened.items():
            if channels is None or label not in channels:
                channel.close()
    result.seconds = time.perf_counter() - started
    return result


def _send(
    opened: dict[str, Channel], name: str, settings: Settings, messages: list[Outgoing]
) -> dict[str, Outcome]:
    if name not in opened:
        try:
            opened[name] = open_channel(name, settings)
        except ValueError as exc:
            return {m.key: Outcome(False, str(exc)) for m in messages}
    return opened[name].send(messages)


def deliver_all(
    factory: sessionmaker[Session], settings: Settings, *, budget_seconds: float = 50.0
) -> DeliveryResult:
    """Rounds until nothing is due or the time budget is spent (the worker's share of a minute)."""
    total = DeliveryResult()
    deadline = time.perf_counter() + budget_seconds
    while time.perf_counter() < deadline:
        one = deliver_due(factory, settings)
        total.claimed += one.claimed
        total.sent += one.sent
        total.retrying += one.retrying
        total.failed += one.failed
        total.seconds += one.seconds
        for error, count in one.errors.items():
            total.errors[error] = total.errors.get(error, 0) + count
        if one.claimed < settings.outbox_batch_size:
            break
    return total


def delivery_status(session: Session, item_kind: str, item_id: int) -> dict[str, int]:
    """Notices about one item (an outage, an arrears case …) by status."""
    rows = session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.item_kind == item_kind, OutboxMessage.item_id == item_id)
        .group_by(OutboxMessage.status)
    ).all()
    return {status: int(count) for status, count in rows}
