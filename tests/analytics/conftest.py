"""Fixtures for reports: a small hand-made month imported from a 95598 export, and report helpers."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gridcare.analytics.service import monitoring_report
from gridcare.auth.principal import SYSTEM
from gridcare.config import Settings
from gridcare.workorders.transfer import COLUMNS, import_orders
from tests.factories import unique, unique_digits

HEADERS = [names[0] for names in COLUMNS.values()]


def write_export(path: Path, rows: list[dict[str, str]]) -> Path:
    """A 95598 export with the Chinese headers of docs/domain.md §12 (UTF-8 with BOM, as staff exchange)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADERS)
        writer.writeheader()
        for row in rows:
            writer.writerow({h: row.get(h, "") for h in HEADERS})
    return path


@dataclass
class HandMonth:
    """March 2025 in a city of its own: two counties, three 台区, four customers, nine orders."""

    city: str
    county_a: str
    county_b: str
    station_a: str
    station_b: str
    t1: str
    t2: str
    t3: str
    customers: dict[str, str]
    numbers: dict[str, str]


def hand_month_rows(m: HandMonth) -> list[dict[str, str]]:
    def order(
        key: str, kind: str, at: str, customer: str, area: str, station: str, county: str, cls: str, **kw: str
    ) -> dict[str, str]:
        return {
            "工单编号": m.numbers[key],
            "业务类型": kind,
            "受理时间": at,
            "户号": m.customers[customer],
            "客户名称": f"客户{customer}",
            "联系电话": "13800000000",
            "用电地址": f"{area}旁",
            "受理内容": "测试工单内容",
            "市公司": m.city,
            "县公司": county,
            "供电单位": station,
            "城乡类别": cls,
            "台区编号": area,
            **kw,
        }

    a = (m.station_a, m.county_a)
    b = (m.station_b, m.county_b)
    quality = {"一级分类": "供电质量投诉", "二级分类": "供电可靠性", "三级分类": "频繁停电"}
    attitude = {"一级分类": "服务投诉", "二级分类": "服务行为", "三级分类": "营业厅人员服务态度"}
    return [
        # The month before: c1 complained on T1 already (consecutive months; O1 repeats it).
        order("O6", "投诉", "2025-02-20 10:00", "c1", m.t1, *a, "农村", **quality),
        # Last year, same month: T2.
        order("O7", "投诉", "2024-03-05 10:00", "c3", m.t2, *a, "城区", **attitude),
        order(
            "O1",
            "投诉",
            "2025-03-03 19:10",
            "c1",
            m.t1,
            *a,
            "农村",
            **quality,
            派单时间="2025-03-03 19:20",
            接单时间="2025-03-03 19:40",
            联系客户时间="2025-03-04 21:40",
            回单时间="2025-03-06 10:00",
            回访时间="2025-03-06 12:00",
            回访满意度="满意",
            归档时间="2025-03-06 13:00",
        ),
        order(
            "O2",
            "投诉",
            "2025-03-10 11:05",
            "c2",
            m.t1,
            *a,
            "农村",
            一级分类="营业投诉",
            二级分类="电价电费",
            三级分类="电费",
            派单时间="2025-03-10 11:35",
            接单时间="2025-03-10 12:05",
            联系客户时间="2025-03-10 13:05",
            回单时间="2025-03-11 10:00",
            回访时间="2025-03-11 15:00",
            回访满意度="不满意",
            归档时间="2025-03-11 16:00",
        ),
        order(
            "O3", "投诉", "2025-03-15 17:30", "c3", m.t2, *a, "城区", **attitude, 派单时间="2025-03-15 17:40"
        ),
        order(
            "O4",
            "故障报修",
            "2025-03-20 09:00",
            "c4",
            m.t3,
            *b,
            "农村",
            一级分类="低压故障",
            派单时间="2025-03-20 09:01",
            接单时间="2025-03-20 09:03",
            联系客户时间="2025-03-20 09:30",
            回单时间="2025-03-20 11:00",
            回访时间="2025-03-20 15:00",
            回访满意度="非常满意",
            归档时间="2025-03-20 16:00",
        ),
        order("O5", "意见/建议", "2025-03-21 08:15", "c4", m.t3, *b, "农村", 归档时间="2025-03-21 10:00"),
        # c3 calls twice more about the same matter: one event with three calls.
        order("O8", "投诉", "2025-03-16 10:00", "c3", m.t2, *a, "城区", **attitude),
        order("O9", "投诉", "2025-03-17 10:30", "c3", m.t2, *a, "城区", **attitude),
    ]


def new_hand_month(city: str) -> HandMonth:
    """Names, 户号 and order numbers of a hand month of its own (unique in the shared test database)."""
    tag = unique("")
    return HandMonth(
        city=f"{city}{tag}",
        county_a=f"甲县{tag}",
        county_b=f"乙县{tag}",
        station_a=f"甲所{tag}",
        station_b=f"乙所{tag}",
        t1=f"T1{tag}",
        t2=f"T2{tag}",
        t3=f"T3{tag}",
        customers={f"c{i}": unique_digits(12) for i in range(1, 5)},
        numbers={f"O{i}": f"HM{tag}{i:02d}" for i in range(1, 10)},
    )


@pytest.fixture
def hand_month(session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path) -> HandMonth:
    m = new_hand_month("手算市")
    path = write_export(tmp_path / "hand.csv", hand_month_rows(m))
    with session_factory() as session:
        import_orders(session, principal=SYSTEM, settings=settings, path=path)
        session.commit()
    return m


ReportFn = Callable[..., dict[str, Any]]


@pytest.fixture
def report(session_factory: sessionmaker[Session], settings: Settings) -> ReportFn:
    def run(start: str, end: str, unit: str | None) -> dict[str, Any]:
        with session_factory() as session:
            return monitoring_report(
                session,
                principal=SYSTEM,
                settings=settings,
                start=date.fromisoformat(start),
                end=date.fromisoformat(end),
                unit=unit,
            )

    return run
