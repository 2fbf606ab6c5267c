"""Bulk loading for large, trusted batches (demo data, benchmarks): executemany on SQLite, COPY on
PostgreSQL. Rows are tuples in `columns` order. Everything runs inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text


def stored_value(dialect: str) -> Callable[[Any], Any]:
    """What the driver is handed for a value of a bulk row, as the ORM's column types would store it:
    aware datetimes as naive UTC text on SQLite (UTCDateTime), dicts as JSON text."""
    sqlite = dialect == "sqlite"

    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            if sqlite:
                return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            return value
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return value

    return convert


def insert_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    raw: Any = connection.connection.driver_connection
    count = 0
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    placeholders = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608 - trusted names
    cur = raw.cursor()
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 20_000:
            cur.executemany(sql, batch)
            count += len(batch)
            batch.clear()
    if batch:
        cur.executemany(sql, batch)
        count += len(batch)
    cur.close()
    return count


def reset_sequences(connection: Connection, tables: Iterable[str]) -> None:
    """After rows were written with explicit ids, move PostgreSQL's id sequences past them."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        )
