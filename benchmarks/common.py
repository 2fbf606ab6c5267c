"""Helpers shared by the benchmarks: databases to measure on, a real server process, percentiles."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from gridcare import migrate
from gridcare.demo.loader import load_demo

try:  # the benchmarks call the services directly: every hook subscription first
    from gridcare import wiring
except ImportError:  # older code measured side by side (benchmarks/storm.py) has no hooks
    wiring = None
if wiring is not None:
    wiring.load()
WORK = Path(__file__).parent / ".work"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def database_url(backend: str, name: str) -> str:
    if backend == "sqlite":
        WORK.mkdir(exist_ok=True)
        return f"sqlite:///{WORK / (name + '.db')}"
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def recreate(backend: str, name: str) -> str:
    """An empty database of that name (dropped first if it exists)."""
    url = database_url(backend, name)
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(WORK / name) + ".db" + suffix).unlink(missing_ok=True)
        return url
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url


def rows_in(url: str, table: str) -> int:
    """Rows in a benchmark table; 0 when the database or table does not exist yet."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return 0
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            found = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        engine.dispose()
        return int(found or 0)
    except Exception:  # no such database or table yet
        return 0


def ensure_order_history(
    backend: str, name: str, *, customers: int, orders: int, prepare: Callable[[Engine], None] | None = None
) -> str:
    """The benchmark database `name` holding the demo with `orders` orders of 12 months' history, built
    (then `prepare`d) only when it does not hold them yet."""
    url = database_url(backend, name)
    if rows_in(url, "work_orders") >= orders:
        return url
    url = recreate(backend, name)
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    result = load_demo(engine, customers=customers, seed=95598, months=12, orders=orders)
    if prepare is not None:
        prepare(engine)
    engine.dispose()
    print(
        f"[setup] {backend}: {result.counts['work_orders']:,} orders, {result.counts['work_order_events']:,} events "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return url


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary_ms(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"n={len(ms)} p50={percentile(ms, 50):.2f} ms  p95={percentile(ms, 95):.2f} ms  "
        f"p99={percentile(ms, 99):.2f} ms  mean={statistics.mean(ms):.2f} ms"
    )


def run_threads(target: Callable[[int], None], count: int) -> float:
    """`target(0)` … `target(count - 1)` each on its own thread; the seconds until the last ends."""
    threads = [threading.Thread(target=target, args=(k,)) for k in range(count)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


@contextmanager
def server(url: str, *, workers: int = 1) -> Iterator[str]:
    """`gridcare serve` as a separate process (`workers` processes) on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "GRIDCARE_DATABASE_URL": url,
        "GRIDCARE_SECRET_KEY": "benchmark-secret-key-0123456789-abcdefghij",
        # One demo user drives every request: the per-user rate limit would measure itself.
        "GRIDCARE_API_RATE_PER_MINUTE": "0",
        # The background jobs would compete with what is measured (a benchmark runs them itself).
        "GRIDCARE_SERVE_JOBS": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridcare.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
