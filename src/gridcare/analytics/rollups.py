"""Monthly rollups of the snapshot: the counts most report sections sum, kept per Beijing month.

A report over a year would otherwise scan millions of order and step rows several times. Each rollup
is a GROUP BY of the snapshot's `orders` or `steps` rows by month and a few small columns (station,
type, area class, hour, …); a report reads the whole months of its period from the rollup and only
the days at its edges from the rows themselves, with the same query (`source`), so both parts count
alike.

The refresh keeps them current by appending deltas: the rows of changed orders as they were (counted
negatively) and as they are now (positively); steps only ever grow. Readers sum, so deltas need no
merging; `compact` folds them once they pile up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import duckdb

MONTH = "CAST(date_trunc('month', accepted_at) AS DATE)"
# How the snapshot's steps are laid out (see Snapshot._cluster_steps).
STEP_ORDER = f"{MONTH}, step, bucket"
# Durations grouped on a logarithmic scale, 16 buckets per doubling (each about 4.4 % wide). The
# bucket only has to grow with the duration: a quantile is found in the buckets' counts first, then
# read exactly from the rows of the one bucket it falls in.
BUCKET = "CAST(CASE WHEN seconds <= 0 THEN 0 ELSE 1 + floor(log2(seconds) * 16) END AS SMALLINT)"


@dataclass(frozen=True)
class Measure:
    name: str
    kind: str
    row: str  # the aggregate over snapshot rows
    merge: str  # how rollup rows combine: "sum" or "max"


@dataclass(frozen=True)
class Rollup:
    name: str
    base: str  # "orders" or "steps"
    station: str  # the base column holding the station the row counts for
    dims: tuple[tuple[str, str, str], ...]  # (column, type, expression over the base row)
    measures: tuple[Measure, ...]
    where: str = "TRUE"

    def ddl(self) -> str:
        columns = [("month", "DATE"), *((name, kind) for name, kind, _ in self.dims)]
        columns += [(m.name, m.kind) for m in self.measures]
        return f"CREATE TABLE {self.name} ({', '.join(f'{n} {k}' for n, k in columns)})"

    def over(self, relation: str, *, sign: int = 1) -> str:
        """The rollup's rows computed from `relation` (rows shaped like the base table)."""
        dims = ", ".join(f"{expr} AS {name}" for name, _, expr in self.dims)
        measures = ", ".join(
            f"{m.row} * {sign} AS {m.name}" if m.merge == "sum" else f"{m.row} AS {m.name}"
            for m in self.measures
        )
        return f"SELECT {MONTH} AS month, {dims}, {measures} FROM {relation} WHERE {self.where} GROUP BY ALL"

    def folded(self, relation: str) -> str:
        """`relation` (rollup rows) with duplicate keys combined."""
        keys = ", ".join(["month", *(name for name, _, _ in self.dims)])
        measures = ", ".join(f"{m.merge}({m.name}) AS {m.name}" for m in self.measures)
        return f"SELECT {keys}, {measures} FROM {relation} GROUP BY ALL"


# A rollup is folded once its delta rows make it this much larger than when last folded.
COMPACT_FACTOR = 2
COMPACT_SLACK = 20_000

COUNT = Measure("n", "BIGINT", "count(*)", "sum")
COMPLAINTS = Measure("complaints", "BIGINT", "count(*) FILTER (business_type = 'complaint')", "sum")

ROLLUPS = (
    Rollup(
        "r_orders",
        "orders",
        "station_id",
        (
            ("station_id", "BIGINT", "station_id"),
            ("county_id", "BIGINT", "county_id"),
            ("business_type", "VARCHAR", "business_type"),
            ("area_class", "VARCHAR", "area_class"),
            ("is_repeat", "BOOLEAN", "is_repeat"),
            ("satisfaction", "VARCHAR", "satisfaction"),
            ("first_contact", "BOOLEAN", "first_contact"),
        ),
        (COUNT,),
    ),
    Rollup(
        "r_hours",
        "orders",
        "station_id",
        (("station_id", "BIGINT", "station_id"), ("hour", "INTEGER", "hour(accepted_at)")),
        (COUNT, COMPLAINTS),
    ),
    Rollup(
        "r_weekdays",
        "orders",
        "station_id",
        (("station_id", "BIGINT", "station_id"), ("weekday", "INTEGER", "isodow(accepted_at)")),
        (COUNT, COMPLAINTS),
    ),
    Rollup(
        "r_categories",
        "orders",
        "station_id",
        (("station_id", "BIGINT", "station_id"), ("category", "VARCHAR", "category")),
        (COUNT,),
        where="business_type = 'complaint'",
    ),
    Rollup(
        "r_steps",
        "steps",
        "unit_id",
        (
            ("step", "VARCHAR", "step"),
            ("unit_id", "BIGINT", "unit_id"),
            ("county_id", "BIGINT", "county_id"),
            ("bucket", "SMALLINT", "bucket"),
        ),
        (
            COUNT,
            Measure("late", "BIGINT", "count(*) FILTER (late)", "sum"),
            Measure("with_deadline", "BIGINT", "count(*) FILTER (has_deadline)", "sum"),
            Measure("longest", "INTEGER", "max(seconds)", "max"),
        ),
    ),
)
BY_NAME = {r.name: r for r in ROLLUPS}
ORDER_ROLLUPS = tuple(r for r in ROLLUPS if r.base == "orders")


# -- maintenance (called by the snapshot's refresh, inside its transaction) ----------------------------
def create(con: duckdb.DuckDBPyConnection) -> None:
    for rollup in ROLLUPS:
        con.execute(f"DROP TABLE IF EXISTS {rollup.name}")
        con.execute(rollup.ddl())


def build(con: duckdb.DuckDBPyConnection) -> None:
    """Every rollup from the whole snapshot (a full refresh)."""
    for rollup in ROLLUPS:
        con.execute(f"DELETE FROM {rollup.name}")
        con.execute(f"INSERT INTO {rollup.name} {rollup.over(rollup.base)}")


def add_orders(con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Deltas for changed orders: `old` (their rows before the change) out, `new` in."""
    for rollup in ORDER_ROLLUPS:
        delta = f"({rollup.over(old, sign=-1)} UNION ALL {rollup.over(new)})"
        con.execute(f"INSERT INTO {rollup.name} {rollup.folded(delta)}")


def add_steps(con: duckdb.DuckDBPyConnection, new: str) -> None:
    rollup = BY_NAME["r_steps"]
    con.execute(f"INSERT INTO {rollup.name} {rollup.over(new)}")


def rebuild_months(con: duckdb.DuckDBPyConnection, name: str, months: Sequence[date]) -> None:
    """Recount some months of one rollup from the snapshot rows (when rows were taken away)."""
    if not months:
        return
    rollup = BY_NAME[name]
    listed = ", ".join(f"DATE '{m.isoformat()}'" for m in months)
    con.execute(f"DELETE FROM {name} WHERE month IN ({listed})")
    con.execute(
        f"INSERT INTO {name} {rollup.over(f'(SELECT * FROM {rollup.base} WHERE {MONTH} IN ({listed}))')}"
    )


def compact(con: duckdb.DuckDBPyConnection, sizes: dict[str, int]) -> dict[str, int]:
    """Fold the deltas of any rollup that has grown to twice its folded size; the sizes after."""
    result = dict(sizes)
    for rollup in ROLLUPS:
        row = con.execute(f"SELECT count(*) FROM {rollup.name}").fetchone()
        rows = int(row[0]) if row else 0
        if rows > COMPACT_FACTOR * sizes.get(rollup.name, 0) + COMPACT_SLACK:
            con.execute(f"CREATE OR REPLACE TEMP TABLE folded AS {rollup.folded(rollup.name)}")
            con.execute(f"DELETE FROM {rollup.name}")
            con.execute(f"INSERT INTO {rollup.name} SELECT * FROM folded")
            con.execute("DROP TABLE folded")
            row = con.execute(f"SELECT count(*) FROM {rollup.name}").fetchone()
            rows = int(row[0]) if row else 0
        result[rollup.name] = rows
    return result


# -- reading -----------------------------------------------------------------------------------------
def split(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """The whole months inside [start, end] (their first days) and the remaining day ranges
    [from, to) at the edges."""
    first = start if start.day == 1 else _next_month(start)
    months: list[date] = []
    month = first
    while _next_month(month) <= end + timedelta(days=1):
        months.append(month)
        month = _next_month(month)
    if not months:
        return [], [(start, end + timedelta(days=1))]
    edges = []
    if start < months[0]:
        edges.append((start, months[0]))
    after = _next_month(months[-1])
    if after <= end:
        edges.append((after, end + timedelta(days=1)))
    return months, edges


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _stamp(day: date) -> str:
    return f"TIMESTAMP '{datetime.combine(day, time()).isoformat(sep=' ')}'"


def source(name: str, start: date, end: date, stations: str) -> str:
    """Rollup rows for the Beijing dates [start, end] of the stations `stations` (a subquery of ids):
    whole months from the rollup, the edge days computed from the snapshot rows."""
    rollup = BY_NAME[name]
    months, edges = split(start, end)
    parts = []
    if months:
        listed = ", ".join(f"DATE '{m.isoformat()}'" for m in months)
        parts.append(f"SELECT * FROM {name} WHERE month IN ({listed}) AND {rollup.station} IN ({stations})")
    for low, high in edges:
        rows = (
            f"(SELECT * FROM {rollup.base} WHERE accepted_at >= {_stamp(low)} AND accepted_at < {_stamp(high)} "
            f"AND {rollup.station} IN ({stations}))"
        )
        parts.append(rollup.over(rows))
    return " UNION ALL ".join(f"({p})" for p in parts)
