"""Benchmark: interactive order creates while a 50,000-row 95598 export is imported (SQLite).

    python -m benchmarks.import_contention [--rows 50000] [--clients 4]

On SQLite one writer holds the database at a time; a long import used to hold it for its whole run,
so creates waiting behind it failed with "database is locked". Now the import checks and plans every
row (parsing, deadlines on the working-day calendar, repeat links) without writing, and writes in one
short transaction at the end; interactive writers wait for that write (the busy timeout,
GRIDCARE_SQLITE_BUSY_TIMEOUT_MS, 30 s by default) instead of failing.

The run: the demo province (20,000 customers, no history) in `benchmarks/.work/gridcare_bench_import.db`;
an order export of `--rows` rows written as CSV (a fifth of the rows for customers the database does
not know yet, so units, 台区 and customers are created too); `gridcare serve` in its own process;
`--clients` clients creating orders over HTTP, one after the other, first alone (the baseline) and then
while `gridcare import orders FILE` runs in its own process. Printed: the import's time, and the
creates' count, failures and latencies (p50, p95, max) in both phases.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from benchmarks.common import WORK, percentile, recreate, run_threads, server
from gridcare import migrate
from gridcare.calendar import BEIJING
from gridcare.demo.loader import load_demo
from gridcare.demo.province import DEMO_PASSWORD

NAME = "gridcare_bench_import"
CUSTOMERS = 20_000
HEADERS = ["工单编号", "业务类型", "受理时间", "户号", "客户名称", "联系电话", "用电地址", "受理内容", "供电单位",
           "城乡类别", "台区编号", "一级分类", "二级分类", "三级分类", "派单时间", "接单时间", "联系客户时间",
           "回单时间", "回访时间", "处理结果", "回访满意度", "归档时间"]  # fmt: skip


def build(url: str) -> None:
    migrate.upgrade(url)
    engine = create_engine(url)
    load_demo(engine, customers=CUSTOMERS, seed=95598, months=0)
    engine.dispose()


def export_file(url: str, rows: int, path: Path, seed: int) -> None:
    """A 95598 export: four fifths of the orders for known customers, a fifth for new ones."""
    rng = random.Random(seed)
    engine = create_engine(url)
    with engine.connect() as conn:
        known = conn.execute(
            text(
                "SELECT c.account_no, c.name, c.address, u.code, t.code FROM customers c "
                "JOIN units u ON u.id = c.station_id JOIN transformer_areas t ON t.id = c.transformer_area_id"
            )
        ).all()
    engine.dispose()
    stations = sorted({k[3] for k in known})
    prefix = f"B{seed % 100000:05d}"
    now = datetime.now(BEIJING).replace(microsecond=0)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i in range(rows):
            accepted = now - timedelta(days=rng.uniform(1, 60))
            if rng.random() < 0.8:
                account, name, address, station, area = rng.choice(known)
                area_class = ""
            else:
                account, name = f"9{seed % 1000:03d}{i:08d}", f"新客户{i}"
                address, station = f"江州市新区{i}号", rng.choice(stations)
                area, area_class = f"NEW{seed % 1000:03d}{i % 500:04d}", rng.choice(["城区", "农村"])
            kind = rng.choice(["投诉", "故障报修", "查询咨询", "意见/建议"])
            l1, l2, l3 = ("供电质量投诉", "供电可靠性", "频繁停电") if kind == "投诉" else ("", "", "")
            steps = [accepted + timedelta(minutes=m) for m in (10, 40, 180, 1500, 1800, 2000)]
            writer.writerow(
                [f"{prefix}{i:09d}", kind, f"{accepted:%Y-%m-%d %H:%M:%S}", account, name, "13800000000", address,
                 "客户反映近期多次停电，要求尽快处理。", station, area_class, area, l1, l2, l3,
                 *(f"{t:%Y-%m-%d %H:%M:%S}" for t in steps[:5]), "已处理并答复客户。", "满意",
                 f"{steps[5]:%Y-%m-%d %H:%M:%S}"]
            )  # fmt: skip


def creates(base: str, clients: int, stop: threading.Event, results: list[tuple[float, int]]) -> None:
    """`clients` clients creating consultations one after the other until `stop`."""
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": "agent", "password": DEMO_PASSWORD}, timeout=30
    ).json()["access_token"]
    engine = create_engine(os.environ["BENCH_IMPORT_URL"])
    with engine.connect() as conn:
        accounts = [r[0] for r in conn.execute(text("SELECT account_no FROM customers LIMIT 500"))]
    engine.dispose()
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
            i = 0
            while not stop.is_set():
                i += 1
                started = time.perf_counter()
                try:
                    status = c.post(
                        "/api/v1/workorders",
                        json={
                            "business_type": "consultation",
                            "content": "咨询峰谷电价的时段划分",
                            "account_no": accounts[(n * 131 + i) % len(accounts)],
                        },
                    ).status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    results.append((time.perf_counter() - started, status))

    run_threads(client, clients)


def report(label: str, results: list[tuple[float, int]]) -> None:
    ok = [s for s, status in results if status in (200, 201)]
    failed = len(results) - len(ok)
    ms = [s * 1000 for s in ok]
    print(
        f"[import] {label}: {len(results)} creates, {failed} failed; "
        f"p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, max {max(ms):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--baseline-seconds", type=float, default=20)
    args = parser.parse_args()
    url = recreate("sqlite", NAME)
    build(url)
    os.environ["BENCH_IMPORT_URL"] = url
    seed = int(time.time())
    path = WORK / f"{NAME}_{args.rows}.csv"
    export_file(url, args.rows, path, seed)
    print(f"[import] export of {args.rows:,} rows written ({path.stat().st_size / 1e6:.1f} MB)")
    with server(url) as base:
        alone: list[tuple[float, int]] = []
        stop = threading.Event()
        timer = threading.Timer(args.baseline_seconds, stop.set)
        timer.start()
        creates(base, args.clients, stop, alone)
        report("alone (baseline)", alone)
        during: list[tuple[float, int]] = []
        stop = threading.Event()
        worker = threading.Thread(target=creates, args=(base, args.clients, stop, during))
        worker.start()
        time.sleep(2)
        started = time.perf_counter()
        env = {**os.environ, "GRIDCARE_DATABASE_URL": url}
        done = subprocess.run(
            [sys.executable, "-m", "gridcare.cli", "import", "orders", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        took = time.perf_counter() - started
        time.sleep(2)
        stop.set()
        worker.join()
        print(
            f"[import] import of {args.rows:,} rows: {took:.1f} s, exit {done.returncode}: {done.stdout.strip()}"
        )
        if done.returncode:
            print(done.stderr[-2000:])
        report(f"during the import ({args.clients} clients)", during)


if __name__ == "__main__":
    main()
