"""Benchmark: work orders at 1,000,000 orders (list/filter p95 < 50 ms, create p95 < 20 ms).

    python -m benchmarks.workorders --backend sqlite
    python -m benchmarks.workorders --backend postgresql

Builds `gridcare_bench_orders` once: the demo province with 200,000 customers and 1,000,000 orders
of history (12 months, with their ~7 million step events). Then, against `gridcare serve` in its own
process over real HTTP: list/filter queries one at a time; creates one at a time (latency) and from
4 concurrent clients (throughput). The overdue scan and creates with a storm's mix are measured by
`benchmarks.storm`.
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import timedelta

import httpx
from sqlalchemy import create_engine, text

from benchmarks.common import ensure_order_history, run_threads, server, summary_ms
from gridcare.demo.province import DEMO_PASSWORD
from gridcare.models.types import utcnow

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

    elapsed = run_threads(worker, 4)
    print(
        f"[create] {backend} sustained, 4 clients, 1 server process: {done[0] / elapsed:,.0f} orders/s "
        f"({done[0]:,} in {elapsed:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--skip", nargs="*", default=[], choices=["lists", "creates"])
    parser.add_argument("--only-list", default=None, help="run only the list case with this label")
    args = parser.parse_args()
    url = ensure_data(args.backend)
    with server(url) as base, httpx.Client(base_url=base, timeout=60) as client:
        if "lists" not in args.skip:
            bench_lists(client, args.backend, url)
        if "creates" not in args.skip:
            bench_creates(base, client, args.backend, url)


if __name__ == "__main__":
    main()
