"""The monitoring report computed plainly: read the rows from the operational database with SQL, then
aggregate them with pandas. It is what a report without a snapshot would do, and it is written apart
from the DuckDB queries (same definitions, other code), so the two check each other
(tests/analytics/test_calibration.py) and the benchmark can compare them in one run.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gridcare.analytics.monitoring import (
    AREA_CLASSES,
    BAD,
    GOOD,
    TOP,
    WEEKDAYS,
    Period,
    _change,
    _minutes,
    _pct,
    previous_period,
    service_index_figures,
    steps_section,
    year_before,
)
from gridcare.analytics.service import period as make_period
from gridcare.analytics.service import resolve_unit
from gridcare.auth.principal import SYSTEM
from gridcare.calendar import add_months
from gridcare.config import Settings
from gridcare.models.enums import LABELS_ZH
from gridcare.workorders.defaults import BUSINESS_TYPES, OPEN_STEPS, SATISFACTION, STEPS

UTC8 = pd.Timedelta(hours=8)


def _read(
    engine: Engine,
    sql: str,
    params: dict[str, Any] | None = None,
    *,
    times: tuple[str, ...] = (),
    labels: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Rows of a query as a DataFrame, read in chunks: time columns become naive UTC datetime64 and
    label columns categories as each chunk arrives, so millions of rows stay compact in memory."""
    chunks = []
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=500_000).execute(text(sql), params or {})
        columns = list(result.keys())
        for part in result.partitions(500_000):
            frame = pd.DataFrame(part, columns=columns)
            for column in times:
                frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").dt.tz_localize(None)
            for column in labels:
                frame[column] = frame[column].astype("category")
            chunks.append(frame)
    if not chunks:
        frame = pd.DataFrame(columns=columns)
        for column in times:
            frame[column] = pd.to_datetime(frame[column])
        return frame
    frame = pd.concat(chunks, ignore_index=True)
    for column in labels:
        frame[column] = frame[column].astype(object)
    return frame


class PlainReport:
    def __init__(self, engine: Engine, *, period: Period, unit: Any, refreshed_at: datetime) -> None:
        self.engine = engine
        self.period = period
        self.unit = unit
        self.refreshed_at = refreshed_at
        self.units = _read(engine, "SELECT id, code, name, kind, parent_id, path FROM units")
        self.scope_units = self.units[self.units["path"].str.startswith(unit.path)]
        self.stations = set(self.scope_units.loc[self.scope_units["kind"] == "station", "id"])
        items = _read(
            engine, "SELECT id, code, name, parent_id FROM catalog_items WHERE kind = 'complaint_category'"
        )
        by_id = {int(r.id): r for r in items.itertuples()}
        chains: dict[str, list[str]] = {}
        for item in items.itertuples():
            chain = [item]
            while not pd.isna(chain[-1].parent_id) and int(chain[-1].parent_id) in by_id and len(chain) < 5:
                chain.append(by_id[int(chain[-1].parent_id)])
            chains[item.code] = [c.code for c in reversed(chain)] + [None, None, None]
        self.chains = chains
        self.category_names = dict(zip(items["code"], items["name"], strict=True))
        # Every order the report looks at: the period, the one before, a year before, and the month
        # before the period's first month (for the consecutive-month hotspots).
        month_start = date(period.start.year, period.start.month, 1)
        earliest = min(previous_period(period).start, year_before(period).start, add_months(month_start, -1))
        self.orders = self._orders(Period(earliest, period.end))
        self.p = self._in(self.orders, period)
        self.pc = self.p[self.p["business_type"] == "complaint"].copy()
        for level, index in (("l1", 0), ("l2", 1), ("l3", 2)):
            self.pc[level] = self.pc["category"].map(
                lambda c, i=index: self.chains.get(c, [None] * 3)[i] if c else None
            )

    def _orders(self, window: Period) -> pd.DataFrame:
        start, end = window.bounds()
        frame = _read(
            self.engine,
            """SELECT id, business_type, category, customer_id, transformer_area_id, station_id, county_id,
                      area_class, accepted_at, step, step_deadline, is_repeat, repeat_of_id, urged_order_id,
                      satisfaction FROM work_orders WHERE accepted_at >= :start AND accepted_at < :end""",
            {"start": self._utc_bound(start), "end": self._utc_bound(end)},
            times=("accepted_at", "step_deadline"),
        )
        frame["local"] = frame["accepted_at"] + UTC8
        frame["is_repeat"] = frame["is_repeat"].astype(bool)
        return frame[frame["station_id"].isin(self.stations)]

    def _utc_bound(self, local: datetime) -> Any:
        instant = local - timedelta(hours=8)
        if self.engine.dialect.name == "sqlite":
            return instant.strftime("%Y-%m-%d %H:%M:%S.%f")
        return instant.replace(tzinfo=pd.Timestamp(0, tz="UTC").tzinfo)

    def _in(self, frame: pd.DataFrame, period: Period) -> pd.DataFrame:
        start, end = period.bounds()
        return frame[(frame["local"] >= start) & (frame["local"] < end)]

    # -- sections ---------------------------------------------------------------------------------
    def totals(self) -> dict[str, Any]:
        def figures(period: Period) -> dict[str, Any]:
            o = self._in(self.orders, period)
            rated = o["satisfaction"].isin(GOOD + BAD).sum()
            good = o["satisfaction"].isin(GOOD).sum()
            return {
                **period.as_dict(),
                "orders": len(o),
                "complaints": int((o["business_type"] == "complaint").sum()),
                "repeat_calls": int(o["is_repeat"].sum()),
                "repeat_call_rate": _pct(int(o["is_repeat"].sum()), len(o)),
                "satisfaction_rate": _pct(int(good), int(rated)),
            }

        now = figures(self.period)
        before = figures(previous_period(self.period))
        last = figures(year_before(self.period))
        customers = _read(self.engine, "SELECT station_id, count(*) AS n FROM customers GROUP BY station_id")
        self.customers_by_station = dict(zip(customers["station_id"], customers["n"], strict=True))
        count = sum(int(n) for s, n in self.customers_by_station.items() if s in self.stations)
        return {
            "orders": now["orders"],
            "complaints": now["complaints"],
            "complaint_share": _pct(now["complaints"], now["orders"]),
            "repeat_calls": now["repeat_calls"],
            "customers": count,
            "previous": before,
            "last_year": last,
            "change": {
                "orders_vs_previous": _change(now["orders"], before["orders"]),
                "complaints_vs_previous": _change(now["complaints"], before["complaints"]),
                "orders_vs_last_year": _change(now["orders"], last["orders"]),
                "complaints_vs_last_year": _change(now["complaints"], last["complaints"]),
            },
        }

    def by_type(self) -> list[dict[str, Any]]:
        now = self.p["business_type"].value_counts()
        before = self._in(self.orders, previous_period(self.period))["business_type"].value_counts()
        last = self._in(self.orders, year_before(self.period))["business_type"].value_counts()
        total = len(self.p)
        return [
            {
                "type": code,
                "name": name,
                "count": int(now.get(code, 0)),
                "share": _pct(int(now.get(code, 0)), total),
                "previous": int(before.get(code, 0)),
                "last_year": int(last.get(code, 0)),
            }
            for code, name in BUSINESS_TYPES
        ]

    def complaints_by_category(self) -> dict[str, list[dict[str, Any]]]:
        total = len(self.pc)
        out: dict[str, list[dict[str, Any]]] = {}
        for level, index in (("l1", 0), ("l2", 1), ("l3", 2)):

            def codes(frame: pd.DataFrame, i: int = index) -> pd.Series:
                complaints = frame[frame["business_type"] == "complaint"]
                return complaints["category"].map(lambda c: self.chains.get(c, [None] * 3)[i] if c else None)

            before = codes(self._in(self.orders, previous_period(self.period))).value_counts(dropna=False)
            last = codes(self._in(self.orders, year_before(self.period))).value_counts(dropna=False)
            counts = self.pc[level].value_counts(dropna=False)
            rows = sorted(
                counts.items(), key=lambda kv: (-kv[1], kv[0] is None or pd.isna(kv[0]), kv[0] or "")
            )
            out[level] = [
                {
                    "code": None if code is None or pd.isna(code) else code,
                    "name": self.category_names.get(code, "未分类")
                    if code and not pd.isna(code)
                    else "未分类",
                    "count": int(n),
                    "share": _pct(int(n), total),
                    "previous": int(before.get(code, 0)),
                    "last_year": int(last.get(code, 0)),
                }
                for code, n in rows
            ]
        return out

    def by_area_class(self) -> list[dict[str, Any]]:
        complaints = len(self.pc)
        orders = self.p["area_class"].value_counts()
        comp = self.pc["area_class"].value_counts()
        return [
            {
                "area_class": cls,
                "name": LABELS_ZH[cls],
                "orders": int(orders.get(cls, 0)),
                "complaints": int(comp.get(cls, 0)),
                "complaint_share": _pct(int(comp.get(cls, 0)), complaints),
            }
            for cls in AREA_CLASSES
        ]

    def by_unit(self) -> dict[str, list[dict[str, Any]]]:
        paths = dict(zip(self.units["id"], self.units["path"], strict=True))
        out: dict[str, list[dict[str, Any]]] = {}
        for kind, column, key in (("county", "county_id", "counties"), ("station", "station_id", "stations")):
            orders = self.p[column].value_counts()
            complaints = self.pc[column].value_counts()
            rows = []
            for unit in self.scope_units[self.scope_units["kind"] == kind].itertuples():
                customers = sum(
                    int(n)
                    for s, n in self.customers_by_station.items()
                    if paths.get(s, "").startswith(unit.path)
                )
                c = int(complaints.get(unit.id, 0))
                rows.append(
                    {
                        "unit_id": int(unit.id),
                        "code": unit.code,
                        "name": unit.name,
                        "orders": int(orders.get(unit.id, 0)),
                        "complaints": c,
                        "customers": customers,
                        "complaints_per_10k": round(c * 10_000 / customers, 2) if customers else None,
                    }
                )
            out[key] = sorted(rows, key=lambda r: (-r["complaints"], r["code"]))
        return out

    def by_hour(self) -> list[dict[str, Any]]:
        orders = self.p["local"].dt.hour.value_counts()
        complaints = self.pc["local"].dt.hour.value_counts()
        return [
            {"hour": h, "orders": int(orders.get(h, 0)), "complaints": int(complaints.get(h, 0))}
            for h in range(24)
        ]

    def by_weekday(self) -> list[dict[str, Any]]:
        orders = (self.p["local"].dt.day_of_week + 1).value_counts()
        complaints = (self.pc["local"].dt.day_of_week + 1).value_counts()
        return [
            {
                "weekday": d,
                "name": WEEKDAYS[d - 1],
                "orders": int(orders.get(d, 0)),
                "complaints": int(complaints.get(d, 0)),
            }
            for d in range(1, 8)
        ]

    def hotspots(self) -> dict[str, list[dict[str, Any]]]:
        pc = self.pc[self.pc["transformer_area_id"].notna()]
        per_area = pc.groupby("transformer_area_id").agg(
            customers=("customer_id", "nunique"), complaints=("id", "size")
        )
        multi = per_area[per_area["customers"] >= 2].reset_index()
        multi = multi.sort_values(
            ["customers", "complaints", "transformer_area_id"], ascending=[False, False, True]
        )
        month_start = date(self.period.start.year, self.period.start.month, 1)
        window = self._in(self.orders, Period(add_months(month_start, -1), self.period.end))
        window = window[(window["business_type"] == "complaint") & window["transformer_area_id"].notna()]
        start, _ = self.period.bounds()
        months = window.assign(month=window["local"].dt.to_period("M"), inside=window["local"] >= start)
        all_months = set(zip(months["transformer_area_id"], months["month"], strict=True))
        inside = months[months["inside"]]
        hits = {
            ta
            for ta, m in zip(inside["transformer_area_id"], inside["month"], strict=True)
            if (ta, m - 1) in all_months
        }
        counts = pc["transformer_area_id"].value_counts()
        consecutive = sorted(
            (
                (
                    ta,
                    sorted({str(m) for t, m in all_months if t == ta}),
                    int(counts.get(ta, 0)),
                )
                for ta in hits
            ),
            key=lambda r: (-r[2], r[0]),
        )
        last = self._in(self.orders, year_before(self.period))
        before = last[last["business_type"] == "complaint"]["transformer_area_id"].value_counts()
        same = sorted(
            ((ta, int(n), int(before[ta])) for ta, n in counts.items() if ta in before.index),
            key=lambda r: (-r[1], r[0]),
        )
        ids = (
            {int(t) for t in multi["transformer_area_id"]}
            | {int(r[0]) for r in consecutive}
            | {int(r[0]) for r in same}
        )
        areas = self._areas(ids)
        return {
            "multi_customer": [
                {
                    **areas[int(r.transformer_area_id)],
                    "customers": int(r.customers),
                    "complaints": int(r.complaints),
                }
                for r in multi.itertuples()
            ],
            "consecutive_months": [
                {**areas[int(ta)], "months": m, "complaints": n} for ta, m, n in consecutive
            ],
            "same_month_last_year": [
                {**areas[int(ta)], "complaints": n, "last_year_complaints": b} for ta, n, b in same
            ],
        }

    def _areas(self, ids: set[int]) -> dict[int, dict[str, Any]]:
        names = dict(zip(self.units["id"], self.units["name"], strict=True))
        found: dict[int, dict[str, Any]] = {}
        listed = sorted(ids)
        for start in range(0, len(listed), 1000):
            chunk = ",".join(str(i) for i in listed[start : start + 1000])
            for r in _read(
                self.engine, f"SELECT id, code, name, station_id FROM transformer_areas WHERE id IN ({chunk})"
            ).itertuples():
                found[int(r.id)] = {
                    "transformer_area_id": int(r.id),
                    "code": r.code,
                    "name": r.name,
                    "station": names.get(r.station_id, ""),
                }
        return found

    def callers(self) -> tuple[dict[str, Any], dict[str, Any]]:
        known = self.p[self.p["customer_id"].notna()]
        grouped = known.groupby("customer_id").agg(
            orders=("id", "size"),
            complaints=("business_type", lambda s: int((s == "complaint").sum())),
            repeats=("is_repeat", "sum"),
        )
        repeat = grouped[grouped["orders"] >= 2].reset_index()
        ids = [int(i) for i in known["customer_id"].unique()]
        sensitive_ids: set[int] = set()
        for start in range(0, len(ids), 1000):
            chunk = ",".join(str(i) for i in ids[start : start + 1000])
            sensitive_ids |= (
                set(
                    _read(self.engine, f"SELECT id FROM customers WHERE is_sensitive AND id IN ({chunk})")[
                        "id"
                    ].astype(int)
                )
                if chunk
                else set()
            )
        sensitive = grouped.reset_index()
        sensitive = sensitive[sensitive["customer_id"].astype(int).isin(sensitive_ids)]

        def top(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.sort_values(
                ["orders", "complaints", "customer_id"], ascending=[False, False, True]
            ).head(TOP)

        tops = [top(repeat), top(sensitive)]
        wanted = sorted({int(c) for t in tops for c in t["customer_id"]})
        people: dict[int, tuple[str, str]] = {}
        if wanted:
            rows = _read(
                self.engine,
                f"SELECT id, account_no, name FROM customers WHERE id IN ({','.join(map(str, wanted))})",
            )
            people = {int(r.id): (r.account_no, r.name) for r in rows.itertuples()}

        def listing(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {
                    "customer_id": int(r.customer_id),
                    "account_no": people.get(int(r.customer_id), ("", ""))[0],
                    "name": people.get(int(r.customer_id), ("", ""))[1],
                    "orders": int(r.orders),
                    "complaints": int(r.complaints),
                    "repeat_calls": int(r.repeats),
                }
                for r in frame.itertuples()
            ]

        return (
            {"customers": len(repeat), "orders": int(repeat["orders"].sum()), "top": listing(tops[0])},
            {
                "customers": len(sensitive),
                "orders": int(sensitive["orders"].sum()),
                "complaints": int(sensitive["complaints"].sum()),
                "top": listing(tops[1]),
            },
        )

    def _events(self) -> pd.DataFrame:
        start, end = self.period.bounds()
        return _read(
            self.engine,
            """SELECT e.order_id, e.action, e.from_step, e.at, e.step_entered_at, e.step_deadline, e.step_unit_id
               FROM work_order_events e JOIN work_orders o ON o.id = e.order_id
               WHERE o.accepted_at >= :start AND o.accepted_at < :end
                 AND e.from_step IS NOT NULL AND e.to_step IS NOT NULL AND e.step_entered_at IS NOT NULL""",
            {"start": self._utc_bound(start), "end": self._utc_bound(end)},
            times=("at", "step_entered_at", "step_deadline"),
            labels=("action", "from_step"),
        )

    def steps(self) -> dict[str, Any]:
        events = self._events()
        self.resolved = set(
            events.loc[
                (events["action"] == "resolve") & (events["from_step"] == "pending_dispatch"), "order_id"
            ]
        )
        events = events[events["step_unit_id"].isin(self.stations)]
        seconds = (events["at"].dt.floor("s") - events["step_entered_at"].dt.floor("s")).dt.total_seconds()
        done = pd.DataFrame(
            {
                "step": events["from_step"],
                "station": events["step_unit_id"],
                "seconds": seconds,
                "has_deadline": events["step_deadline"].notna(),
                "late": events["step_deadline"].notna() & (events["at"] > events["step_deadline"]),
                "open": False,
            }
        )
        now = pd.Timestamp(self.refreshed_at).tz_convert("UTC").tz_localize(None)
        waiting = self.p[self.p["step"].isin(OPEN_STEPS)]
        still = pd.DataFrame(
            {
                "step": waiting["step"],
                "station": waiting["station_id"],
                "seconds": float("nan"),
                "has_deadline": waiting["step_deadline"].notna(),
                "late": waiting["step_deadline"].notna() & (waiting["step_deadline"] < now),
                "open": True,
            }
        )
        rows = pd.concat([done, still], ignore_index=True)
        level = "county" if self.unit.kind == "city" else "station"
        parents = dict(zip(self.units["id"], self.units["parent_id"], strict=True))
        rows["unit"] = rows["station"].map(lambda s: parents.get(s) if level == "county" else s)
        names = dict(zip(self.units["id"], self.units["name"], strict=True))

        def figures(frame: pd.DataFrame) -> dict[str, Any]:
            finished = frame[~frame["open"]]
            late = int((finished["late"]).sum())
            open_late = int((frame["open"] & frame["late"]).sum())
            minutes = finished["seconds"]
            return {
                "count": len(finished),
                "median_minutes": _minutes(minutes.quantile(0.5)) if len(minutes) else None,
                "p90_minutes": _minutes(minutes.quantile(0.9)) if len(minutes) else None,
                "max_minutes": _minutes(minutes.max()) if len(minutes) else None,
                "late": late,
                "open": int(frame["open"].sum()),
                "open_overdue": open_late,
                "overdue": late + open_late,
                "overdue_rate": _pct(late + open_late, int(frame["has_deadline"].sum())),
            }

        by_step = [
            {"step": step, "name": STEPS.get(step, step), **figures(frame)}
            for step, frame in rows.groupby("step")
        ]
        by_unit = [
            {
                "unit_id": int(unit),
                "unit": names.get(unit, ""),
                "step": step,
                "name": STEPS.get(step, step),
                **figures(frame),
            }
            for (step, unit), frame in rows.groupby(["step", "unit"])
        ]
        return steps_section(by_step, by_unit, level)

    def satisfaction(self) -> tuple[float | None, list[dict[str, Any]]]:
        counts = self.p["satisfaction"].value_counts()
        good = sum(int(counts.get(k, 0)) for k in GOOD)
        rated = good + sum(int(counts.get(k, 0)) for k in BAD)
        return _pct(good, rated), [
            {"level": k, "name": n, "count": int(counts.get(k, 0))} for k, n in SATISFACTION
        ]

    def _root(self, order_id: int, parent: dict[int, int | None]) -> int:
        """Follow repeat and urging links to the first call, however long the chain (a 台区 whose
        neighbours keep complaining about the same thing makes chains of hundreds)."""
        current = order_id
        seen: set[int] = set()
        while current not in seen:
            seen.add(current)
            if current not in parent:
                row = _read(
                    self.engine,
                    f"SELECT coalesce(repeat_of_id, urged_order_id) AS up FROM work_orders WHERE id = {int(current)}",
                )
                parent[current] = None if row.empty or pd.isna(row["up"].iloc[0]) else int(row["up"].iloc[0])
            up = parent[current]
            if up is None:
                return current
            current = up
        return current

    def service_index(self, rate: float | None) -> dict[str, Any]:
        p = self.p
        handled = p[
            ~p["business_type"].isin(["fault_repair", "praise"])
            & ~((p["business_type"] == "consultation") & p["id"].isin(self.resolved))
        ]
        parent: dict[int, int | None] = {}
        for r in self.orders.itertuples():
            up = r.repeat_of_id if not pd.isna(r.repeat_of_id) else r.urged_order_id
            parent[int(r.id)] = None if pd.isna(up) else int(up)
        roots = handled["id"].map(lambda i: self._root(int(i), parent))
        events = int((roots.value_counts() >= 3).sum())
        return service_index_figures(len(handled), events, rate)

    def build(self) -> dict[str, Any]:
        totals = self.totals()
        rate, satisfaction = self.satisfaction()
        repeat, sensitive = self.callers()
        steps = self.steps()
        return {
            "period": {
                **self.period.as_dict(),
                "previous": previous_period(self.period).as_dict(),
                "last_year": year_before(self.period).as_dict(),
            },
            "unit": {
                "id": self.unit.unit_id,
                "code": self.unit.code,
                "name": self.unit.name,
                "kind": self.unit.kind,
            },
            "refreshed_at": self.refreshed_at.isoformat(),
            "totals": totals,
            "by_type": self.by_type(),
            "complaints_by_category": self.complaints_by_category(),
            "by_area_class": self.by_area_class(),
            "by_unit": self.by_unit(),
            "by_hour": self.by_hour(),
            "by_weekday": self.by_weekday(),
            "hotspots": self.hotspots(),
            "repeat_callers": repeat,
            "repeat_call_rate": _pct(totals["repeat_calls"], totals["orders"]),
            "sensitive_customers": sensitive,
            "steps": steps,
            "satisfaction_rate": rate,
            "satisfaction": satisfaction,
            "service_index": self.service_index(rate),
            "complaints_per_10k": round(totals["complaints"] * 10_000 / totals["customers"], 2)
            if totals["customers"]
            else None,
        }


def plain_report(
    session: Session,
    *,
    settings: Settings,
    start: date,
    end: date,
    unit: str | None,
    refreshed_at: str | datetime,
) -> dict[str, Any]:
    """The same document as gridcare.analytics.service.monitoring_report, computed without the snapshot.
    `refreshed_at` fixes the instant open steps are judged overdue against (the snapshot's, to compare)."""
    del settings
    chosen = make_period(start, end)
    scope = resolve_unit(session, principal=SYSTEM, unit=unit)
    from gridcare.models import Unit

    row = session.get(Unit, scope.unit_id)
    assert row is not None
    scope.path = row.path  # type: ignore[attr-defined]
    at = datetime.fromisoformat(refreshed_at) if isinstance(refreshed_at, str) else refreshed_at
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return PlainReport(engine, period=chosen, unit=scope, refreshed_at=at).build()
