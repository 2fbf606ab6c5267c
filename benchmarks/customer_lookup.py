"""Benchmark: customer lookups agents make all day, at 1,000,000 customers, over real HTTP.

Loads the 1M demo into `gridcare_bench_1m` if it isn't there, starts `gridcare serve` as its own
process, logs in as the demo agent and times GET /api/v1/customers?q=<户号 | phone> one request at a
time (the latency a single agent sees), plus name-prefix and address-fragment searches.

    python -m benchmarks.customer_lookup --backend sqlite
    python -m benchmarks.customer_lookup --backend postgresql
"""

from __future__ import annotations

import argparse
import random
import time

import httpx
from sqlalchemy import create_engine, text

from benchmarks.common import database_url, rows_in, server, summary_ms
from benchmarks.demo_load import run as load
from gridcare.demo.province import DEMO_PASSWORD

SIZE = 1_000_000


def timed(client: httpx.Client, headers: dict[str, str], params_list: list[dict[str, str]]) -> list[float]:
    samples = []
    for params in params_list:
        started = time.perf_counter()
        r = client.get("/api/v1/customers", params=params, headers=headers)
        samples.append(time.perf_counter() - started)
        assert r.status_code == 200, r.text
        assert r.json()["items"] or "name" in params or "address" in params, params
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    name = "gridcare_bench_1m"
    url = database_url(args.backend, name)
    if rows_in(url, "customers") != SIZE:
        load(args.backend, SIZE, 95598, name)
    engine = create_engine(url)
    with engine.connect() as conn:
        sample = conn.execute(
            text(
                "SELECT account_no, phone, name, address FROM customers WHERE phone IS NOT NULL "
                "AND id % 397 = 0 LIMIT :n"
            ),
            {"n": args.requests},
        ).all()
    engine.dispose()
    rng = random.Random(1)
    rng.shuffle(sample)
    with server(url) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "agent", "password": DEMO_PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        timed(client, headers, [{"q": row.account_no} for row in sample[:100]])  # warm up
        results = {
            "户号 (q=account_no)": timed(client, headers, [{"q": row.account_no} for row in sample]),
            "phone (q=phone)": timed(client, headers, [{"q": row.phone} for row in sample]),
            "name prefix (name=2 chars)": timed(
                client, headers, [{"name": row.name[:2]} for row in sample[:300]]
            ),
            "address fragment (address=4 chars)": timed(
                client, headers, [{"address": row.address[-8:-4]} for row in sample[:300]]
            ),
        }
    for label, samples in results.items():
        print(f"[lookup] {args.backend} {label}: {summary_ms(samples)}")


if __name__ == "__main__":
    main()
