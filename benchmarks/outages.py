"""Benchmark: outages at province scale (issue targets: a feeder outage affecting 50,000 customers —
affected set computed and 50,000 outbox rows committed — in under 3 s; CEMI-2 over 1,000,000 customers
and a year of outages in under 10 s; the worker delivering at least 1,000 notices a second to a local
HTTP sink).

    python -m benchmarks.outages --backend sqlite
    python -m benchmarks.outages --backend postgresql

Builds `gridcare_bench_outages` once: the demo province with 1,000,000 customers (no order history),
one feeder re-wired to carry 50,000 customers, and a year of outages on the other feeders (3–9
sustained interruptions each, as restored faults and planned work). Then, in one run:

1. a fault outage on the 50,000-customer feeder entered through the service (affected customers kept,
   one SMS notice per customer and a digest per village liaison queued in the outbox, committed);
2. SAIFI, SAIDI, CAIDI, RS-1 and CEMI-1/2/3 over the whole province and the last 12 months;
3. `gridcare deliver --once` in its own process sending everything queued to a local HTTP gateway
   (signed JSON batches over HTTP/1.1 keep-alive) and recording each outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import Engine, create_engine, func, select, update

from benchmarks.common import database_url, recreate, rows_in
from gridcare import migrate
from gridcare.auth.principal import SYSTEM
from gridcare.bulk import reset_sequences
from gridcare.config import Settings
from gridcare.db import make_session_factory
from gridcare.demo.loader import load_demo
from gridcare.demo.outages import HISTORY_TITLE, outage_history
from gridcare.models import (
    Customer,
    Feeder,
    Outage,
    OutboxMessage,
    Substation,
    TransformerArea,
    Unit,
)
from gridcare.models.types import utcnow
from gridcare.outages import reliability, service
from gridcare.outages.schemas import OutageCreate, OutageScope

NAME = "gridcare_bench_outages"
CUSTOMERS = 1_000_000
FEEDER_CUSTOMERS = 50_000
BIG_FEEDER = "BENCH-F50K"
SECRET = "bench-sink-secret"  # the local gateway's signing secret


def ensure_province(backend: str, customers: int) -> str:
    name = NAME if customers == CUSTOMERS else f"{NAME}_{customers}"
    url = database_url(backend, name)
    if rows_in(url, "customers") >= customers:
        return url
    url = recreate(backend, name)
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    load_demo(engine, customers=customers, seed=60606, months=0, orders=0)
    engine.dispose()
    print(f"[setup] {backend}: {customers:,} customers in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def ensure_big_feeder(factory: object, size: int) -> int:
    """A feeder carrying 50,000 customers: whole 台区 moved onto it, in id order, until it does."""
    with factory() as s:  # type: ignore[operator]
        found = s.scalar(select(Feeder.id).where(Feeder.code == BIG_FEEDER))
        if found is not None:
            return int(found)
        substation = s.scalars(select(Substation).order_by(Substation.id)).first()
        feeder = Feeder(code=BIG_FEEDER, name="10kV基准测试线", substation_id=substation.id)
        s.add(feeder)
        s.flush()
        county_stations = select(Unit.id).where(Unit.parent_id == substation.county_id)
        sizes = s.execute(
            select(TransformerArea.id, func.count(Customer.id))
            .join(Customer, Customer.transformer_area_id == TransformerArea.id)
            .where(TransformerArea.station_id.in_(county_stations))
            .group_by(TransformerArea.id)
            .order_by(TransformerArea.id)
        ).all()
        chosen, total = [], 0
        for area_id, count in sizes:
            chosen.append(area_id)
            total += int(count)
            if total >= size:
                break
        s.execute(
            update(TransformerArea)
            .where(TransformerArea.id.in_(chosen))
            .values(feeder_id=feeder.id, branch_switch_id=None)
        )
        s.commit()
        print(f"[setup] feeder {BIG_FEEDER}: {len(chosen)} 台区, {total:,} customers", flush=True)
        return feeder.id


def ensure_year_of_outages(engine: Engine, big_feeder: int) -> None:
    """3–9 restored outages per feeder over the last 12 months (the demo's generator), with the
    customers they reached."""
    with engine.connect() as conn:
        if conn.execute(
            select(func.count()).select_from(Outage).where(Outage.title == HISTORY_TITLE)
        ).scalar():
            return
    started = time.perf_counter()
    with engine.begin() as conn:
        outages, links = outage_history(
            conn, seed=366, now=utcnow(), per_feeder=(3, 9), skip_feeders={big_feeder}
        )
        reset_sequences(conn, ["outages"])
    print(
        f"[setup] {outages:,} outages, {links:,} customer interruptions in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


class _Gateway:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.delivered: set[str] = set()
        self.repeats = 0
        self.requests = 0


@contextmanager
def local_gateway() -> Iterator[tuple[str, _Gateway]]:
    """An SMS gateway on localhost: answers each batch per message, keeps the ids it delivered."""
    gateway = _Gateway()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            messages = json.loads(body)["messages"]
            with gateway.lock:
                gateway.requests += 1
                for m in messages:
                    if m["id"] in gateway.delivered:
                        gateway.repeats += 1
                    gateway.delivered.add(m["id"])
            answer = json.dumps({"results": [{"id": m["id"], "ok": True} for m in messages]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sms/send", gateway
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, default=CUSTOMERS, help="a smaller province for a quick try")
    parser.add_argument("--feeder-customers", type=int, default=FEEDER_CUSTOMERS)
    args = parser.parse_args()

    url = ensure_province(args.backend, args.customers)
    engine = create_engine(url, pool_size=2)
    factory = make_session_factory(engine)
    big = ensure_big_feeder(factory, args.feeder_customers)
    ensure_year_of_outages(engine, big)

    with local_gateway() as (sink_url, gateway):
        settings = Settings(
            database_url=url,
            secret_key="benchmark-secret-key-0123456789-abcdefghij",
            customer_channels="sms",
            liaison_channel="sms",
            sms_url=sink_url,
            sms_secret=SECRET,
        )
        with engine.begin() as conn:  # earlier runs' notices are not this run's to deliver
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "pending")
                .values(status="failed", last_error="基准：上次运行遗留")
            )
        entry = []
        queued = 0
        for _ in range(args.runs):
            start = utcnow()
            data = OutageCreate(
                kind="fault",
                title="基准：线路故障",
                cause="10kV线路故障",
                scope=OutageScope(feeders=[big]),
                planned_start=start,
                planned_end=start + timedelta(hours=4),
            )
            began = time.perf_counter()
            with factory() as s:
                outage = service.create(s, principal=SYSTEM, settings=settings, data=data, now=start)
                s.commit()
                affected = outage.affected_customers
            entry.append(time.perf_counter() - began)
            with factory() as s:
                rows = s.scalar(select(func.count()).where(OutboxMessage.outage_id == outage.id)) or 0
            queued += rows
            print(
                f"fault outage on the feeder: {affected:,} customers, {rows:,} outbox rows committed in {entry[-1]:.2f} s",
                flush=True,
            )
        print(
            f"→ feeder outage (median of {args.runs}): {statistics.median(entry):.2f} s (target 3 s)",
            flush=True,
        )

        year_end = utcnow()
        year_start = year_end - timedelta(days=365)
        cemi = []
        figures: dict[str, object] = {}
        for _ in range(args.runs):
            began = time.perf_counter()
            with factory() as s:
                figures = reliability.indices(s, start=year_start, end=year_end, where=reliability.Where())
            cemi.append(time.perf_counter() - began)
        print(
            f"→ reliability over {figures['customers_served']:,} customers, {figures['interruptions']:,} interruptions: "
            f"{statistics.median(cemi):.2f} s (median of {args.runs}; target 10 s); SAIFI {figures['saifi']}, "
            f"SAIDI {figures['saidi_hours']} h, CEMI {figures['cemi']}",
            flush=True,
        )

        env = {
            **os.environ,
            "GRIDCARE_DATABASE_URL": url,
            "GRIDCARE_SMS_URL": sink_url,
            "GRIDCARE_SMS_SECRET": SECRET,
            "GRIDCARE_CUSTOMER_CHANNELS": "sms",
        }
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "gridcare.cli", "deliver", "--once"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - began
        if done.returncode != 0:
            print(done.stderr)
        with factory() as s:
            sent = (
                s.scalar(
                    select(func.count()).where(
                        OutboxMessage.status == "sent", OutboxMessage.sent_at >= year_end
                    )
                )
                or 0
            )
        # The worker prints each round's own time ("（12.34 秒）"): delivery without the process start.
        working = sum(float(x) for x in re.findall(r"（([0-9.]+) 秒）", done.stdout)) or seconds
        print(
            f"→ delivery: {sent:,} of {queued:,} queued notices sent (the rest: customers without a phone) by "
            f"`gridcare deliver --once`: {working:.1f} s delivering = {sent / working:,.0f} notices/s "
            f"(target 1,000/s); {seconds:.1f} s with the process start; the gateway got "
            f"{len(gateway.delivered):,} distinct ids in {gateway.requests:,} requests, {gateway.repeats} repeats",
            flush=True,
        )
    engine.dispose()


if __name__ == "__main__":
    main()
