"""The complaint monitoring report (投诉监测月度通报), computed in DuckDB over the analytics snapshot.

Definitions (the README repeats them for managers):
- The **period** is a range of Beijing dates, both ends included; an order belongs to the period it was
  accepted (受理) in, and to the unit (city, county, station) that holds it now. The previous period is
  the same number of whole months before it when the period is whole months (环比), otherwise the same
  number of days; "last year" is the same dates a year earlier (同比).
- **Shares** are percentages of all orders (business types) or of all complaints (categories, area class).
- **Hotspots**: a 台区 with complaints from 2 or more different customers in the period; a 台区 with a
  complaint in a month of the period and one in the month before it; a 台区 with complaints both in the
  period and in the same dates a year before.
- **Repeat calls**: orders flagged 重复来电 when taken; repeat callers are customers with 2 or more orders
  in the period. Sensitive customers are those flagged 敏感客户.
- **Steps** are the steps of the period's orders, by the station that held them: finished steps give the
  count and the median, 90th percentile (linear interpolation) and maximum of handling minutes; the
  overdue rate is (finished late + still open past the deadline at refresh) / steps with a deadline.
- **回访满意率** = (非常满意 + 满意) / (非常满意 + 满意 + 不满意 + 非常不满意); 一般 and 不评价 left out.
- **优质服务评价指数** = (1 − events with 3 or more calls / orders handled) × 100, less 0.1 for each whole
  0.1 point the satisfaction rate is below 95. Orders handled exclude 故障报修, 表扬 and consultations
  closed at first contact; an event is an order with the repeat calls and urgings that link to it.
- **Complaints per 10,000 customers**: complaints in the period / customers of the unit now × 10,000.
"""

from __future__ import annotations

import calendar as _calendar
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb
from sqlalchemy import Engine, select

from gridcare.analytics import rollups
from gridcare.calendar import add_months
from gridcare.models import Customer, TransformerArea
from gridcare.models.enums import LABELS_ZH
from gridcare.workorders.defaults import BUSINESS_TYPES, OPEN_STEPS, SATISFACTION, STEPS

TYPE_NAMES = dict(BUSINESS_TYPES)
SATISFACTION_NAMES = dict(SATISFACTION)
WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
AREA_CLASSES = ("urban", "rural", "remote")
GOOD = ("very_satisfied", "satisfied")
BAD = ("dissatisfied", "very_dissatisfied")
SATISFACTION_TARGET = 95.0
TOP = 20


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """Beijing wall-clock bounds [start 00:00, day after end 00:00) as the snapshot stores them."""
        return datetime.combine(self.start, time()), datetime.combine(self.end + timedelta(days=1), time())

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _month_end(day: date) -> date:
    return date(day.year, day.month, _calendar.monthrange(day.year, day.month)[1])


def previous_period(period: Period) -> Period:
    if period.start.day == 1 and period.end == _month_end(period.end):
        months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
        start = add_months(period.start, -months)
        return Period(start, _month_end(add_months(start, months - 1)))
    return Period(period.start - timedelta(days=period.days), period.start - timedelta(days=1))


def year_before(period: Period) -> Period:
    return Period(add_months(period.start, -12), add_months(period.end, -12))


def _pct(part: float, whole: float) -> float | None:
    return round(part * 100.0 / whole, 2) if whole else None


def _change(now: float, before: float) -> float | None:
    return round((now - before) * 100.0 / before, 2) if before else None


def _minutes(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 60.0, 1)


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _quantile(value_at: Callable[[int], int], count: int, q: float) -> float:
    """The q-quantile of `count` sorted values, read by rank, linearly interpolated between the two
    nearest ranks as numpy and pandas do (their `linear` method, to the last bit)."""
    h = (count - 1) * q
    low = math.floor(h)
    a, b = value_at(low), value_at(math.ceil(h))
    t = h - low
    return a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t)


def service_index_figures(handled: int, events: int, satisfaction_rate: float | None) -> dict[str, Any]:
    """优质服务评价指数 from its counts (docs/domain.md §9): less 0.1 per whole 0.1 point below 95 %."""
    shortfall = 0.0
    if satisfaction_rate is not None and satisfaction_rate < SATISFACTION_TARGET:
        shortfall = math.floor(round((SATISFACTION_TARGET - satisfaction_rate) / 0.1, 6)) * 0.1
    return {
        "value": None if not handled else round((1 - events / handled) * 100 - shortfall, 2),
        "orders_handled": handled,
        "events_with_3_calls": events,
        "satisfaction_deduction": round(shortfall, 2),
    }


def steps_section(by_step: list[dict[str, Any]], by_unit: list[dict[str, Any]], level: str) -> dict[str, Any]:
    """The `steps` section from its rows: in workflow order, with the steps most often and most
    frequently late."""
    order = {s: i for i, s in enumerate(STEPS)}
    by_step.sort(key=lambda r: order.get(r["step"], 99))
    by_unit.sort(key=lambda r: (r["unit"], order.get(r["step"], 99)))
    late_steps = [r for r in by_step if r["overdue"]]
    most = max(late_steps, key=lambda r: (r["overdue"], r["overdue_rate"] or 0), default=None)
    most_rate = max(late_steps, key=lambda r: (r["overdue_rate"] or 0, r["overdue"]), default=None)
    return {
        "by_step": by_step,
        "by_unit": by_unit,
        "unit_level": level,
        "most_overdue": None if most is None else {k: most[k] for k in ("step", "name", "overdue")},
        "highest_overdue_rate": None
        if most_rate is None
        else {k: most_rate[k] for k in ("step", "name", "overdue_rate")},
    }


@dataclass
class Scope:
    unit_id: int
    code: str
    name: str
    kind: str


class MonitoringReport:
    """Runs the report's queries on one snapshot connection; `build()` returns the JSON document.

    Counts come from the monthly rollups (whole months) and the snapshot rows (edge days) through
    `rollups.source`; what cannot be summed from counts (distinct customers per 台区, callers, events
    of 3 or more calls, exact step quantiles) reads the period's rows."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        engine: Engine,
        *,
        period: Period,
        scope: Scope,
        refreshed_at: datetime,
    ) -> None:
        self.con = con
        self.engine = engine
        self.period = period
        self.scope = scope
        self.refreshed_at = refreshed_at
        con.execute(
            "CREATE OR REPLACE TEMP TABLE scope_stations AS SELECT u.id FROM units u, units top "
            "WHERE top.id = ? AND u.kind = 'station' AND starts_with(u.path, top.path)",
            [scope.unit_id],
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE scope_units AS SELECT u.* FROM units u, units top "
            "WHERE top.id = ? AND starts_with(u.path, top.path)",
            [scope.unit_id],
        )
        # The period's orders, as a subquery (sorted by acceptance, the snapshot skips the rest).
        self.p = f"(SELECT * FROM orders WHERE {self._in_period(period)})"

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        row = self.con.execute(sql, list(params)).fetchone()
        assert row is not None
        return row

    def _in_period(self, period: Period) -> str:
        start, end = period.bounds()
        return (
            f"accepted_at >= TIMESTAMP '{start.isoformat(sep=' ')}' AND accepted_at < TIMESTAMP "
            f"'{end.isoformat(sep=' ')}' AND station_id IN (SELECT id FROM scope_stations)"
        )

    def _counts(self, rollup: str, period: Period | None = None) -> str:
        """The rollup's rows for a period (this report's by default) and the scope's stations."""
        chosen = period or self.period
        return f"({rollups.source(rollup, chosen.start, chosen.end, 'SELECT id FROM scope_stations')})"

    # -- sections ---------------------------------------------------------------------------------
    def totals(self) -> dict[str, Any]:
        def figures(period: Period) -> dict[str, Any]:
            orders, complaints, repeats, rated, good = self.one(
                f"""SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (business_type = 'complaint'), 0),
                       coalesce(sum(n) FILTER (is_repeat), 0),
                       coalesce(sum(n) FILTER (satisfaction IN {GOOD + BAD}), 0),
                       coalesce(sum(n) FILTER (satisfaction IN {GOOD}), 0)
                FROM {self._counts("r_orders", period)}"""
            )
            return {
                **period.as_dict(),
                "orders": int(orders),
                "complaints": int(complaints),
                "repeat_calls": int(repeats),
                "repeat_call_rate": _pct(repeats, orders),
                "satisfaction_rate": _pct(good, rated),
            }

        now = figures(self.period)
        before = figures(previous_period(self.period))
        last_year = figures(year_before(self.period))
        customers = self.one(
            "SELECT count(*) FROM customers WHERE station_id IN (SELECT id FROM scope_stations)"
        )[0]
        return {
            "orders": now["orders"],
            "complaints": now["complaints"],
            "complaint_share": _pct(now["complaints"], now["orders"]),
            "repeat_calls": now["repeat_calls"],
            "customers": customers,
            "previous": before,
            "last_year": last_year,
            "change": {
                "orders_vs_previous": _change(now["orders"], before["orders"]),
                "complaints_vs_previous": _change(now["complaints"], before["complaints"]),
                "orders_vs_last_year": _change(now["orders"], last_year["orders"]),
                "complaints_vs_last_year": _change(now["complaints"], last_year["complaints"]),
            },
        }

    def _sums(self, sql: str) -> dict[Any, int]:
        return {key: int(n) for key, n in self.rows(sql) if n}

    def by_type(self) -> list[dict[str, Any]]:
        def counts(period: Period) -> dict[Any, int]:
            return self._sums(
                f"SELECT business_type, sum(n) FROM {self._counts('r_orders', period)} GROUP BY 1"
            )

        now = counts(self.period)
        before = counts(previous_period(self.period))
        last = counts(year_before(self.period))
        total = sum(now.values())
        return [
            {
                "type": code,
                "name": name,
                "count": now.get(code, 0),
                "share": _pct(now.get(code, 0), total),
                "previous": before.get(code, 0),
                "last_year": last.get(code, 0),
            }
            for code, name in BUSINESS_TYPES
        ]

    def complaints_by_category(self) -> dict[str, list[dict[str, Any]]]:
        names = dict(self.rows("SELECT code, name FROM categories"))

        def counts(level: str, period: Period) -> dict[Any, int]:
            return self._sums(
                f"SELECT c.{level}, sum(r.n) FROM {self._counts('r_categories', period)} r "
                "LEFT JOIN categories c ON c.code = r.category GROUP BY 1"
            )

        sections: dict[str, list[dict[str, Any]]] = {}
        for level in ("l1", "l2", "l3"):
            now = counts(level, self.period)
            before = counts(level, previous_period(self.period))
            last = counts(level, year_before(self.period))
            total = sum(now.values())
            ranked = sorted(now.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
            sections[level] = [
                {
                    "code": code,
                    "name": names.get(code, "未分类") if code else "未分类",
                    "count": count,
                    "share": _pct(count, total),
                    "previous": before.get(code, 0),
                    "last_year": last.get(code, 0),
                }
                for code, count in ranked
            ]
        return sections

    def by_area_class(self) -> list[dict[str, Any]]:
        counts = {
            row[0]: (int(row[1]), int(row[2]))
            for row in self.rows(
                "SELECT area_class, sum(n), coalesce(sum(n) FILTER (business_type = 'complaint'), 0) "
                f"FROM {self._counts('r_orders')} GROUP BY 1"
            )
        }
        complaints = sum(c for _, c in counts.values())
        return [
            {
                "area_class": cls,
                "name": LABELS_ZH[cls],
                "orders": counts.get(cls, (0, 0))[0],
                "complaints": counts.get(cls, (0, 0))[1],
                "complaint_share": _pct(counts.get(cls, (0, 0))[1], complaints),
            }
            for cls in AREA_CLASSES
        ]

    def by_unit(self) -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = {}
        source = self._counts("r_orders")
        for kind, column, key in (("county", "county_id", "counties"), ("station", "station_id", "stations")):
            rows = self.rows(
                f"""
                WITH o AS (SELECT {column} AS unit_id, sum(n) AS orders,
                                  coalesce(sum(n) FILTER (business_type = 'complaint'), 0) AS complaints
                           FROM {source} GROUP BY 1),
                     c AS (SELECT s.path, count(*) AS customers FROM customers cu
                           JOIN units s ON s.id = cu.station_id GROUP BY 1)
                SELECT u.id, u.code, u.name, coalesce(o.orders, 0), coalesce(o.complaints, 0),
                       (SELECT coalesce(sum(c.customers), 0) FROM c WHERE starts_with(c.path, u.path))
                FROM scope_units u LEFT JOIN o ON o.unit_id = u.id
                WHERE u.kind = '{kind}'
                ORDER BY 5 DESC, u.code
                """
            )
            result[key] = [
                {
                    "unit_id": uid,
                    "code": code,
                    "name": name,
                    "orders": int(orders),
                    "complaints": int(complaints),
                    "customers": customers,
                    "complaints_per_10k": round(complaints * 10_000 / customers, 2) if customers else None,
                }
                for uid, code, name, orders, complaints, customers in rows
            ]
        return result

    def _by_time(self, rollup: str, column: str) -> dict[int, tuple[int, int]]:
        return {
            r[0]: (int(r[1]), int(r[2]))
            for r in self.rows(
                f"SELECT {column}, sum(n), sum(complaints) FROM {self._counts(rollup)} GROUP BY 1"
            )
        }

    def by_hour(self) -> list[dict[str, Any]]:
        counts = self._by_time("r_hours", "hour")
        return [
            {"hour": h, "orders": counts.get(h, (0, 0))[0], "complaints": counts.get(h, (0, 0))[1]}
            for h in range(24)
        ]

    def by_weekday(self) -> list[dict[str, Any]]:
        counts = self._by_time("r_weekdays", "weekday")
        return [
            {
                "weekday": d,
                "name": WEEKDAYS[d - 1],
                "orders": counts.get(d, (0, 0))[0],
                "complaints": counts.get(d, (0, 0))[1],
            }
            for d in range(1, 8)
        ]

    def hotspots(self) -> dict[str, list[dict[str, Any]]]:
        """From the complaints of the period, the month before it and the same dates a year before
        (a few percent of the orders), gathered once."""
        month_start = date(self.period.start.year, self.period.start.month, 1)
        window = Period(add_months(month_start, -1), self.period.end)
        last = year_before(self.period)
        start, _ = self.period.bounds()
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE hc AS
                SELECT transformer_area_id AS ta, customer_id, accepted_at,
                       {self._in_period(self.period)} AS inside, {self._in_period(window)} AS in_window,
                       {self._in_period(last)} AS last_year
                FROM orders WHERE business_type = 'complaint' AND transformer_area_id IS NOT NULL
                AND (({self._in_period(window)}) OR ({self._in_period(last)}))"""
        )
        multi = self.rows(
            """SELECT ta, count(DISTINCT customer_id), count(*) FROM hc WHERE inside GROUP BY 1
               HAVING count(DISTINCT customer_id) >= 2 ORDER BY 2 DESC, 3 DESC, 1"""
        )
        consecutive = self.rows(
            f"""
            WITH m AS (SELECT DISTINCT ta, date_trunc('month', accepted_at) AS month,
                              accepted_at >= TIMESTAMP '{start.isoformat(sep=" ")}' AS inside
                       FROM hc WHERE in_window),
                 hit AS (SELECT DISTINCT a.ta FROM m a JOIN m b
                         ON b.ta = a.ta AND b.month = a.month - INTERVAL 1 MONTH WHERE a.inside),
                 n AS (SELECT ta, count(*) AS complaints FROM hc WHERE inside AND ta IN (SELECT ta FROM hit)
                       GROUP BY 1)
            SELECT hit.ta, list(DISTINCT strftime(m.month, '%Y-%m') ORDER BY strftime(m.month, '%Y-%m')),
                   any_value(n.complaints)
            FROM hit JOIN m ON m.ta = hit.ta JOIN n ON n.ta = hit.ta GROUP BY hit.ta ORDER BY 3 DESC, 1
            """
        )
        same_month = self.rows(
            """
            WITH before AS (SELECT ta, count(*) AS n FROM hc WHERE last_year GROUP BY 1)
            SELECT hc.ta, count(*), any_value(before.n) FROM hc
            JOIN before ON before.ta = hc.ta WHERE hc.inside GROUP BY 1 ORDER BY 2 DESC, 1
            """
        )
        areas = self._areas({r[0] for r in (*multi, *consecutive, *same_month)})
        return {
            "multi_customer": [
                {**areas[ta], "customers": customers, "complaints": complaints}
                for ta, customers, complaints in multi
            ],
            "consecutive_months": [
                {**areas[ta], "months": list(months), "complaints": complaints}
                for ta, months, complaints in consecutive
            ],
            "same_month_last_year": [
                {**areas[ta], "complaints": complaints, "last_year_complaints": before}
                for ta, complaints, before in same_month
            ],
        }

    def _areas(self, ids: set[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        units = dict(self.rows("SELECT id, name FROM units"))
        ordered = sorted(ids)
        with self.engine.connect() as conn:
            for start in range(0, len(ordered), 1000):
                chunk = ordered[start : start + 1000]
                stmt = select(
                    TransformerArea.id, TransformerArea.code, TransformerArea.name, TransformerArea.station_id
                ).where(TransformerArea.id.in_(chunk))
                for ta_id, code, name, station_id in conn.execute(stmt):
                    found[ta_id] = {
                        "transformer_area_id": ta_id,
                        "code": code,
                        "name": name,
                        "station": units.get(station_id, ""),
                    }
        for ta_id in ids:
            found.setdefault(ta_id, {"transformer_area_id": ta_id, "code": "", "name": "", "station": ""})
        return found

    def _customers(self, ids: list[int]) -> dict[int, tuple[str, str]]:
        if not ids:
            return {}
        with self.engine.connect() as conn:
            stmt = select(Customer.id, Customer.account_no, Customer.name).where(Customer.id.in_(ids))
            return {cid: (account, name) for cid, account, name in conn.execute(stmt)}

    def callers(self) -> tuple[dict[str, Any], dict[str, Any]]:
        # One pass over the period's orders: every customer with 2 or more of them.
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE rc AS
                SELECT customer_id, count(*) AS n, count(*) FILTER (business_type = 'complaint') AS complaints,
                       count(*) FILTER (is_repeat) AS repeats
                FROM {self.p} WHERE customer_id IS NOT NULL GROUP BY 1 HAVING count(*) >= 2"""
        )
        repeat_total = self.one("SELECT count(*), coalesce(sum(n), 0) FROM rc")
        repeat_top = self.rows(
            f"SELECT customer_id, n, complaints, repeats FROM rc ORDER BY 2 DESC, 3 DESC, 1 LIMIT {TOP}"
        )
        sensitive = f"""(SELECT p.* FROM {self.p} p
            WHERE p.customer_id IN (SELECT id FROM customers WHERE is_sensitive))"""
        sensitive_total = self.one(
            f"""SELECT count(DISTINCT customer_id), count(*), count(*) FILTER (business_type = 'complaint')
               FROM {sensitive}"""
        )
        sensitive_top = self.rows(
            f"""SELECT customer_id, count(*), count(*) FILTER (business_type = 'complaint'),
                       count(*) FILTER (is_repeat)
                FROM {sensitive} GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT {TOP}"""
        )
        people = self._customers([r[0] for r in (*repeat_top, *sensitive_top)])

        def listing(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
            return [
                {
                    "customer_id": cid,
                    "account_no": people.get(cid, ("", ""))[0],
                    "name": people.get(cid, ("", ""))[1],
                    "orders": orders,
                    "complaints": complaints,
                    "repeat_calls": repeats,
                }
                for cid, orders, complaints, repeats in rows
            ]

        repeat = {"customers": repeat_total[0], "orders": int(repeat_total[1]), "top": listing(repeat_top)}
        sensitive_section = {
            "customers": sensitive_total[0],
            "orders": sensitive_total[1],
            "complaints": sensitive_total[2],
            "top": listing(sensitive_top),
        }
        return repeat, sensitive_section

    def steps(self) -> dict[str, Any]:
        now = self.refreshed_at.replace(tzinfo=None)
        level = "county" if self.scope.kind == "city" else "station"
        unit = "county_id" if level == "county" else "unit_id"
        finished = self._finished_steps(unit)
        open_list = ",".join(f"'{s}'" for s in OPEN_STEPS)
        waiting = {
            (r[0], r[1], r[2]): r[3:]
            for r in self.rows(
                f"""
                SELECT grouping(u), step, u, count(*), count(*) FILTER (step_deadline < ?),
                       count(*) FILTER (step_deadline IS NOT NULL)
                FROM (SELECT step, {"county_id" if level == "county" else "station_id"} AS u, step_deadline
                      FROM {self.p} WHERE step IN ({open_list}))
                GROUP BY GROUPING SETS ((step), (step, u))
                """,
                [now],
            )
        }
        rows = [(*r, *waiting.pop((r[0], r[1], r[2]), (0, 0, 0))) for r in finished] + [
            (*key, 0, None, None, 0, 0, *value) for key, value in waiting.items()
        ]
        names = dict(self.rows("SELECT id, name FROM units"))
        by_step: list[dict[str, Any]] = []
        by_unit: list[dict[str, Any]] = []
        for (
            per_step,
            step,
            unit_id,
            done,
            quantiles,
            longest,
            late,
            done_with_deadline,
            still_open,
            open_late,
            open_with_deadline,
        ) in rows:
            median, p90 = quantiles if quantiles else (None, None)
            item = {
                "step": step,
                "name": STEPS.get(step, step),
                "count": done,
                "median_minutes": _minutes(median),
                "p90_minutes": _minutes(p90),
                "max_minutes": _minutes(longest),
                "late": late,
                "open": still_open,
                "open_overdue": open_late,
                "overdue": late + open_late,
                "overdue_rate": _pct(late + open_late, done_with_deadline + open_with_deadline),
            }
            if per_step:
                by_step.append(item)
            else:
                by_unit.append({"unit_id": unit_id, "unit": names.get(unit_id, ""), **item})
        return steps_section(by_step, by_unit, level)

    def _finished_steps(self, unit: str) -> list[tuple[Any, ...]]:
        """(per step?, step, unit, count, [median, p90], max, late, with deadline) for finished steps,
        per step and per step and unit. Exact quantiles in two passes: the rollup's duration buckets
        say which bucket holds each wanted rank and where in it; only those buckets' rows are then
        read and sorted."""
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE sh AS
                SELECT grouping({unit}) AS per_step, step, {unit} AS u, bucket, sum(n) AS n,
                       sum(late) AS late, sum(with_deadline) AS with_deadline, max(longest) AS longest
                FROM {self._counts("r_steps")} GROUP BY GROUPING SETS ((step, bucket), (step, {unit}, bucket))"""
        )
        groups = self.rows(
            """SELECT per_step, step, u, sum(n), max(longest), sum(late), sum(with_deadline)
               FROM sh GROUP BY ALL HAVING sum(n) > 0"""
        )
        self.con.execute(
            """CREATE OR REPLACE TEMP TABLE picks AS
               WITH t AS (SELECT per_step, step, u, sum(n) AS total FROM sh GROUP BY ALL HAVING sum(n) > 0),
                    wanted AS (SELECT DISTINCT per_step, step, u, unnest([
                                   floor((total - 1) * 0.5), ceil((total - 1) * 0.5),
                                   floor((total - 1) * 0.9), ceil((total - 1) * 0.9)]) AS rank FROM t),
                    c AS (SELECT per_step, step, u, bucket, n,
                                 sum(n) OVER (PARTITION BY per_step, step, u ORDER BY bucket) - n AS below
                          FROM sh WHERE n > 0)
               SELECT w.per_step, w.step, w.u, w.rank, c.bucket, CAST(w.rank - c.below AS BIGINT) AS offset
               FROM wanted w JOIN c ON c.per_step = w.per_step AND c.step = w.step
                    AND c.u IS NOT DISTINCT FROM w.u AND w.rank >= c.below AND w.rank < c.below + c.n"""
        )
        # The period's steps in the buckets wanted, counted per whole second. Steps are stored sorted by
        # month, step and bucket, so each run of buckets is a few row groups a month.
        period = self._in_period(self.period).replace("station_id", "unit_id")
        wanted = self.rows("SELECT DISTINCT step, bucket FROM picks ORDER BY 1, 2")
        runs: list[list[Any]] = []
        for step, bucket in wanted:
            if runs and runs[-1][0] == step and runs[-1][2] == bucket - 1:
                runs[-1][2] = bucket
            else:
                runs.append([step, bucket, bucket])
        parts = [
            f"SELECT step, {unit} AS u, bucket, seconds, count(*) AS n FROM steps WHERE {period} "
            f"AND step = {_literal(step)} AND bucket BETWEEN {int(low)} AND {int(high)} GROUP BY ALL"
            for step, low, high in runs
        ] or ["SELECT NULL AS step, NULL AS u, NULL AS bucket, NULL AS seconds, 0 AS n WHERE false"]
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE sv AS " + " UNION ALL ".join(f"({part})" for part in parts)
        )
        values: dict[tuple[Any, ...], dict[int, int]] = {}
        for per_step, counts in (
            (0, "sv"),
            (1, "(SELECT step, NULL AS u, bucket, seconds, sum(n) AS n FROM sv GROUP BY ALL)"),
        ):
            found = self.rows(
                f"""WITH c AS (SELECT step, u, bucket, seconds, n,
                                      sum(n) OVER (PARTITION BY step, u, bucket ORDER BY seconds) - n AS below
                               FROM {counts})
                    SELECT p.step, p.u, p.rank, c.seconds FROM picks p
                    JOIN c ON c.step = p.step AND c.u IS NOT DISTINCT FROM p.u AND c.bucket = p.bucket
                         AND p.offset >= c.below AND p.offset < c.below + c.n
                    WHERE p.per_step = {per_step}"""
            )
            for step, u, rank, value in found:
                values.setdefault((per_step, step, u), {})[int(rank)] = int(value)
        result = []
        for per_step, step, u, total, longest, late, with_deadline in groups:
            ranked = values[(1 if per_step else 0, step, u)]
            quantiles = [_quantile(ranked.__getitem__, int(total), q) for q in (0.5, 0.9)]
            result.append((per_step, step, u, int(total), quantiles, longest, int(late), int(with_deadline)))
        return result

    def satisfaction(self) -> tuple[float | None, list[dict[str, Any]]]:
        counts = self._sums(
            f"SELECT satisfaction, sum(n) FROM {self._counts('r_orders')} WHERE satisfaction IS NOT NULL GROUP BY 1"
        )
        good = sum(counts.get(k, 0) for k in GOOD)
        rated = good + sum(counts.get(k, 0) for k in BAD)
        breakdown = [{"level": k, "name": n, "count": counts.get(k, 0)} for k, n in SATISFACTION]
        return _pct(good, rated), breakdown

    def service_index(self, satisfaction_rate: float | None) -> dict[str, Any]:
        handled_only = """business_type NOT IN ('fault_repair', 'praise')
            AND NOT (business_type = 'consultation' AND first_contact)"""
        handled = self.one(
            f"SELECT coalesce(sum(n), 0) FROM {self._counts('r_orders')} WHERE {handled_only}"
        )[0]
        # Only orders of events with more than one order (`linked`) can make an event of 3 calls.
        events = self.one(
            f"""SELECT count(*) FROM (SELECT event_root FROM {self.p}
                WHERE linked AND {handled_only} GROUP BY 1 HAVING count(*) >= 3)"""
        )[0]
        return service_index_figures(int(handled), events, satisfaction_rate)

    # -- the document -----------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        totals = self.totals()
        satisfaction_rate, satisfaction = self.satisfaction()
        repeat, sensitive = self.callers()
        units = self.by_unit()
        own = round(totals["complaints"] * 10_000 / totals["customers"], 2) if totals["customers"] else None
        return {
            "period": {
                **self.period.as_dict(),
                "previous": previous_period(self.period).as_dict(),
                "last_year": year_before(self.period).as_dict(),
            },
            "unit": {
                "id": self.scope.unit_id,
                "code": self.scope.code,
                "name": self.scope.name,
                "kind": self.scope.kind,
            },
            "refreshed_at": self.refreshed_at.isoformat(),
            "totals": totals,
            "by_type": self.by_type(),
            "complaints_by_category": self.complaints_by_category(),
            "by_area_class": self.by_area_class(),
            "by_unit": units,
            "by_hour": self.by_hour(),
            "by_weekday": self.by_weekday(),
            "hotspots": self.hotspots(),
            "repeat_callers": repeat,
            "repeat_call_rate": _pct(totals["repeat_calls"], totals["orders"]),
            "sensitive_customers": sensitive,
            "steps": self.steps(),
            "satisfaction_rate": satisfaction_rate,
            "satisfaction": satisfaction,
            "service_index": self.service_index(satisfaction_rate),
            "complaints_per_10k": own,
        }
