"""On demo data generated with the docs/domain.md §11 shares, the report gives them back within 2 points;
the DuckDB report and the plain computation (pandas over the operational database) agree exactly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gridcare import migrate
from gridcare.analytics import rollups
from gridcare.analytics import snapshot as snapshot_module
from gridcare.analytics.service import monitoring_report
from gridcare.analytics.snapshot import remove
from gridcare.auth.principal import SYSTEM
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.db import make_engine, make_session_factory
from gridcare.demo.loader import load_demo
from gridcare.models import Customer, WorkOrder
from gridcare.models.types import utcnow
from gridcare.workorders import actions, service
from gridcare.workorders.schemas import (
    CallbackBody,
    ReplyBody,
    ReviewBody,
    UrgeBody,
    Versioned,
    WorkOrderCreate,
)
from tests.conftest import ScratchDatabases

# One quarter of a province's complaints (docs/domain.md §11).
SHARES_L1 = {
    "供电质量投诉": 45.14,
    "营业投诉": 23.29,
    "服务投诉": 23.05,
    "停送电投诉": 4.74,
    "电网建设投诉": 3.78,
}
IRREGULAR_SERVICE = ("TS010105", "TS010106", "TS010107", "TS010108")  # the 服务规范 leaves
VOLTAGE = ("TS040201", "TS040202")
URBAN_SHARE = 152 / 378 * 100


@dataclass
class Demo:
    settings: Settings
    engine: Engine
    start: date
    end: date


@pytest.fixture(scope="module")
def demo(scratch_databases: ScratchDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    url = scratch_databases.create()
    migrate.upgrade(url)
    folder = tmp_path_factory.mktemp("calibration")
    settings = Settings(
        database_url=url, analytics_path=Path(folder) / "snapshot.duckdb", secret_key="x" * 32
    )
    engine = make_engine(settings)
    load_demo(engine, customers=3000, seed=11, months=12, orders=40_000)
    today = utcnow().astimezone(BEIJING).date()
    yield Demo(settings, engine, today - timedelta(days=364), today)
    engine.dispose()


def run(demo: Demo) -> dict[str, Any]:
    with make_session_factory(demo.engine)() as session:
        return monitoring_report(
            session, principal=SYSTEM, settings=demo.settings, start=demo.start, end=demo.end, unit=None
        )


def test_shares_of_domain_section_11_come_back(demo: Demo) -> None:
    r = run(demo)
    complaints = r["totals"]["complaints"]
    assert complaints > 3000
    l1 = {x["name"]: x["share"] for x in r["complaints_by_category"]["l1"]}
    for name, share in SHARES_L1.items():
        assert abs(l1[name] - share) <= 2, (name, l1[name], share)
    l3 = {x["code"]: x["count"] for x in r["complaints_by_category"]["l3"]}
    assert abs(l3["TS040101"] * 100 / complaints - 39.04) <= 2  # frequent outages
    assert abs(sum(l3.get(c, 0) for c in IRREGULAR_SERVICE) * 100 / complaints - 17.27) <= 2
    assert abs(sum(l3.get(c, 0) for c in VOLTAGE) * 100 / complaints - 6.02) <= 2
    urban = {x["area_class"]: x["complaint_share"] for x in r["by_area_class"]}
    assert abs(urban["urban"] - URBAN_SHARE) <= 2
    assert abs(urban["rural"] + urban["remote"] - (100 - URBAN_SHARE)) <= 2
    peaks = sorted(r["by_hour"], key=lambda h: -h["complaints"])[:3]
    assert {h["hour"] for h in peaks} == {19, 11, 17}
    assert r["steps"]["most_overdue"]["step"] == "pending_contact"
    assert r["hotspots"]["multi_customer"]
    assert r["hotspots"]["consecutive_months"]


def test_plain_computation_agrees(demo: Demo) -> None:
    from benchmarks.plain_report import plain_report

    fast = run(demo)
    with make_session_factory(demo.engine)() as session:
        plain = plain_report(
            session,
            settings=demo.settings,
            start=demo.start,
            end=demo.end,
            unit=None,
            refreshed_at=fast["refreshed_at"],
        )
    fast.pop("refreshed_at")
    plain.pop("refreshed_at")
    for key in fast:
        assert plain[key] == fast[key], key


def _move_forward(session: Session, settings: Settings, order: WorkOrder) -> bool:
    """Take the order one step along its workflow as the system; False when nothing applies."""
    allowed = actions.available_actions(session, SYSTEM, order)
    for action in ("dispatch", "accept", "contact", "reply", "review", "callback", "archive"):
        if action not in allowed:
            continue
        body: Versioned
        if action == "reply":
            body = ReplyBody(version=order.version, reply="已处理")
        elif action == "review":
            body = ReviewBody(version=order.version, passed=True)
        elif action == "callback":
            body = CallbackBody(version=order.version, reached=True, satisfaction="dissatisfied")
        else:
            body = Versioned(version=order.version)
        actions.perform(
            session, principal=SYSTEM, settings=settings, order_id=order.id, action=action, body=body
        )
        return True
    return False


def test_incremental_refresh_equals_a_rebuild_and_the_plain_computation(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders moved on, rated and taken after the snapshot was built change the monthly rollups by
    deltas (folded at once here), and the months the new steps fell in are sorted again; the next
    report must equal one from a snapshot built afresh and the plain computation, over whole months,
    edge days and a period inside one month."""
    from benchmarks.plain_report import plain_report

    run(demo)  # the snapshot exists and is current
    monkeypatch.setattr(snapshot_module, "CLUSTER_ROWS", 10)
    monkeypatch.setattr(rollups, "COMPACT_FACTOR", 1)  # and the deltas are folded at once
    monkeypatch.setattr(rollups, "COMPACT_SLACK", 0)
    factory = make_session_factory(demo.engine)
    with factory() as s:
        open_orders = s.scalars(
            select(WorkOrder)
            .where(WorkOrder.step.not_in(("archived", "merged")))
            .order_by(WorkOrder.id)
            .limit(60)
        ).all()
        moved = sum(_move_forward(s, demo.settings, o) for o in open_orders)
        accounts = s.scalars(select(Customer.account_no).order_by(Customer.id).limit(15)).all()
        # Five call twice (repeat callers); one calls 60 times and then urges the last call three
        # times: a chain of repeat calls longer than any fixed number of link-following steps, with
        # a branch at its end, which must still be one event.
        last = None
        for account in [*accounts, *accounts[:5], *[accounts[14]] * 60]:
            data = WorkOrderCreate(
                business_type="complaint", category="TS040101", content="两个月停电三次", account_no=account
            )
            last = service.create(s, principal=SYSTEM, settings=demo.settings, data=data).order
        assert last is not None
        for _ in range(3):
            actions.urge(
                s,
                principal=SYSTEM,
                settings=demo.settings,
                order_id=last.id,
                body=UrgeBody(content="催促处理"),
            )
        s.commit()
    assert moved > 20

    today = demo.end
    periods = [
        (demo.start, demo.end),
        (date(today.year, today.month, 1) - timedelta(days=75), today),
        (today - timedelta(days=today.day - 1), today),
    ]
    incremental = [run_for(demo, start, end) for start, end in periods]
    remove(demo.settings.analytics_path)  # type: ignore[arg-type]
    rebuilt = [run_for(demo, start, end) for start, end in periods]
    for (start, end), fast, fresh in zip(periods, incremental, rebuilt, strict=True):
        with factory() as s:
            plain = plain_report(
                s, settings=demo.settings, start=start, end=end, unit=None, refreshed_at=fast["refreshed_at"]
            )
        fast.pop("refreshed_at")
        fresh.pop("refreshed_at")
        plain.pop("refreshed_at")
        for key in fast:
            assert fresh[key] == fast[key], (start, end, key)
            assert plain[key] == fast[key], (start, end, key)


def run_for(demo: Demo, start: date, end: date) -> dict[str, Any]:
    with make_session_factory(demo.engine)() as session:
        return monitoring_report(
            session, principal=SYSTEM, settings=demo.settings, start=start, end=end, unit=None
        )
