"""Benchmark: creating work orders with the mix a storm brings, and the overdue scan's catch-up pass, at
1,000,000 orders — measured side by side with the code before issue 13 (commit 6dedd33) in one run.

    python -m benchmarks.storm --backend sqlite
    python -m benchmarks.storm --backend postgresql

Uses `gridcare_bench_orders` (the demo province with 200,000 customers and 1,000,000 orders of history,
built by `benchmarks.workorders` or here). "Before" runs the old code (`git archive 6dedd33` into
benchmarks/.work/before) on a copy of the database taken back to migration 0006; "now" runs this tree
on the database at head. Each part runs in its own process, one after the other, on the same machine.

Parts (`--parts`):

- `creates`: over real HTTP to `gridcare serve` (one process on SQLite; `--workers 4` on PostgreSQL).
  The mix of a storm: 60 % "no power" repair calls (故障报修, low/high voltage) from the customers of three
  feeders — trouble-call analysis examines each, predicts outages and attaches the later calls to them —,
  30 % complaints (频繁停电, checked for repeats and sensitive customers), 10 % consultations. One at a time
  (300, p50/p95) and from 4 clients for 20 s (orders/s, failures). Beside it, the ceiling: the raw INSERT
  rate of the same tables (a work order row and its first event, one transaction each) from 4 connections.
- `scan`: every order is put back into 处理中 with a deadline spread from one day ago to 19 days ahead (its
  warning 1.6 days earlier), as entering the step would; the orders already past their deadline had their
  warning raised before (a pass catching up after the jobs were down). The overdue scan's first pass
  raises the ~135,000 due warnings and breaches (an event and a message each: 80,000 warnings, 55,000
  breaches), the second finds nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import PG_ADMIN_URL, WORK, database_url, percentile, run_threads, server

ROOT = Path(__file__).resolve().parents[1]
BEFORE_COMMIT = "6dedd33"
BEFORE_TREE = WORK / "before"
NAME = "gridcare_bench_orders"
BEFORE_NAME = "gridcare_bench_orders_before"


# -- databases and code trees ---------------------------------------------------------------------------


def before_tree() -> Path:
    if not (BEFORE_TREE / "src" / "gridcare").exists():
        BEFORE_TREE.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BEFORE_COMMIT], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(BEFORE_TREE)], input=archive, check=True)
    return BEFORE_TREE


def copy_database(backend: str, source: str, target: str) -> str:
    """A copy of `source` named `target` (replaced)."""
    if backend == "sqlite":
        src = WORK / f"{source}.db"
        dst = WORK / f"{target}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(dst) + suffix).unlink(missing_ok=True)
        subprocess.run(
            ["sqlite3", str(src), "PRAGMA wal_checkpoint(TRUNCATE);"], check=True, capture_output=True
        )
        shutil.copyfile(src, dst)
        os.sync()  # the copy on disk before anything is timed: its writeback would slow every write
        return database_url(backend, target)
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    admin.dispose()
    return database_url(backend, target)


def run_part(tree: Path, part: str, url: str, backend: str, extra: list[str]) -> dict[str, Any]:
    """One part in its own process, with the code of `tree`; its figures come back as JSON."""
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}:{ROOT}"}
    command = [sys.executable, "-m", "benchmarks.storm", "--child", part, "--url", url, "--backend", backend]
    done = subprocess.run([*command, *extra], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{part} failed in {tree}:\n{done.stdout}\n{done.stderr}")
    last = done.stdout.strip().splitlines()[-1]
    result: dict[str, Any] = json.loads(last)
    return result


# -- the parts (run in the child process, with whichever gridcare is on the path) ----------------------


def _storm_people(url: str) -> tuple[list[str], list[str]]:
    """Account numbers: those of three feeders (the storm) and some from everywhere (complaints)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        feeders = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT feeder_id FROM transformer_areas WHERE feeder_id IS NOT NULL "
                    "GROUP BY feeder_id ORDER BY feeder_id LIMIT 3"
                )
            )
        ]
        storm = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT c.account_no FROM customers c JOIN transformer_areas a ON a.id = c.transformer_area_id "
                    f"WHERE a.feeder_id IN ({','.join(str(int(f)) for f in feeders)}) ORDER BY c.id"
                )
            )
        ]
        anyone = [
            r[0] for r in conn.execute(text("SELECT account_no FROM customers WHERE id % 53 = 0 LIMIT 5000"))
        ]
    engine.dispose()
    return storm, anyone


def _body(rng: random.Random, storm: list[str], anyone: list[str]) -> dict[str, object]:
    roll = rng.random()
    if roll < 0.6:
        return {
            "business_type": "fault_repair",
            "category": rng.choice(["lv", "lv", "hv"]),
            "content": "家里突然没电了，邻居家也没电，请尽快派人抢修",
            "account_no": rng.choice(storm),
        }
    if roll < 0.9:
        return {
            "business_type": "complaint",
            "category": "TS040101",
            "content": "两个月停电三次，要求说明原因并尽快解决",
            "account_no": rng.choice(anyone),
        }
    return {
        "business_type": "consultation",
        "content": "咨询阶梯电价怎么计算",
        "account_no": rng.choice(anyone),
    }


def part_creates(url: str, backend: str) -> dict[str, Any]:
    import httpx

    workers = 4 if backend == "postgresql" else 1
    storm, anyone = _storm_people(url)
    result: dict[str, Any] = {"server_processes": workers}
    with server(url, workers=workers) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            token = client.post(
                "/api/v1/auth/token", data={"username": "agent", "password": "Demo@95598"}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            rng = random.Random(1)
            samples = []
            failed = 0
            for _ in range(320):
                started = time.perf_counter()
                r = client.post("/api/v1/workorders", json=_body(rng, storm, anyone), headers=headers)
                samples.append(time.perf_counter() - started)
                failed += r.status_code != 201
            ms = [s * 1000 for s in samples[20:]]
            result["one_p50_ms"] = round(percentile(ms, 50), 1)
            result["one_p95_ms"] = round(percentile(ms, 95), 1)
            result["one_failed"] = failed
        counts = [0, 0]
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + 20

        def client_thread(k: int) -> None:
            local = random.Random(100 + k)
            ok = bad = 0
            with httpx.Client(base_url=base, timeout=60) as c:
                while time.monotonic() < stop:
                    r = c.post("/api/v1/workorders", json=_body(local, storm, anyone), headers=headers)
                    if r.status_code == 201:
                        ok += 1
                    else:
                        bad += 1
                        if len(errors) < 5:
                            errors.append(f"{r.status_code} {r.text[:200]}")
            with lock:
                counts[0] += ok
                counts[1] += bad

        elapsed = run_threads(client_thread, 4)
        result["storm_per_s"] = round(counts[0] / elapsed, 1)
        result["storm_created"] = counts[0]
        result["storm_failed"] = counts[1]
        result["storm_errors"] = errors
    result["raw_per_s"] = _raw_ceiling(url)
    return result


def _raw_ceiling(url: str) -> float:
    """Work-order rows and their first event, one transaction each, from 4 connections: what the
    database itself allows for these tables, with none of the application's work."""
    from sqlalchemy import text

    from gridcare.config import Settings
    from gridcare.db import make_engine

    engine = make_engine(Settings(database_url=url))
    with engine.connect() as conn:
        template = dict(
            conn.execute(
                text(
                    "SELECT station_id, county_id, customer_id, transformer_area_id, village_id, area_class, "
                    "handler_user_id FROM work_orders WHERE customer_id IS NOT NULL ORDER BY id DESC LIMIT 1"
                )
            )
            .mappings()
            .one()
        )
        columns = (
            {c[1] for c in conn.exec_driver_sql("PRAGMA table_info(work_orders)")}
            if url.startswith("sqlite")
            else {
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = 'work_orders'"
                    )
                )
            }
        )
    counts = [0]
    lock = threading.Lock()
    stop = time.monotonic() + 10
    flags = {"step_breached": False, "step_warned": False}

    def writer(k: int) -> None:
        n = 0
        while time.monotonic() < stop:
            number = f"R{k}{time.monotonic_ns()}"[:24]
            row = {
                **template,
                "number": number,
                "business_type": "fault_repair",
                "category": "lv",
                "urgency": "normal",
                "channel": "phone_95598",
                "content": "家里突然没电了，邻居家也没电，请尽快派人抢修",
                "anonymous": False,
                "callback_declined": False,
                "step": "pending_dispatch",
                "priority": 0,
                "is_repeat": False,
                "callback_attempts": 0,
                "imported": False,
                "version": 1,
                **{k2: v for k2, v in flags.items() if k2 in columns},
            }
            stamp = "CURRENT_TIMESTAMP"
            names = ", ".join(row)
            values = ", ".join(f":{c}" for c in row)
            with engine.begin() as conn:
                order_id = conn.execute(
                    text(
                        f"INSERT INTO work_orders ({names}, accepted_at, step_entered_at, created_at, updated_at) "
                        f"VALUES ({values}, {stamp}, {stamp}, {stamp}, {stamp}) RETURNING id"
                    ),
                    row,
                ).scalar_one()
                conn.execute(
                    text(
                        "INSERT INTO work_order_events (order_id, at, action, to_step, step_unit_id) "
                        f"VALUES (:o, {stamp}, 'create', 'pending_dispatch', :s)"
                    ),
                    {"o": order_id, "s": template["station_id"]},
                )
            n += 1
        with lock:
            counts[0] += n

    elapsed = run_threads(writer, 4)
    engine.dispose()
    return round(counts[0] / elapsed, 1)


def part_scan(url: str, backend: str) -> dict[str, Any]:
    from sqlalchemy import create_engine, inspect, text

    from gridcare.config import Settings
    from gridcare.db import make_engine, make_session_factory
    from gridcare.models.types import utcnow
    from gridcare.workorders.tasks import scan_due

    engine = create_engine(url)
    now = utcnow()
    sqlite = backend == "sqlite"
    alarms = "step_alarms" in inspect(engine).get_table_names()
    with engine.begin() as conn:
        open_n = conn.execute(text("SELECT count(*) FROM work_orders")).scalar()
        # Orders past their deadline had their warning raised before (a flag then, no alarm now).
        flags = "" if alarms else ", step_breached = false, step_warned = (step_deadline <= :now)"
        if sqlite:
            stamp = "strftime('%Y-%m-%d %H:%M:%S.000000', julianday(:now) + (id % 200 - 10) * 0.1 {})"
            now_text = now.replace(tzinfo=None).isoformat(sep=" ")
            conn.execute(
                text(f"UPDATE work_orders SET step = 'in_progress', step_deadline = {stamp.format('')}"),
                {"now": now_text},
            )
            conn.execute(
                text(f"UPDATE work_orders SET step_warn_at = {stamp.format('- 1.6')}{flags}"),
                {"now": now_text},
            )
        else:
            offset = "((id % 200) - 10) * interval '0.1 day'"
            conn.execute(
                text(f"UPDATE work_orders SET step = 'in_progress', step_deadline = :now + {offset}"),
                {"now": now},
            )
            conn.execute(
                text(f"UPDATE work_orders SET step_warn_at = step_deadline - interval '1.6 day'{flags}"),
                {"now": now},
            )
        if alarms:  # entering the step writes its alarms
            conn.execute(text("DELETE FROM step_alarms"))
            conn.execute(
                text(
                    "INSERT INTO step_alarms (order_id, kind, at) SELECT id, 'breach', step_deadline "
                    "FROM work_orders"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO step_alarms (order_id, kind, at) SELECT id, 'warning', step_warn_at "
                    "FROM work_orders WHERE step_deadline > :now"
                ),
                {"now": now if not sqlite else now.replace(tzinfo=None).isoformat(sep=" ")},
            )
        conn.execute(text("ANALYZE"))
    if not sqlite:  # what autovacuum does after a million-row UPDATE, before the scan meets the table
        with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    factory = make_session_factory(make_engine(Settings(database_url=url)))
    with factory() as warm:  # the worker's connection is open already: not part of the pass
        warm.execute(text("SELECT 1"))
    started = time.perf_counter()
    first = scan_due(factory, now=now, batch_size=1000)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = scan_due(factory, now=now, batch_size=1000)
    second_s = time.perf_counter() - started
    return {
        "orders": open_n,
        "raised": first.warnings + first.breaches,
        "warnings": first.warnings,
        "breaches": first.breaches,
        "dropped": getattr(first, "dropped", 0),
        "first_s": round(first_s, 2),
        "second_ms": round(second_s * 1000, 1),
        "second_raised": second.warnings + second.breaches,
    }


PARTS = {"creates": part_creates, "scan": part_scan}


# -- the side-by-side run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--parts", default="creates,scan")
    parser.add_argument("--only", choices=["before", "now"], default=None)
    parser.add_argument("--child", choices=sorted(PARTS), default=None)
    parser.add_argument("--url", default=None)
    parser.add_argument("--orders", type=int, default=1_000_000, help="a smaller database for a quick try")
    args = parser.parse_args()
    if args.child:  # one part, in this process, with whichever code is on the path
        print(json.dumps(PARTS[args.child](args.url, args.backend)))
        return

    from benchmarks.common import ensure_order_history
    from gridcare import migrate

    name = NAME if args.orders == 1_000_000 else f"gridcare_bench_storm_{args.orders}"
    url = ensure_order_history(args.backend, name, customers=max(args.orders // 5, 1000), orders=args.orders)
    migrate.upgrade(url)
    for part in args.parts.split(","):
        figures = {}
        for side in ("before", "now"):
            if args.only and side != args.only:
                continue
            # Each side on a fresh copy of the same data: a part changes what it runs on.
            copy = copy_database(args.backend, name, f"{name}_{side}")
            if side == "before":
                migrate.downgrade(copy, "0006")
            figures[side] = run_part(
                before_tree() if side == "before" else ROOT, part, copy, args.backend, []
            )
            print(
                f"[{part}] {args.backend} {side}: {json.dumps(figures[side], ensure_ascii=False)}", flush=True
            )


if __name__ == "__main__":
    main()
