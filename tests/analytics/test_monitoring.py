"""The monitoring report on a month small enough to count by hand (see conftest.hand_month_rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from gridcare.auth.principal import SYSTEM
from gridcare.config import Settings
from gridcare.errors import InvalidInput, NotFound
from gridcare.models import Customer
from gridcare.workorders.transfer import import_orders
from tests.analytics.conftest import HandMonth, ReportFn, write_export


def by(rows: list[dict], key: str) -> dict:
    return {r[key]: r for r in rows}


def test_counts_shares_and_comparisons(hand_month: HandMonth, report: ReportFn) -> None:
    r = report("2025-03-01", "2025-03-31", hand_month.city)
    assert r["period"]["previous"] == {"from": "2025-02-01", "to": "2025-02-28"}
    assert r["period"]["last_year"] == {"from": "2024-03-01", "to": "2024-03-31"}
    t = r["totals"]
    assert (t["orders"], t["complaints"], t["customers"]) == (7, 5, 4)
    assert (t["previous"]["orders"], t["last_year"]["orders"]) == (1, 1)
    assert t["change"] == {
        "orders_vs_previous": 600.0,
        "complaints_vs_previous": 400.0,
        "orders_vs_last_year": 600.0,
        "complaints_vs_last_year": 400.0,
    }
    types = by(r["by_type"], "type")
    assert (types["complaint"]["count"], types["complaint"]["share"]) == (5, 71.43)
    assert (types["fault_repair"]["count"], types["opinion"]["count"], types["praise"]["count"]) == (1, 1, 0)
    l1 = {x["name"]: (x["count"], x["share"]) for x in r["complaints_by_category"]["l1"]}
    assert l1 == {"服务投诉": (3, 60.0), "供电质量投诉": (1, 20.0), "营业投诉": (1, 20.0)}
    l3 = {x["name"]: x["count"] for x in r["complaints_by_category"]["l3"]}
    assert l3 == {"营业厅人员服务态度": 3, "频繁停电": 1, "电费": 1}
    areas = by(r["by_area_class"], "area_class")
    assert (areas["rural"]["orders"], areas["rural"]["complaints"], areas["rural"]["complaint_share"]) == (
        4,
        2,
        40.0,
    )
    assert (areas["urban"]["orders"], areas["urban"]["complaints"], areas["remote"]["orders"]) == (3, 3, 0)
    hours = {h["hour"]: (h["orders"], h["complaints"]) for h in r["by_hour"] if h["orders"]}
    assert hours == {8: (1, 0), 9: (1, 0), 10: (2, 2), 11: (1, 1), 17: (1, 1), 19: (1, 1)}
    days = {d["name"]: d["orders"] for d in r["by_weekday"] if d["orders"]}
    assert days == {"周一": 3, "周四": 1, "周五": 1, "周六": 1, "周日": 1}
    counties = {
        u["name"]: (u["orders"], u["complaints"], u["customers"], u["complaints_per_10k"])
        for u in r["by_unit"]["counties"]
    }
    assert counties == {hand_month.county_a: (5, 5, 3, 16666.67), hand_month.county_b: (2, 0, 1, 0.0)}
    assert [s["name"] for s in r["by_unit"]["stations"]] == [hand_month.station_a, hand_month.station_b]
    assert r["complaints_per_10k"] == 12500.0


def test_hotspots_and_callers(
    hand_month: HandMonth, report: ReportFn, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as s:  # the snapshot picks up customer changes by updated_at
        s.execute(
            update(Customer)
            .where(Customer.account_no == hand_month.customers["c3"])
            .values(is_sensitive=True, updated_at=datetime.now(UTC))
        )
        s.commit()
    r = report("2025-03-01", "2025-03-31", hand_month.city)
    h = r["hotspots"]
    assert [(x["code"], x["customers"], x["complaints"]) for x in h["multi_customer"]] == [
        (hand_month.t1, 2, 2)
    ]
    assert [(x["code"], x["months"]) for x in h["consecutive_months"]] == [
        (hand_month.t1, ["2025-02", "2025-03"])
    ]
    assert [(x["code"], x["complaints"], x["last_year_complaints"]) for x in h["same_month_last_year"]] == [
        (hand_month.t2, 3, 1)
    ]
    assert h["multi_customer"][0]["station"] == hand_month.station_a
    # Repeat calls: O1 repeats O6 (11 days earlier), O8 and O9 repeat O3.
    assert (r["totals"]["repeat_calls"], r["repeat_call_rate"]) == (3, 42.86)
    repeat = r["repeat_callers"]
    assert (repeat["customers"], repeat["orders"]) == (2, 5)
    assert [(c["account_no"], c["orders"], c["complaints"]) for c in repeat["top"]] == [
        (hand_month.customers["c3"], 3, 3),
        (hand_month.customers["c4"], 2, 0),
    ]
    sensitive = r["sensitive_customers"]
    assert (sensitive["customers"], sensitive["orders"], sensitive["complaints"]) == (1, 3, 3)


def test_step_durations_and_overdue(hand_month: HandMonth, report: ReportFn) -> None:
    r = report("2025-03-01", "2025-03-31", hand_month.city)
    steps = by(r["steps"]["by_step"], "step")
    figures = {
        k: (
            v["count"],
            v["median_minutes"],
            v["p90_minutes"],
            v["max_minutes"],
            v["late"],
            v["open_overdue"],
            v["overdue_rate"],
        )
        for k, v in steps.items()
    }
    assert figures == {
        # 10, 30, 10, 1, 105 minutes; O2 late (20-minute limit); O8 and O9 still waiting, overdue.
        "pending_dispatch": (5, 10.0, 75.0, 105.0, 1, 2, 50.0),
        # 20, 30, 2 minutes; O3 still waiting past its 2-hour limit.
        "pending_accept": (3, 20.0, 28.0, 30.0, 0, 1, 25.0),
        # O1 took 26 h against 24 h; O2 60 min; O4 27 min.
        "pending_contact": (3, 60.0, 1260.0, 1560.0, 1, 0, 33.33),
        "in_progress": (3, 1255.0, 1995.0, 2180.0, 0, 0, 0.0),
        "pending_review": (3, 0.0, 0.0, 0.0, 0, 0, None),
        "pending_callback": (3, 240.0, 288.0, 300.0, 0, 0, 0.0),
        "pending_archive": (3, 60.0, 60.0, 60.0, 0, 0, 0.0),
    }
    assert r["steps"]["most_overdue"] == {"step": "pending_dispatch", "name": "待派单", "overdue": 3}
    assert r["steps"]["highest_overdue_rate"]["step"] == "pending_dispatch"
    per_unit = {(u["unit"], u["step"]): u["count"] for u in r["steps"]["by_unit"]}
    assert per_unit[(hand_month.county_a, "pending_dispatch")] == 3
    assert per_unit[(hand_month.county_b, "pending_dispatch")] == 2


def test_satisfaction_and_service_index(hand_month: HandMonth, report: ReportFn) -> None:
    r = report("2025-03-01", "2025-03-31", hand_month.city)
    # 满意 + 非常满意 of 3 rated (one 不满意).
    assert r["satisfaction_rate"] == 66.67
    # Handled: O1 O2 O3 O5 O8 O9 (fault repair left out); one event (O3, O8, O9) with three calls;
    # satisfaction 28.33 points under 95 → 283 whole tenths → less 28.3.
    assert r["service_index"] == {
        "value": 55.03,
        "orders_handled": 6,
        "events_with_3_calls": 1,
        "satisfaction_deduction": 28.3,
    }


def test_a_station_sees_its_own_share(hand_month: HandMonth, report: ReportFn) -> None:
    r = report("2025-03-01", "2025-03-31", hand_month.station_b)
    assert r["unit"]["kind"] == "station"
    assert (r["totals"]["orders"], r["totals"]["complaints"], r["totals"]["customers"]) == (2, 0, 1)
    assert r["by_unit"]["counties"] == []
    assert r["steps"]["unit_level"] == "station"


def test_changes_after_a_report_appear_in_the_next(
    hand_month: HandMonth,
    report: ReportFn,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    first = report("2025-03-01", "2025-03-31", hand_month.city)
    extra = {
        "工单编号": hand_month.numbers["O1"] + "X",
        "业务类型": "投诉",
        "受理时间": "2025-03-30 21:00",
        "户号": hand_month.customers["c4"],
        "市公司": hand_month.city,
        "县公司": hand_month.county_b,
        "供电单位": hand_month.station_b,
        "城乡类别": "农村",
        "台区编号": hand_month.t3,
        "一级分类": "电网建设投诉",
    }
    with session_factory() as s:
        import_orders(
            s, principal=SYSTEM, settings=settings, path=write_export(tmp_path / "more.csv", [extra])
        )
        s.commit()
    second = report("2025-03-01", "2025-03-31", hand_month.city)
    assert second["totals"]["complaints"] == first["totals"]["complaints"] + 1
    assert datetime.fromisoformat(second["refreshed_at"]) > datetime.fromisoformat(first["refreshed_at"])
    assert datetime.fromisoformat(second["refreshed_at"]) > datetime.now(UTC) - timedelta(minutes=1)
    l1 = {x["name"]: x["count"] for x in second["complaints_by_category"]["l1"]}
    assert l1["电网建设投诉"] == 1


def test_bad_period_and_unit(report: ReportFn, hand_month: HandMonth) -> None:
    with pytest.raises(InvalidInput, match="早于"):
        report("2025-03-31", "2025-03-01", hand_month.city)
    with pytest.raises(NotFound):
        report("2025-03-01", "2025-03-31", "没有这个单位")


def test_plain_computation_agrees_on_the_hand_month(
    hand_month: HandMonth, report: ReportFn, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    from datetime import date

    from benchmarks.plain_report import plain_report

    fast = report("2025-03-01", "2025-03-31", hand_month.city)
    with session_factory() as s:
        plain = plain_report(
            s,
            settings=settings,
            start=date(2025, 3, 1),
            end=date(2025, 3, 31),
            unit=hand_month.city,
            refreshed_at=fast["refreshed_at"],
        )
    assert plain == fast
