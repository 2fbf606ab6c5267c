"""Background job "workorders.scan_due": warnings at 80 % of a step's limit, breaches at 100 %.

The alarms still to raise wait in `step_alarms` (written when an order enters a step, removed when it
leaves it or its clock is paused). A pass takes the due ones by time, oldest first, in batches: each
batch moves its alarms from the front of the queue into a staging table (deleting them, so two scanners
never raise one twice) and writes, set based, one event per alarm through the engine's log and one
message to the step's handler — a handful of statements per batch, and not one update of the wide,
much-indexed work_orders row. An alarm whose order no longer has that time is discarded; a warning found
due when its step is already past its deadline (a pass catching up after downtime) is dropped: the
breach raised with it says more. Running the scan twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, sessionmaker

from gridcare.db import transaction
from gridcare.models import Notification, StepAlarm, User, WorkOrder
from gridcare.models.types import UTCDateTime, utcnow
from gridcare.workorders.defaults import STEPS
from gridcare.workorders.process import LOG

WAL_AUTOCHECKPOINT = 1000  # SQLite's default, put back after a pass
SCAN_CACHE_KIB = 131_072  # 128 MiB while a pass runs on SQLite
DEFAULT_CACHE_KIB = 2_000  # SQLite's default


@dataclass
class ScanResult:
    warnings: int = 0
    breaches: int = 0
    dropped: int = 0  # warnings not sent: their step was past its deadline by then
    outdated: int = 0  # alarms whose order no longer has that time (discarded)


def _step_name() -> ColumnElement[str]:
    """The step's Chinese name, as steps.step_name gives it, computed in SQL."""
    repair_contact = (WorkOrder.step == "pending_contact") & (WorkOrder.business_type == "fault_repair")
    return case(
        (repair_contact, "待到达现场"),
        *((WorkOrder.step == code, name) for code, name in STEPS.items()),
        else_=WorkOrder.step,
    )


def _deadline_text(dialect: str) -> ColumnElement[str]:
    """The step's deadline in Beijing time, "YYYY-MM-DD HH:MM"."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M", WorkOrder.step_deadline, "+8 hours")
    return func.to_char(func.timezone("Asia/Shanghai", WorkOrder.step_deadline), "YYYY-MM-DD HH24:MI")


def _message(dialect: str, label: ColumnElement[str]) -> ColumnElement[str]:
    return (
        literal("工单 ")
        + WorkOrder.number
        + "「"
        + _step_name()
        + "」"
        + label
        + "（时限 "
        + func.coalesce(_deadline_text(dialect), "")
        + "）"
    )


def _owner_json(dialect: str) -> ColumnElement[Any]:
    build = func.json_object if dialect == "sqlite" else func.json_build_object
    return build("owner_user_id", WorkOrder.handler_user_id)


# The alarms a batch took, staged for the two INSERT … SELECT that raise them (a temporary table of the
# connection: no list of a thousand ids compiled into each statement).
_TAKEN = Table(
    "scan_taken",
    MetaData(),
    Column("at", UTCDateTime, nullable=False),
    Column("order_id", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    prefixes=["TEMPORARY"],
)


def _batch(session: Session, now: datetime, size: int) -> tuple[ScanResult, int]:
    """One batch: take up to `size` due alarms (deleting them: two scanners never take one twice), then
    write their events and messages set-based. Returns what was raised and how many were taken. The
    alarms go from their queue to the staging table inside the database: nothing comes back to Python
    but counts."""
    dialect = session.get_bind().dialect.name
    alarms = cast(Table, StepAlarm.__table__)
    # The batch is the front of the queue up to the size-th due alarm's key: one range of the key, and
    # never more than `size` alarms however many share a time.
    key = tuple_(alarms.c.at, alarms.c.order_id, alarms.c.kind)
    edge = session.execute(
        select(alarms.c.at, alarms.c.order_id, alarms.c.kind)
        .where(alarms.c.at <= now)
        .order_by(alarms.c.at, alarms.c.order_id, alarms.c.kind)
        .offset(size - 1)
        .limit(1)
    ).first()
    front = (
        key <= tuple_(*(literal(v, c.type) for v, c in zip(edge, key.clauses, strict=True)))
        if edge
        else alarms.c.at <= now
    )
    _TAKEN.create(session.connection(), checkfirst=True)
    session.execute(delete(_TAKEN))
    if dialect == "postgresql":
        # One statement: a second scanner's DELETE waits for these rows, then finds them gone.
        gone = (
            delete(alarms).where(front).returning(alarms.c.at, alarms.c.order_id, alarms.c.kind).cte("gone")
        )
        staged = insert(_TAKEN).from_select(
            ["at", "order_id", "kind"], select(gone.c.at, gone.c.order_id, gone.c.kind)
        )
        session.execute(staged)
    else:
        # SQLite has one writer: from this INSERT on, no one else writes until the batch commits.
        staged = insert(_TAKEN).from_select(
            ["at", "order_id", "kind"], select(alarms.c.at, alarms.c.order_id, alarms.c.kind).where(front)
        )
        session.execute(staged)
        session.execute(delete(alarms).where(front))
    # Counted, not taken from the driver's rowcount (unknown for an INSERT fed by a DELETE … RETURNING).
    staged_count = select(func.count()).select_from(_TAKEN)
    taken = session.scalar(staged_count) or 0
    result = ScanResult()
    if not taken:
        return result, 0
    # An alarm raises only while its order still has that time for it; one left behind by a path that
    # changed the times without re-arming (or by a paused clock) is discarded.
    armed_at = case((_TAKEN.c.kind == "warning", WorkOrder.step_warn_at), else_=WorkOrder.step_deadline)
    session.execute(
        delete(_TAKEN).where(
            ~select(WorkOrder.id).where(WorkOrder.id == _TAKEN.c.order_id, armed_at == _TAKEN.c.at).exists()
        )
    )
    current = session.scalar(staged_count) or 0
    result.outdated = taken - current
    # A warning whose step is already past its deadline (a pass catching up) says less than the breach
    # raised with it: it is dropped, not sent.
    session.execute(
        delete(_TAKEN).where(
            _TAKEN.c.kind == "warning",
            select(WorkOrder.id)
            .where(WorkOrder.id == _TAKEN.c.order_id, WorkOrder.step_deadline <= now)
            .exists(),
        )
    )
    counts: dict[str, int] = dict(
        session.execute(select(_TAKEN.c.kind, func.count()).group_by(_TAKEN.c.kind)).all()
    )
    result.warnings = counts.get("warning", 0)
    result.breaches = counts.get("breach", 0)
    result.dropped = current - result.warnings - result.breaches
    if not counts:
        return result, taken
    at = literal(now, UTCDateTime())
    label = case((_TAKEN.c.kind == "warning", "即将超时"), else_="已超时")
    message = _message(dialect, label)
    these = select().select_from(_TAKEN.join(WorkOrder.__table__, WorkOrder.id == _TAKEN.c.order_id))
    LOG.append_select(
        session,
        ["item", "at", "action", "from_step", "note", "data", "step_entered_at", "step_deadline", "unit_id"],
        these.add_columns(
            WorkOrder.id,
            at,
            _TAKEN.c.kind,
            WorkOrder.step,
            message,
            _owner_json(dialect),
            WorkOrder.step_entered_at,
            WorkOrder.step_deadline,
            WorkOrder.station_id,
        ),
    )
    notifications = cast(Table, Notification.__table__)
    session.execute(
        insert(notifications).from_select(
            ["user_id", "order_id", "kind", "message", "created_at"],
            # Joined to the handler (an order without one tells nobody). A condition on the order instead
            # makes SQLite build a Bloom filter over every order: a quarter of a second per batch.
            these.join(User, User.id == WorkOrder.handler_user_id).add_columns(
                WorkOrder.handler_user_id, WorkOrder.id, _TAKEN.c.kind, message, at
            ),
        )
    )
    return result, taken


def scan_due(
    factory: sessionmaker[Session], *, now: datetime | None = None, batch_size: int = 1000
) -> ScanResult:
    """Raise every due warning and breach, one committed batch at a time."""
    now = now or utcnow()
    engine = factory.kw.get("bind")
    if isinstance(engine, Engine) and engine.dialect.name == "sqlite":
        return _scan_sqlite(engine, now, batch_size)
    return _batches(factory, now, batch_size)


def _batches(factory: sessionmaker[Session], now: datetime, batch_size: int) -> ScanResult:
    """Batch after batch, each in its own transaction, until one takes fewer than `batch_size`."""
    result = ScanResult()
    while True:
        with transaction(factory) as session:
            done, due = _batch(session, now, batch_size)
        result.warnings += done.warnings
        result.breaches += done.breaches
        result.dropped += done.dropped
        result.outdated += done.outdated
        if due < batch_size:
            return result


def _scan_sqlite(engine: Engine, now: datetime, batch_size: int) -> ScanResult:
    """On SQLite the batches run on one connection that leaves the WAL to grow until the pass ends and
    then checkpoints once (checkpointing after every batch copied the same index pages over and over),
    with a page cache that holds the pass's working set."""
    with engine.connect() as connection:
        # The usual minute finds nothing: one index probe, and the connection left as it was.
        if connection.scalar(select(StepAlarm.at).where(StepAlarm.at <= now).limit(1)) is None:
            connection.rollback()
            return ScanResult()
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        # A page cache as big as the pass's working set (the events' order index): each page is read
        # once per pass, not once per batch.
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SCAN_CACHE_KIB}")
        connection.exec_driver_sql("PRAGMA temp_store=MEMORY")  # the staging table: no temporary file
        connection.commit()
        try:
            result = _batches(sessionmaker(bind=connection), now, batch_size)
        finally:
            connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
            connection.exec_driver_sql(f"PRAGMA cache_size=-{DEFAULT_CACHE_KIB}")  # back to the pool small
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            connection.commit()
    return result
