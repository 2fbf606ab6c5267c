"""Benchmark: how cost grows with size — the work-order list (p95 over real HTTP) and the yearly complaint
monitoring report (warm, from the DuckDB snapshot) at 1, 2 and 5 million orders, on SQLite.

    python -m benchmarks.growth                       # 1M, 2M and 5M (builds what is missing)
    python -m benchmarks.growth --sizes 1000000       # one size

Databases: the demo province with 200,000 customers per million orders and 12 months of history
(`gridcare_bench_orders` for 1M, `gridcare_bench_growth_<n>` for the others; 5M takes about an hour to
build the first time). Each size: `gridcare serve` in its own process, the list cases of
`benchmarks.workorders` one request at a time (120 timed each), then the yearly report: the snapshot
built (timed), then three report calls, the median of the last two.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

import httpx

from benchmarks.common import WORK, ensure_order_history, percentile, server
from gridcare.analytics.monitoring import Period
from gridcare.analytics.service import monitoring_report
from gridcare.analytics.snapshot import Snapshot, remove
from gridcare.auth.principal import SYSTEM
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.db import make_engine, make_session_factory
from gridcare.demo.province import DEMO_PASSWORD
from gridcare.models.types import utcnow

CASES = {
    "newest first (city)": {},
    "type=complaint": {"business_type": "complaint"},
    "category=TS04 + 30 days": {"category": "TS04"},
    "step=pending_callback": {"step": "pending_callback"},
    "overdue=true": {"overdue": "true"},
    "open by deadline": {"step": "in_progress", "sort": "step_deadline"},
    "page 20": {"page": 20},
}


def name_for(orders: int) -> str:
    return "gridcare_bench_orders" if orders == 1_000_000 else f"gridcare_bench_growth_{orders}"


def lists(base: str) -> dict[str, float]:
    with httpx.Client(base_url=base, timeout=60) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "agent", "password": DEMO_PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        today = utcnow().date()
        found = {}
        for label, params in CASES.items():
            if "category" in params:
                params = {**params, "created_from": str(today - timedelta(days=30))}
            samples = []
            for _ in range(140):
                started = time.perf_counter()
                r = client.get("/api/v1/workorders", params=params, headers=headers)
                samples.append(time.perf_counter() - started)
                assert r.status_code == 200, r.text
            found[label] = percentile([s * 1000 for s in samples[20:]], 95)
        return found


def report(url: str, orders: int) -> tuple[float, float]:
    path = WORK / f"{name_for(orders)}-growth.duckdb"
    settings = Settings(
        database_url=url, analytics_path=path, secret_key="benchmark-secret-key-0123456789-abcdefghij"
    )
    engine = make_engine(settings)
    snapshot = Snapshot(engine, path)
    remove(path)
    build = snapshot.refresh()
    today = utcnow().astimezone(BEIJING).date()
    period = Period(today - timedelta(days=364), today)
    factory = make_session_factory(engine)
    runs = []
    for _ in range(3):
        with factory() as s:
            started = time.perf_counter()
            monitoring_report(
                s, principal=SYSTEM, settings=settings, start=period.start, end=period.end, unit=None
            )
            runs.append(time.perf_counter() - started)
    engine.dispose()
    return build.seconds, statistics.median(runs[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000000,2000000,5000000")
    args = parser.parse_args()
    rows = []
    for orders in (int(s) for s in args.sizes.split(",")):
        url = ensure_order_history("sqlite", name_for(orders), customers=orders // 5, orders=orders)
        with server(url) as base:
            found = lists(base)
        built, warm = report(url, orders)
        worst = max(found.values())
        rows.append((orders, found, worst, built, warm))
        print(
            f"[growth] {orders:,} orders: list p95 worst {worst:.1f} ms "
            f"({', '.join(f'{k} {v:.1f}' for k, v in found.items())}); "
            f"yearly report warm {warm:.2f} s (snapshot built in {built:.0f} s)",
            flush=True,
        )
    print("| orders | list p95, worst case (ms) | list p95, newest first (ms) | yearly report, warm (s) |")
    for orders, found, worst, _, warm in rows:
        print(f"| {orders:,} | {worst:.1f} | {found['newest first (city)']:.1f} | {warm:.2f} |")


if __name__ == "__main__":
    main()
