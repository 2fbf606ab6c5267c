"""Benchmark: work orders at 1,000,000 orders (issue: list/filter p95 < 50 ms, create p95 < 20 ms,
overdue scan over 1,000,000 open orders < 5 s).

    python -m benchmarks.workorders --backend sqlite
    python -m benchmarks.workorders --backend postgresql

Builds `gridcare_bench_orders` once: the demo province with 200,000 customers and 1,000,000 orders
of history (12 months, with their ~7 million step events). Then, against `gridcare serve` in its own
process over real HTTP: list/filter queries one at a time; creates one at a time (latency) and from
4 concurrent clients (throughput). Last, every order is reopened with a deadline spread around now
(5 % past due, 5 % in the warning window, the rest later) and `workorders.scan_due` runs twice:
the first run flags ~100,000 steps, the second finds nothing new.
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import timedelta

import httpx
from sqlalchemy import create_engine, text

from benchmarks.common import ensure_order_history, server, summary_ms
from gridcare.config import Settings
from gridcare.db import make_engine, make_session_factory
from gridcare.demo.province import DEMO_PASSWORD
from gridcare.models.types import utcnow
from gridcare.workorders.tasks import scan_due

NAME = "gridcare_bench_orders"
CUSTOMERS = 200_000
ORDERS = 1_000_000


def ensure_data(backend: str) -> str:
    return ensure_order_history(backend, NAME, customers=CUSTOMERS, orders=ORDERS)


def login(client: httpx.Client, username: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def bench_lists(client: httpx.Client, backend: str, url: str) -> None:
    agent = login(client, "agent")
    station = login(client, "station")
    engine = create_engine(url)
    with engine.connect() as conn:
        county_id = conn.scalar(text("SELECT id FROM units WHERE kind = 'county' ORDER BY id LIMIT 1"))
        numbers = [
            r[0] for r in conn.execute(text("SELECT number FROM work_orders WHERE id % 5003 = 0 LIMIT 200"))
        ]
    engine.dispose()
    today = utcnow().date()
    cases = {
        "newest first (city scope)": (agent, {}),
        "type=complaint": (agent, {"business_type": "complaint"}),
        "category=TS04 + last 30 days": (
            agent,
            {"category": "TS04", "created_from": str(today - timedelta(days=30))},
        ),
        "county + type=fault_repair": (agent, {"unit_id": county_id, "business_type": "fault_repair"}),
        "step=pending_callback": (agent, {"step": "pending_callback"}),
        "overdue=true": (agent, {"overdue": "true"}),
        "due_soon=true": (agent, {"due_soon": "true"}),
        "sort=step_deadline, open": (agent, {"step": "in_progress", "sort": "step_deadline"}),
        "station user, page 5": (station, {"page": 5}),
        "station user, mine": (station, {"mine": "true"}),
        "q=order number": (agent, None),
        "q=text fragment (空调)": (agent, {"q": "空调"}),
    }
    for label, (headers, params) in cases.items():
        samples = []
        for i in range(200):
            p = params if params is not None else {"q": numbers[i % len(numbers)]}
            started = time.perf_counter()
            r = client.get("/api/v1/workorders", params=p, headers=headers)
            samples.append(time.perf_counter() - started)
            assert r.status_code == 200, r.text
        print(f"[list] {backend} {label}: {summary_ms(samples[20:])}")


def create_body(account_no: str, i: int) -> dict[str, object]:
    return {
        "business_type": "complaint" if i % 3 == 0 else "fault_repair",
        "category": "TS040101" if i % 3 == 0 else "lv",
        "content": "近期频繁停电，请尽快处理",
        "account_no": account_no,
    }


def bench_creates(base: str, client: httpx.Client, backend: str, url: str) -> None:
    agent = login(client, "agent")
    engine = create_engine(url)
    with engine.connect() as conn:
        accounts = [
            r[0] for r in conn.execute(text("SELECT account_no FROM customers WHERE id % 97 = 0 LIMIT 2000"))
        ]
    engine.dispose()
    samples = []
    for i in range(500):
        started = time.perf_counter()
        r = client.post("/api/v1/workorders", json=create_body(accounts[i], i), headers=agent)
        samples.append(time.perf_counter() - started)
        assert r.status_code == 201, r.text
    print(f"[create] {backend} one at a time: {summary_ms(samples[20:])}")
    done = [0]
    stop = time.monotonic() + 15
    lock = threading.Lock()

    def worker(k: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            i = 0
            while time.monotonic() < stop:
                r = c.post(
                    "/api/v1/workorders",
                    json=create_body(accounts[(k * 400 + i) % len(accounts)], i),
                    headers=agent,
                )
                assert r.status_code == 201, r.text
                i += 1
            with lock:
                done[0] += i

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    print(
        f"[create] {backend} sustained, 4 clients, 1 server process: {done[0] / elapsed:,.0f} orders/s "
        f"({done[0]:,} in {elapsed:.1f} s)"
    )


def bench_scan(backend: str, url: str) -> None:
    engine = create_engine(url)
    now = utcnow()
    sqlite = backend == "sqlite"
    with engine.begin() as conn:
        open_n = conn.execute(text("SELECT count(*) FROM work_orders")).scalar()
        # Reopen every order in the handling step, deadlines spread from 1 day ago to 19 days ahead.
        if sqlite:
            stamp = "strftime('%Y-%m-%d %H:%M:%S.000000', julianday(:now) + (id % 200 - 10) * 0.1 {})"
            conn.execute(
                text(
                    "UPDATE work_orders SET step = 'in_progress', step_breached = 0, step_warned = 0, "
                    f"step_deadline = {stamp.format('')}, step_warn_at = {stamp.format('- 0.5')}"
                ),
                {"now": now.replace(tzinfo=None).isoformat(sep=" ")},
            )
        else:
            offset = "((id % 200) - 10) * interval '0.1 day'"
            conn.execute(
                text(
                    "UPDATE work_orders SET step = 'in_progress', step_breached = false, step_warned = false, "
                    f"step_deadline = :now + {offset}, step_warn_at = :now + {offset} - interval '0.5 day'"
                ),
                {"now": now},
            )
        conn.execute(text("ANALYZE"))
    if not sqlite:  # what autovacuum does after a million-row UPDATE, before the scan meets the table
        with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text("VACUUM ANALYZE work_orders"))
    engine.dispose()
    factory = make_session_factory(make_engine(Settings(database_url=url)))
    started = time.perf_counter()
    first = scan_due(factory, now=now, batch_size=1000)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = scan_due(factory, now=now, batch_size=1000)
    second_s = time.perf_counter() - started
    print(
        f"[scan] {backend} over {open_n:,} open orders: first run {first_s:.2f} s "
        f"({first.warnings:,} warnings, {first.breaches:,} breaches flagged, with events and notifications); "
        f"second run {second_s:.3f} s ({second.warnings + second.breaches} new)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--skip", nargs="*", default=[], choices=["lists", "creates", "scan"])
    parser.add_argument("--only-list", default=None, help="run only the list case with this label")
    args = parser.parse_args()
    url = ensure_data(args.backend)
    with server(url) as base, httpx.Client(base_url=base, timeout=60) as client:
        if "lists" not in args.skip:
            bench_lists(client, args.backend, url)
        if "creates" not in args.skip:
            bench_creates(base, client, args.backend, url)
    if "scan" not in args.skip:
        bench_scan(args.backend, url)


if __name__ == "__main__":
    main()
