"""Benchmark: the complaint monitoring report at millions of orders (issue: a quarter of 1,000,000
orders in under 1 s, a year of 5,000,000 orders in under 3 s, warm), side by side with the same report
computed plainly (SQL rows from the operational database, aggregated with pandas), in one run.

    python -m benchmarks.reports --backend sqlite
    python -m benchmarks.reports --backend postgresql

Builds `gridcare_bench_reports` once: the demo province with 1,000,000 customers and 5,000,000 orders
of 12 months' history (~35 million step events). Then:

1. the analytics snapshot is built from scratch (timed: what the first report after deployment costs);
2. a refresh with nothing changed, and one after 1,000 new orders taken through the service (timed);
3. the report over the last whole quarter (≥ 1,000,000 orders) and over the whole year
   (5,000,000 orders), each run several times; "warm" is the median of the runs after the first, and
   each run includes its incremental refresh, as in production;
4. the plain computation of the same two reports, once or more, and the ratio; the two documents are
   compared and must be equal.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta

from sqlalchemy import create_engine, select

from benchmarks.common import WORK, ensure_order_history
from benchmarks.plain_report import plain_report
from gridcare.analytics.monitoring import MonitoringReport, Period
from gridcare.analytics.service import monitoring_report, resolve_unit
from gridcare.analytics.snapshot import Snapshot, remove
from gridcare.auth.principal import SYSTEM
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.db import make_session_factory
from gridcare.models import Customer
from gridcare.models.types import utcnow
from gridcare.workorders import service
from gridcare.workorders.schemas import WorkOrderCreate

NAME = "gridcare_bench_reports"
CUSTOMERS = 1_000_000
ORDERS = 5_000_000


def last_quarter(today: date) -> Period:
    first_month = ((today.month - 1) // 3) * 3 + 1
    end = date(today.year, first_month, 1) - timedelta(days=1)
    start_month = ((end.month - 1) // 3) * 3 + 1
    return Period(date(end.year, start_month, 1), end)


def seconds(run: object) -> float:
    started = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--plain-runs", type=int, default=1, help="0: the DuckDB figures only")
    parser.add_argument("--orders", type=int, default=ORDERS, help="a smaller database for a quick try")
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--periods", default="quarter,year", help="which reports: quarter, year or both")
    parser.add_argument("--keep-snapshot", action="store_true", help="reuse the snapshot file if present")
    args = parser.parse_args()

    name = NAME if args.orders == ORDERS else f"{NAME}_{args.orders}"
    url = ensure_order_history(args.backend, name, customers=args.customers, orders=args.orders)
    path = WORK / f"{name}-{args.backend}.duckdb"
    settings = Settings(
        database_url=url, analytics_path=path, secret_key="benchmark-secret-key-0123456789-abcdefghij"
    )
    engine = create_engine(url, pool_size=2)
    factory = make_session_factory(engine)
    snapshot = Snapshot(engine, path)

    if not args.keep_snapshot:
        remove(path)
    build = snapshot.refresh()
    print(
        f"snapshot {'built' if build.full else 'refreshed'}: {build.orders:,} orders, {build.events:,} events, "
        f"{build.customers:,} customers in {build.seconds:.1f} s; file {path.stat().st_size / 2**20:.0f} MiB"
    )
    idle = snapshot.refresh()
    print(f"refresh, nothing changed: {idle.seconds * 1000:.0f} ms")
    with factory() as s:
        customers = list(s.scalars(select(Customer.account_no).order_by(Customer.id).limit(1000)))
        for account in customers:
            data = WorkOrderCreate(
                business_type="complaint",
                category="TS040101",
                content="基准测试：两个月停电三次",
                account_no=account,
            )
            service.create(s, principal=SYSTEM, settings=settings, data=data)
        s.commit()
    busy = snapshot.refresh()
    print(
        f"refresh after 1,000 new orders: {busy.seconds * 1000:.0f} ms ({busy.orders:,} orders, {busy.events:,} events read)"
    )

    today = utcnow().astimezone(BEIJING).date()
    periods = {"quarter": last_quarter(today), "year": Period(today - timedelta(days=364), today)}
    results: dict[str, dict[str, float]] = {}
    for label, period in periods.items():
        if label not in args.periods.split(","):
            continue
        with factory() as s:
            scope = resolve_unit(s, principal=SYSTEM, unit=None)
        fast_runs = []
        query_runs = []
        document: dict = {}
        for _ in range(args.runs):
            with factory() as s:
                started = time.perf_counter()
                document = monitoring_report(
                    s, principal=SYSTEM, settings=settings, start=period.start, end=period.end, unit=None
                )
                fast_runs.append(time.perf_counter() - started)
            with snapshot.open(refresh=False) as (con, refreshed_at):
                started = time.perf_counter()
                MonitoringReport(con, engine, period=period, scope=scope, refreshed_at=refreshed_at).build()
                query_runs.append(time.perf_counter() - started)
        warm = statistics.median(fast_runs[1:] or fast_runs)
        print(
            f"{label} {period.start}..{period.end}: {document['totals']['orders']:,} orders; DuckDB first "
            f"{fast_runs[0]:.2f} s, warm {warm:.2f} s (queries alone {statistics.median(query_runs):.2f} s)",
            flush=True,
        )
        plain_runs = []
        plain: dict = {}
        for _ in range(args.plain_runs):
            with factory() as s:
                started = time.perf_counter()
                plain = plain_report(
                    s,
                    settings=settings,
                    start=period.start,
                    end=period.end,
                    unit=None,
                    refreshed_at=document["refreshed_at"],
                )
                plain_runs.append(time.perf_counter() - started)
        if not plain_runs:
            continue
        same = {k: plain[k] == document[k] for k in document if k != "refreshed_at"}
        results[label] = {
            "orders": document["totals"]["orders"],
            "first": fast_runs[0],
            "warm": warm,
            "query_only": statistics.median(query_runs),
            "plain": statistics.median(plain_runs),
        }
        print(
            f"{label}: plain {statistics.median(plain_runs):.1f} s; ratio {statistics.median(plain_runs) / warm:.0f}×; "
            f"documents equal: {all(same.values())}"
            + ("" if all(same.values()) else f" (differ: {[k for k, v in same.items() if not v]})")
        )
    engine.dispose()


if __name__ == "__main__":
    main()
