"""Benchmark: workspace pages at 1,000,000 work orders (issue: server time p95 < 100 ms for 工作台,
工单列表 and 工单详情).

    python -m benchmarks.pages --backend sqlite
    python -m benchmarks.pages --backend postgresql

Builds `gridcare_bench_pages` once: the demo province with 200,000 customers and 1,000,000 orders of
12 months' history (~7 million step events). History leaves few orders open, so 20,000 of the latest
(2 %) are put back into the open steps with deadlines spread around now (some overdue, some due soon),
which is what a busy provincial desk carries. Then `gridcare serve` runs in its own process and each
page is fetched over real HTTP, signed in with the session cookie as a browser would be, one request
at a time; the figure is the whole response time on loopback (an upper bound on server time).
"""

from __future__ import annotations

import argparse
import re
import time

import httpx
from sqlalchemy import Engine, create_engine, text

from benchmarks.common import ensure_order_history, server, summary_ms
from gridcare.demo.province import DEMO_PASSWORD
from gridcare.models.types import utcnow
from gridcare.workorders.defaults import OPEN_STEPS

NAME = "gridcare_bench_pages"
CUSTOMERS = 200_000
ORDERS = 1_000_000
REOPEN = 20_000


def ensure_data(backend: str) -> str:
    return ensure_order_history(
        backend, NAME, customers=CUSTOMERS, orders=ORDERS, prepare=lambda engine: reopen(engine, backend)
    )


def reopen(engine: Engine, backend: str) -> None:
    """The latest REOPEN orders back in the open steps; deadlines from 1 day ago to 4 days ahead."""
    now = utcnow()
    steps = "CASE id % 7 " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(OPEN_STEPS)) + " END"
    with engine.begin() as conn:
        top = conn.scalar(text("SELECT max(id) FROM work_orders"))
        params = {
            "first": top - REOPEN,
            "now": now.replace(tzinfo=None).isoformat(sep=" ") if backend == "sqlite" else now,
        }
        if backend == "sqlite":
            stamp = "strftime('%Y-%m-%d %H:%M:%S.000000', julianday(:now) + (id % 50 - 10) * 0.1 {})"
            deadline, warn = stamp.format(""), stamp.format("- 0.2")
        else:
            offset = "((id % 50) - 10) * interval '0.1 day'"
            deadline, warn = (
                f"CAST(:now AS timestamptz) + {offset}",
                f"CAST(:now AS timestamptz) + {offset} - interval '0.2 day'",
            )
        conn.execute(
            text(
                f"UPDATE work_orders SET step = {steps}, step_deadline = {deadline}, step_warn_at = {warn}, "
                "archived_at = NULL WHERE id > :first"
            ),
            params,
        )
        # Entering the steps arms their alarms (the overdue scan's queue).
        conn.execute(text("DELETE FROM step_alarms WHERE order_id > :first"), params)
        for kind, column in (("warning", "step_warn_at"), ("breach", "step_deadline")):
            conn.execute(
                text(
                    f"INSERT INTO step_alarms (at, order_id, kind) SELECT {column}, id, '{kind}' "
                    "FROM work_orders WHERE id > :first"
                ),
                params,
            )
        conn.execute(text("ANALYZE"))


def sign_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/login")
    token = re.search(r'name="_csrf" value="([0-9a-f]+)"', form.text)
    assert token is not None, form.text[:300]
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "_csrf": token.group(1)})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/workbench", r.headers["location"]
    return client


def measure(client: httpx.Client, label: str, backend: str, paths: list[str], rounds: int = 200) -> None:
    samples = []
    for i in range(rounds):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        r = client.get(path)
        samples.append(time.perf_counter() - started)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    print(f"[page] {backend} {label}: {summary_ms(samples[20:])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    url = ensure_data(args.backend)
    engine = create_engine(url)
    with engine.connect() as conn:
        open_n = conn.scalar(
            text("SELECT count(*) FROM work_orders WHERE step NOT IN ('archived', 'merged')")
        )
        ids = [r[0] for r in conn.execute(text("SELECT id FROM work_orders WHERE id % 4999 = 0 LIMIT 200"))]
        station_ids = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT w.id FROM work_orders w JOIN users u ON u.unit_id = w.station_id "
                    "WHERE u.username = 'station' ORDER BY w.id DESC LIMIT 200"
                )
            )
        ]
        county = conn.scalar(text("SELECT id FROM units WHERE kind = 'county' ORDER BY id LIMIT 1"))
    engine.dispose()
    print(f"[data] {args.backend}: {open_n:,} open orders of {ORDERS:,}")
    with server(url) as base:
        agent, station, manager, dispatcher = (
            sign_in(base, u) for u in ("agent", "station", "manager", "dispatcher")
        )
        measure(agent, "工作台 (agent, city scope)", args.backend, ["/workbench"])
        measure(dispatcher, "工作台 (dispatcher, county)", args.backend, ["/workbench"])
        measure(station, "工作台 (station staff)", args.backend, ["/workbench"])
        measure(manager, "工作台 (manager: overdue and due soon)", args.backend, ["/workbench"])
        measure(agent, "工单列表 newest first", args.backend, ["/orders"])
        measure(agent, "工单列表 page 20", args.backend, ["/orders?page=20"])
        measure(
            agent,
            "工单列表 complaint + TS04 + county",
            args.backend,
            [f"/orders?business_type=complaint&category=TS04&unit_id={county}"],
        )
        measure(
            agent, "工单列表 overdue, by deadline", args.backend, ["/orders?overdue=1&sort=step_deadline"]
        )
        measure(station, "工单列表 (station staff)", args.backend, ["/orders"])
        measure(agent, "工单详情 (any order)", args.backend, [f"/orders/{i}" for i in ids])
        measure(
            station,
            "工单详情 (station staff, own orders)",
            args.backend,
            [f"/orders/{i}" for i in station_ids],
        )
        measure(agent, "回访 queue", args.backend, ["/callbacks"])
        for c in (agent, station, manager, dispatcher):
            c.close()


if __name__ == "__main__":
    main()
