"""Benchmark: load the demo province with N customers into a fresh database (no work-order history
unless --months is given: the figure in the README is the customer load).

python -m benchmarks.demo_load --customers 1000000 --backend sqlite
python -m benchmarks.demo_load --customers 1000000 --backend postgresql
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import create_engine

from benchmarks.common import recreate
from gridcare import migrate
from gridcare.demo.loader import load_demo


def run(backend: str, customers: int, seed: int, name: str, months: int = 0) -> float:
    url = recreate(backend, name)
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    result = load_demo(engine, customers=customers, seed=seed, months=months)
    elapsed = time.perf_counter() - started
    engine.dispose()
    print(
        f"[demo load] {backend}: {customers:,} customers, {result.counts['transformer_areas']:,} 台区 "
        f"in {elapsed:.1f} s ({customers / elapsed:,.0f} customers/s)"
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=95598)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--name", default="gridcare_bench_1m")
    parser.add_argument("--months", type=int, default=0, help="also generate this many months of work orders")
    args = parser.parse_args()
    run(args.backend, args.customers, args.seed, args.name, args.months)


if __name__ == "__main__":
    main()
