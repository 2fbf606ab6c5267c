"""The analytics snapshot: a DuckDB file beside the operational database, refreshed incrementally.

Reports read columns of millions of orders and step events; the operational database is built for
the opposite (one order, its history, index lookups). The snapshot holds what the reports need, in
DuckDB's columnar form:

- `orders`: one row per work order (type, category, place, Beijing acceptance time, current step and
  its deadline, repeat/urging links and the "event" they belong to, satisfaction);
- `steps`: one row per finished step (from the events that left a step): the station that held it
  and its county, whole seconds taken, late;
- `customers` (id, station, sensitive), `units` (the tree) and `categories` (the complaint tree);
- the monthly rollups of `rollups.py`, which most report sections read instead of the rows.

Orders are stored by acceptance time and steps by (month, step, duration bucket), so a period's rows,
and the rows of the buckets an exact quantile needs, sit in a few row groups.

**Refresh** reads only what changed. Events are append-only and every change to an order writes one,
so the events with ids above the last one seen name every changed order; those orders are read again
and replaced, and the rollups get their delta (the old rows out, the new in). An id that was skipped
(a transaction still running on PostgreSQL, whose sequence hands out ids before commit) is remembered
and looked for again for `GAP_MINUTES`. Customers are read by `updated_at` (indexed). Units and the
category tree are small and read whole.

Only one process at a time opens the file (DuckDB's rule); a file lock beside it makes workers take
turns, each refreshing and then reading under the same lock.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine

from gridcare.analytics import rollups
from gridcare.db import is_sqlite

SCHEMA_VERSION = 3
GAP_MINUTES = 15
CUSTOMER_MARGIN = timedelta(minutes=10)
ID_CHUNK = 5000
CLUSTER_ROWS = 1_000_000

_SCHEMA = """
CREATE TABLE meta (key VARCHAR, value VARCHAR);
CREATE TABLE orders (
    id BIGINT, number VARCHAR, business_type VARCHAR, category VARCHAR, channel VARCHAR,
    customer_id BIGINT, transformer_area_id BIGINT, station_id BIGINT, county_id BIGINT,
    area_class VARCHAR, accepted_at TIMESTAMP, step VARCHAR, step_entered_at TIMESTAMP,
    step_deadline TIMESTAMP, is_repeat BOOLEAN, repeat_of_id BIGINT, urged_order_id BIGINT,
    satisfaction VARCHAR, imported BOOLEAN, event_root BIGINT, first_contact BOOLEAN, linked BOOLEAN
);
CREATE TABLE steps (
    event_id BIGINT, order_id BIGINT, step VARCHAR, action VARCHAR, unit_id BIGINT, county_id BIGINT,
    accepted_at TIMESTAMP, seconds INTEGER, has_deadline BOOLEAN, late BOOLEAN, bucket SMALLINT
);
CREATE TABLE customers (id BIGINT, station_id BIGINT, is_sensitive BOOLEAN);
CREATE TABLE units (id BIGINT, code VARCHAR, name VARCHAR, kind VARCHAR, parent_id BIGINT, path VARCHAR);
CREATE TABLE categories (code VARCHAR, name VARCHAR, level INTEGER, l1 VARCHAR, l2 VARCHAR, l3 VARCHAR);
"""

# Source columns, in CSV order. Times leave the source as naive UTC; `accepted_at` becomes Beijing
# time (UTC+8, no daylight saving) on the way in, so hours, weekdays and periods read directly.
_ORDER_COLUMNS = (
    ("id", "BIGINT"),
    ("number", "VARCHAR"),
    ("business_type", "VARCHAR"),
    ("category", "VARCHAR"),
    ("channel", "VARCHAR"),
    ("customer_id", "BIGINT"),
    ("transformer_area_id", "BIGINT"),
    ("station_id", "BIGINT"),
    ("county_id", "BIGINT"),
    ("area_class", "VARCHAR"),
    ("accepted_at", "TIMESTAMP"),
    ("step", "VARCHAR"),
    ("step_entered_at", "TIMESTAMP"),
    ("step_deadline", "TIMESTAMP"),
    ("is_repeat", "VARCHAR"),
    ("repeat_of_id", "BIGINT"),
    ("urged_order_id", "BIGINT"),
    ("satisfaction", "VARCHAR"),
    ("imported", "VARCHAR"),
)
_EVENT_COLUMNS = (
    ("id", "BIGINT"),
    ("order_id", "BIGINT"),
    ("at", "TIMESTAMP"),
    ("action", "VARCHAR"),
    ("from_step", "VARCHAR"),
    ("to_step", "VARCHAR"),
    ("step_entered_at", "TIMESTAMP"),
    ("step_deadline", "TIMESTAMP"),
    ("step_unit_id", "BIGINT"),
)
_CUSTOMER_COLUMNS = (
    ("id", "BIGINT"),
    ("station_id", "BIGINT"),
    ("is_sensitive", "VARCHAR"),
    ("updated_at", "TIMESTAMP"),
)
_TIME_COLUMNS = {"accepted_at", "step_entered_at", "step_deadline", "at", "updated_at"}
_TRUE = "('1','t','true','True')"

_process_lock = threading.Lock()


@dataclass
class RefreshResult:
    refreshed_at: datetime
    full: bool
    orders: int
    events: int
    customers: int
    seconds: float


def default_path(database_url: str) -> Path:
    """Beside a SQLite file (`gridcare.db` → `gridcare.db.analytics.duckdb`); else in the working folder."""
    if is_sqlite(database_url):
        file = database_url.split(":///", 1)[-1]
        if file and file != ":memory:":
            return Path(file + ".analytics.duckdb")
    return Path("gridcare-analytics.duckdb")


def _source_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _select(engine: Engine, table: str, columns: Sequence[tuple[str, str]], where: str) -> str:
    sqlite = is_sqlite(engine)
    parts = []
    for name, _ in columns:
        if name in _TIME_COLUMNS and not sqlite:
            parts.append(f"({name} AT TIME ZONE 'UTC') AS {name}")
        else:
            parts.append(name)
    return f"SELECT {', '.join(parts)} FROM {table} WHERE {where}"


def _dump(engine: Engine, sql: str, target: Path) -> int:
    """Run `sql` on the operational database and write its rows to a CSV file; the row count."""
    raw = engine.raw_connection()
    try:
        if is_sqlite(engine):
            cursor = raw.cursor()
            cursor.execute(sql)
            count = 0
            with target.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                while rows := cursor.fetchmany(20_000):
                    writer.writerows(rows)
                    count += len(rows)
            cursor.close()
            return count
        cursor = raw.cursor()
        with target.open("wb") as fh, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                fh.write(block)
        cursor.close()
        raw.rollback()
        with target.open("rb") as fh:
            return sum(1 for _ in fh)
    finally:
        raw.close()


def _read_csv(path: Path, columns: Sequence[tuple[str, str]]) -> str:
    spec = ", ".join(f"'{name}': '{kind}'" for name, kind in columns)
    return f"read_csv('{path}', header=false, auto_detect=false, delim=',', columns={{{spec}}}, nullstr='', quote='\"', escape='\"')"


def _id_list(ids: Iterable[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


class Snapshot:
    """The DuckDB file for one operational database. `open()` refreshes it and yields a connection."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self.engine = engine
        self.path = path

    @contextmanager
    def open(self, *, refresh: bool = True) -> Iterator[tuple[duckdb.DuckDBPyConnection, datetime]]:
        """The connection and the instant the snapshot was refreshed to, under the file lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _process_lock, open(str(self.path) + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                con = self._connect()
                try:
                    if refresh or not self._initialised(con):
                        self._refresh(con)
                    yield con, self._refreshed_at(con)
                finally:
                    con.close()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def refresh(self, *, full: bool = False) -> RefreshResult:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _process_lock, open(str(self.path) + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                con = self._connect()
                try:
                    return self._refresh(con, force_full=full)
                finally:
                    con.close()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """The snapshot holds names and 户号: created, and kept, readable by the owner only."""
        fresh = not self.path.exists()
        con = duckdb.connect(str(self.path))
        if fresh or self.path.stat().st_mode & 0o077:
            self.path.chmod(0o600)
        return con

    # -- state --------------------------------------------------------------------------------------
    @staticmethod
    def _initialised(con: duckdb.DuckDBPyConnection) -> bool:
        row = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
        ).fetchone()
        return bool(row and row[0])

    @staticmethod
    def _meta(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta").fetchall()}

    @staticmethod
    def _set_meta(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
        con.execute("DELETE FROM meta")
        con.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in values.items()])

    def _refreshed_at(self, con: duckdb.DuckDBPyConnection) -> datetime:
        return datetime.fromisoformat(self._meta(con)["refreshed_at"])

    def _still_valid(self, con: duckdb.DuckDBPyConnection, meta: dict[str, Any]) -> bool:
        """Same source, same schema, and the last event seen is still there (not a recreated database)."""
        if meta.get("schema") != SCHEMA_VERSION or meta.get("source") != _source_key(self.engine):
            return False
        last = meta.get("last_event")
        if not last:
            return True
        with self.engine.connect() as conn:
            raw = conn.exec_driver_sql(
                f"SELECT order_id FROM work_order_events WHERE id = {int(last[0])}"
            ).first()
        return raw is not None and int(raw[0]) == int(last[1])

    # -- refresh ------------------------------------------------------------------------------------
    def _refresh(self, con: duckdb.DuckDBPyConnection, *, force_full: bool = False) -> RefreshResult:
        started = time.perf_counter()
        now = datetime.now(UTC)
        meta = self._meta(con) if self._initialised(con) else {}
        full = force_full or not meta or not self._still_valid(con, meta)
        with tempfile.TemporaryDirectory(dir=self.path.parent, prefix=".snapshot-") as work:
            folder = Path(work)
            if full:
                for table in ("meta", "orders", "steps", "customers", "units", "categories"):
                    con.execute(f"DROP TABLE IF EXISTS {table}")
                con.execute(_SCHEMA)
                rollups.create(con)
                meta = {"last_event": None, "gaps": [], "customers_mark": None, "rollup_sizes": {}}
            con.execute("BEGIN")
            try:
                events, gaps, last_event = self._events(con, folder, meta, now, full)
                orders = self._orders(con, folder, full)
                self._dimensions(con)
                added = self._steps(con, int(meta["last_event"][0]) if meta.get("last_event") else 0, full)
                tail = self._cluster_steps(
                    con, {} if full else meta.get("steps_tail", {}), (0, []) if full else added
                )
                customers, mark = self._customers(con, folder, meta.get("customers_mark"), full)
                if full:
                    rollups.build(con)
                sizes = rollups.compact(con, {} if full else meta.get("rollup_sizes", {}))
                self._set_meta(
                    con,
                    {
                        "schema": SCHEMA_VERSION,
                        "source": _source_key(self.engine),
                        "last_event": last_event,
                        "gaps": gaps,
                        "customers_mark": mark,
                        "rollup_sizes": sizes,
                        "steps_tail": tail,
                        "refreshed_at": now.isoformat(),
                    },
                )
                for temp in ("new_events", "changed", "old_orders", "new_orders", "new_steps"):
                    con.execute(f"DROP TABLE IF EXISTS {temp}")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        if full:
            con.execute("CHECKPOINT")
        return RefreshResult(now, full, orders, events, customers, time.perf_counter() - started)

    def _events(
        self,
        con: duckdb.DuckDBPyConnection,
        folder: Path,
        meta: dict[str, Any],
        now: datetime,
        full: bool,
    ) -> tuple[int, list[list[Any]], list[int] | None]:
        """New events into `new_events`; the gaps still awaited and the newest (id, order id) seen."""
        last = meta.get("last_event")
        after = int(last[0]) if last else 0
        open_gaps = [
            g
            for g in meta.get("gaps", [])
            if datetime.fromisoformat(g[1]) > now - timedelta(minutes=GAP_MINUTES)
        ]
        where = f"id > {after}"
        if open_gaps:
            where = f"({where} OR id IN ({_id_list(g[0] for g in open_gaps)}))"
        file = folder / "events.csv"
        count = _dump(self.engine, _select(self.engine, "work_order_events", _EVENT_COLUMNS, where), file)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE new_events AS SELECT * FROM {_read_csv(file, _EVENT_COLUMNS)}"
        )
        seen = {int(r[0]) for r in con.execute("SELECT id FROM new_events WHERE id <= ?", [after]).fetchall()}
        gaps = [g for g in open_gaps if int(g[0]) not in seen]
        newest = con.execute("SELECT max(id) FROM new_events").fetchone()
        top = int(newest[0]) if newest and newest[0] is not None else after
        if not full and top > after:
            missing = con.execute(
                f"SELECT r.i FROM range({after + 1}, {top + 1}) r(i) ANTI JOIN new_events e ON e.id = r.i"
            ).fetchall()
            gaps += [[int(m[0]), now.isoformat()] for m in missing[:10_000]]
        last_event: list[int] | None = last
        if top > after:
            row = con.execute("SELECT id, order_id FROM new_events WHERE id = ?", [top]).fetchone()
            assert row is not None
            last_event = [int(row[0]), int(row[1])]
        con.execute("CREATE OR REPLACE TEMP TABLE changed AS SELECT DISTINCT order_id AS id FROM new_events")
        return count, gaps, last_event

    def _orders(self, con: duckdb.DuckDBPyConnection, folder: Path, full: bool) -> int:
        file = folder / "orders.csv"
        if full:
            count = _dump(self.engine, _select(self.engine, "work_orders", _ORDER_COLUMNS, "1=1"), file)
        else:
            ids = [int(r[0]) for r in con.execute("SELECT id FROM changed ORDER BY id").fetchall()]
            if not ids:
                return 0
            count = 0
            with file.open("w") as out:
                for start in range(0, len(ids), ID_CHUNK):
                    part = folder / "part.csv"
                    where = f"id IN ({_id_list(ids[start : start + ID_CHUNK])})"
                    count += _dump(
                        self.engine, _select(self.engine, "work_orders", _ORDER_COLUMNS, where), part
                    )
                    out.write(part.read_text())
            con.execute(
                "CREATE OR REPLACE TEMP TABLE old_orders AS SELECT * FROM orders WHERE id IN (SELECT id FROM changed)"
            )
            con.execute("DELETE FROM orders WHERE id IN (SELECT id FROM changed)")
        # A consultation resolved at its first step (first contact) stays so: the flag is carried over.
        first_contact = (
            "id IN (SELECT order_id FROM new_events WHERE action = 'resolve' AND from_step = 'pending_dispatch' "
            "AND to_step IS NOT NULL AND step_entered_at IS NOT NULL)"
        )
        linked = "false"
        if not full:
            first_contact += " OR id IN (SELECT id FROM old_orders WHERE first_contact)"
            linked = "id IN (SELECT id FROM old_orders WHERE linked)"
        # Sorted by acceptance time, so a period's rows sit together and the rest is skipped.
        con.execute(
            f"""
            INSERT INTO orders
            SELECT id, number, business_type, category, channel, customer_id, transformer_area_id,
                   station_id, county_id, area_class, accepted_at + INTERVAL 8 HOUR, step,
                   step_entered_at, step_deadline, is_repeat IN {_TRUE}, repeat_of_id, urged_order_id,
                   satisfaction, imported IN {_TRUE}, coalesce(repeat_of_id, urged_order_id, id),
                   {first_contact}, {linked}
            FROM {_read_csv(file, _ORDER_COLUMNS)} ORDER BY accepted_at, id
            """
        )
        self._event_roots(con, full)
        if not full:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE new_orders AS SELECT * FROM orders WHERE id IN (SELECT id FROM changed)"
            )
            rollups.add_orders(con, "old_orders", "new_orders")
        return count

    @staticmethod
    def _event_roots(con: duckdb.DuckDBPyConnection, full: bool) -> None:
        """Repeat calls and urgings belong to the event their first call opened: follow links to the
        root. `linked` marks the orders of events with more than one order (the only ones the service
        index's "3 or more calls" can count), so that count reads a few rows, not all."""
        only_changed = "" if full else "AND o.id IN (SELECT id FROM changed)"
        for _ in range(50):
            row = con.execute(
                f"""
                UPDATE orders o SET event_root = p.event_root FROM orders p
                WHERE p.id = o.event_root AND p.event_root <> o.event_root {only_changed}
                """
            ).fetchone()
            if not row or not row[0]:
                break
        roots = "SELECT event_root FROM orders WHERE event_root <> id"
        mine = "event_root <> id"
        if not full:
            roots += " AND id IN (SELECT id FROM changed)"
            mine += " AND id IN (SELECT id FROM changed)"
        con.execute(f"UPDATE orders SET linked = true WHERE NOT linked AND (({mine}) OR id IN ({roots}))")

    @staticmethod
    def _steps(con: duckdb.DuckDBPyConnection, after: int, full: bool) -> tuple[int, list[str]]:
        """New steps in, sorted by month, step and duration bucket; how many and their months."""
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE new_steps AS
            SELECT *, {rollups.BUCKET} AS bucket FROM (
                SELECT e.id AS event_id, e.order_id, e.from_step AS step, e.action, e.step_unit_id AS unit_id,
                       u.parent_id AS county_id, o.accepted_at,
                       CAST(date_diff('second', e.step_entered_at, e.at) AS INTEGER) AS seconds,
                       e.step_deadline IS NOT NULL AS has_deadline,
                       e.step_deadline IS NOT NULL AND e.at > e.step_deadline AS late
                FROM new_events e JOIN orders o ON o.id = e.order_id LEFT JOIN units u ON u.id = e.step_unit_id
                WHERE e.from_step IS NOT NULL AND e.to_step IS NOT NULL AND e.step_entered_at IS NOT NULL)
            ORDER BY {rollups.STEP_ORDER}
            """
        )
        # Only a late-committed id (a gap re-read) can be there already; newer ids cannot. Its months
        # are then recounted rather than counted twice.
        row = con.execute("SELECT count(*) FROM new_steps WHERE event_id <= ?", [after]).fetchone()
        months = []
        if row and row[0]:
            late = "SELECT event_id FROM new_steps WHERE event_id <= ?"
            months = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT {rollups.MONTH} FROM new_steps WHERE event_id IN ({late})", [after]
                ).fetchall()
            ]
            con.execute(f"DELETE FROM steps WHERE event_id IN ({late})", [after])
        con.execute("INSERT INTO steps SELECT * FROM new_steps")
        if not full:
            rollups.add_steps(con, "new_steps")
            rollups.rebuild_months(con, "r_steps", months)
        added = con.execute(
            f"SELECT count(*), list(DISTINCT CAST({rollups.MONTH} AS VARCHAR)) FROM new_steps"
        ).fetchone()
        return (int(added[0]), sorted(added[1] or [])) if added else (0, [])

    @staticmethod
    def _cluster_steps(
        con: duckdb.DuckDBPyConnection, tail: dict[str, Any], added: tuple[int, list[str]]
    ) -> dict[str, Any]:
        """Steps sit sorted by month, step and duration bucket, so the exact quantile's second pass
        reads only the row groups of the buckets it wants. Steps added since are appended in batches;
        once they pass `CLUSTER_ROWS`, the months they fell in are sorted again. The tail after."""
        rows = int(tail.get("rows", 0)) + added[0]
        months = sorted(set(tail.get("months", [])) | set(added[1]))
        if rows < CLUSTER_ROWS:
            return {"rows": rows, "months": months}
        for month in months:
            start = datetime.fromisoformat(month)
            end = (start + timedelta(days=32)).replace(day=1)
            within = f"accepted_at >= TIMESTAMP '{start.isoformat(sep=' ')}' AND accepted_at < TIMESTAMP '{end.isoformat(sep=' ')}'"
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE moved AS SELECT * FROM steps WHERE {within} ORDER BY {rollups.STEP_ORDER}"
            )
            con.execute(f"DELETE FROM steps WHERE {within}")
            con.execute("INSERT INTO steps SELECT * FROM moved")
            con.execute("DROP TABLE moved")
        return {"rows": 0, "months": []}

    def _customers(
        self, con: duckdb.DuckDBPyConnection, folder: Path, mark: str | None, full: bool
    ) -> tuple[int, str | None]:
        file = folder / "customers.csv"
        where = "1=1"
        if mark and not full:
            since = (datetime.fromisoformat(mark) - CUSTOMER_MARGIN).replace(tzinfo=None)
            literal = since.isoformat(sep=" ")
            where = f"updated_at > '{literal}'"
        count = _dump(self.engine, _select(self.engine, "customers", _CUSTOMER_COLUMNS, where), file)
        if not count:
            return 0, mark
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE new_customers AS SELECT * FROM {_read_csv(file, _CUSTOMER_COLUMNS)}"
        )
        if not full:
            con.execute("DELETE FROM customers WHERE id IN (SELECT id FROM new_customers)")
        con.execute(
            f"INSERT INTO customers SELECT id, station_id, is_sensitive IN {_TRUE} FROM new_customers ORDER BY id"
        )
        row = con.execute("SELECT max(updated_at) FROM new_customers").fetchone()
        con.execute("DROP TABLE new_customers")
        newest = row[0].replace(tzinfo=UTC).isoformat() if row and row[0] else mark
        return count, newest

    def _dimensions(self, con: duckdb.DuckDBPyConnection) -> None:
        with self.engine.connect() as conn:
            units = [
                tuple(r)
                for r in conn.exec_driver_sql("SELECT id, code, name, kind, parent_id, path FROM units")
            ]
            items = [
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT id, code, name, level, parent_id FROM catalog_items WHERE kind = 'complaint_category'"
                )
            ]
        if sorted(units) != sorted(tuple(r) for r in con.execute("SELECT * FROM units").fetchall()):
            con.execute("DELETE FROM units")
            if units:
                con.executemany("INSERT INTO units VALUES (?, ?, ?, ?, ?, ?)", units)
        by_id = {int(i[0]): i for i in items}
        rows = []
        for item in items:
            chain = [item]
            while chain[-1][4] is not None and int(chain[-1][4]) in by_id and len(chain) < 5:
                chain.append(by_id[int(chain[-1][4])])
            chain.reverse()
            codes = [c[1] for c in chain] + [None, None, None]
            rows.append((item[1], item[2], int(item[3]), codes[0], codes[1], codes[2]))
        if sorted(rows, key=repr) != sorted(con.execute("SELECT * FROM categories").fetchall(), key=repr):
            con.execute("DELETE FROM categories")
            if rows:
                con.executemany("INSERT INTO categories VALUES (?, ?, ?, ?, ?, ?)", rows)


def remove(path: Path) -> None:
    """Delete a snapshot (it is rebuilt from the operational database on next use)."""
    for file in (path, Path(str(path) + ".wal"), Path(str(path) + ".lock")):
        if file.exists():
            os.remove(file)
