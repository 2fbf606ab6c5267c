"""The demo's work-order history has the shapes of docs/domain.md §11."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridcare.calendar import BEIJING, WorkCalendar, builtin_years
from gridcare.demo.history import ORDER_COLUMNS, History, Staff
from gridcare.demo.province import build_province
from gridcare.sla.policy import Rule
from gridcare.workorders.defaults import SLA_RULES
from gridcare.workorders.process import LOG

EVENT_COLUMNS = ("id", *LOG.columns())  # the rows the demo hands to the engine's log

SHARES_L1 = {"TS04": 45.14, "TS02": 23.29, "TS01": 23.05, "TS03": 4.74, "TS05": 3.78}


@pytest.fixture(scope="module")
def generated() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    province = build_province(customers=50_000, seed=3, password_hash="x", created_at="t")
    units = {r[0]: r for r in province.rows["units"]}
    staff = Staff(
        agents=[1],
        dispatcher_of_county={},
        area_manager={int(a[0]): int(a[8]) for a in province.rows["transformer_areas"]},  # type: ignore[call-overload]
        county_of_station={int(k): int(r[4]) for k, r in units.items() if r[3] == "station"},  # type: ignore[call-overload]
    )
    rules = [Rule(t, c, s, a, u, v, unit, anchor, 0.8) for t, c, s, a, u, v, unit, anchor in SLA_RULES]
    end = datetime(2026, 6, 30, tzinfo=UTC)
    history = History(
        areas=province.areas,
        staff=staff,
        rules=rules,
        calendar=WorkCalendar(builtin_years()),
        seed=3,
        start=end - timedelta(days=365),
        end=end,
        orders=60_000,
        fmt=lambda d: d,
    )
    orders = [dict(zip(ORDER_COLUMNS, row, strict=True)) for row in history.rows()]
    events = [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in history.take_events()]
    return orders, events


def test_complaint_shares_by_first_level_category(
    generated: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    orders, _ = generated
    complaints = [o for o in orders if o["business_type"] == "complaint"]
    assert len(complaints) > 4000
    by_l1 = Counter(o["category"][:4] for o in complaints)
    for l1, share in SHARES_L1.items():
        assert abs(100 * by_l1[l1] / len(complaints) - share) < 2, (l1, by_l1)
    frequent = sum(o["category"] == "TS040101" for o in complaints)
    assert abs(100 * frequent / len(complaints) - 39.04) < 2


def test_urban_rural_and_hours(generated: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    orders, _ = generated
    complaints = [o for o in orders if o["business_type"] == "complaint"]
    urban = sum(o["area_class"] == "urban" for o in complaints) / len(complaints)
    assert abs(urban - 0.40) < 0.03
    hours = Counter(o["accepted_at"].astimezone(BEIJING).hour for o in orders)
    assert {h for h, _ in hours.most_common(3)} == {19, 11, 17}
    assert hours[3] < hours[19] / 10  # few calls at night


def test_contacting_the_customer_is_the_step_most_often_late(
    generated: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    _, events = generated
    late: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for e in events:
        if e["to_step"] is not None and e["step_late"] is not None:
            total[e["from_step"]] += 1
            late[e["from_step"]] += e["step_late"]
    rates = {step: late[step] / total[step] for step in total}
    assert max(rates, key=lambda s: rates[s]) == "pending_contact"
    assert 0.01 < sum(late.values()) / sum(total.values()) < 0.15


def test_repeats_hotspots_and_varied_texts(
    generated: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    orders, _ = generated
    assert sum(o["is_repeat"] for o in orders) > 50
    by_area = Counter(o["transformer_area_id"] for o in orders if o["category"] == "TS040101")
    customers_in_hot = {
        o["customer_id"]
        for o in orders
        if o["category"] == "TS040101" and o["transformer_area_id"] == by_area.most_common(1)[0][0]
    }
    assert len(customers_in_hot) >= 5  # a hotspot 台区: many different customers complain
    texts = {o["content"] for o in orders if o["category"] == "TS040101"}
    assert len(texts) > 100
    assert all(o["number"][:8].isdigit() for o in orders[:100])
    numbers = [o["number"] for o in orders]
    assert len(set(numbers)) == len(numbers)
