"""Importing 95598 work-order exports: bad rows refused with row, column and reason; nothing half-written;
re-import changes nothing; UTF-8 with BOM, GBK and XLSX."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.auth.principal import SYSTEM
from gridcare.config import Settings
from gridcare.errors import InvalidInput
from gridcare.models import Customer, TransformerArea, Unit, WorkOrder, WorkOrderEvent
from gridcare.workorders.transfer import import_orders
from tests.analytics.conftest import HEADERS, write_export
from tests.factories import World, unique, unique_digits


def rows_for(tag: str, n: int = 3) -> list[dict[str, str]]:
    digits = unique_digits(10)
    return [
        {
            "工单编号": f"IM{tag}{i:03d}",
            "业务类型": "投诉" if i % 2 == 0 else "故障报修",
            "受理时间": f"2025-04-0{i + 1} 09:30:00",
            "户号": f"{digits}{i}",
            "客户名称": f"钱{i}",
            "用电地址": f"新村{i}号",
            "受理内容": "停电后一直没人来",
            "市公司": f"导入市{tag}",
            "县公司": f"导入县{tag}",
            "供电单位": f"导入所{tag}",
            "城乡类别": "农村",
            "台区编号": f"TQ{tag}",
            "一级分类": "供电质量投诉" if i % 2 == 0 else "低压故障",
            "派单时间": f"2025-04-0{i + 1} 09:40:00",
            "回单时间": f"2025-04-0{i + 1} 15:00:00",
        }
        for i in range(n)
    ]


def orders_with_prefix(session: Session, prefix: str) -> int:
    return (
        session.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.number.startswith(prefix)))
        or 0
    )


def test_import_creates_places_and_reimport_changes_nothing(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    tag = unique("")
    path = write_export(tmp_path / "orders.csv", rows_for(tag))
    with session_factory() as s:
        result = import_orders(s, principal=SYSTEM, settings=settings, path=path)
        s.commit()
    assert (result.rows, result.inserted, result.existing) == (3, 3, 0)
    assert result.created == {
        "city": 1,
        "county": 1,
        "station": 1,
        "village": 1,
        "transformer_area": 1,
        "customer": 3,
    }
    with session_factory() as s:
        station = s.scalars(select(Unit).where(Unit.name == f"导入所{tag}")).one()
        assert station.imported
        assert station.kind == "station"
        assert s.scalars(select(TransformerArea).where(TransformerArea.code == f"TQ{tag}")).one().imported
        order = s.scalars(select(WorkOrder).where(WorkOrder.number == f"IM{tag}000")).one()
        assert (order.business_type, order.category, order.area_class, order.step) == (
            "complaint",
            "TS04",
            "rural",
            "pending_callback",  # a reply time passes 回单 and 审核 (the export has no review time)
        )
        assert order.imported
        assert order.station_id == station.id
        events = s.scalars(
            select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id).order_by(WorkOrderEvent.id)
        ).all()
        assert [(e.action, e.from_step, e.to_step) for e in events] == [
            ("create", None, "pending_dispatch"),
            ("dispatch", "pending_dispatch", "pending_accept"),
            ("reply", "pending_accept", "pending_review"),
            ("review_pass", "pending_review", "pending_callback"),
        ]
        assert events[1].step_late is False  # 10 minutes against the 20-minute dispatch limit
        before = (
            orders_with_prefix(s, f"IM{tag}"),
            s.scalar(select(func.count()).select_from(WorkOrderEvent)),
        )
    with session_factory() as s:
        again = import_orders(s, principal=SYSTEM, settings=settings, path=path)
        s.commit()
    assert (again.inserted, again.existing, again.created) == (0, 3, {})
    with session_factory() as s:
        assert (
            orders_with_prefix(s, f"IM{tag}"),
            s.scalar(select(func.count()).select_from(WorkOrderEvent)),
        ) == before


def test_bad_rows_are_reported_and_nothing_is_stored(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    tag = unique("")
    rows = rows_for(tag, 9)
    rows[1]["业务类型"] = "抱怨"
    rows[2]["受理时间"] = "四月一日"
    rows[3]["回单时间"] = "2025-04-04 08:00:00"  # before its dispatch at 09:40
    rows[4]["供电单位"] = ""
    rows[5]["工单编号"] = rows[0]["工单编号"]
    rows[6]["一级分类"] = "态度投诉"
    rows[6]["业务类型"] = "投诉"
    rows[7]["城乡类别"] = "郊区"
    rows[8]["户号"] = "33A01"
    path = write_export(tmp_path / "bad.csv", rows)
    with session_factory() as s, pytest.raises(InvalidInput) as caught:
        import_orders(s, principal=SYSTEM, settings=settings, path=path)
    details = {(d["row"], d["field"]) for d in caught.value.details or []}
    assert details == {
        (3, "业务类型"),
        (4, "受理时间"),
        (5, "回单时间"),
        (6, "供电单位"),
        (7, "工单编号"),
        (8, "一级分类"),
        (9, "城乡类别"),
        (10, "户号"),
    }
    reasons = {d["row"]: d["reason"] for d in caught.value.details or []}
    assert "与第 2 行重复" in reasons[7]
    assert "早于" in reasons[5]
    assert "供电质量投诉" in reasons[8]  # the choices are named
    assert "未导入任何数据" in caught.value.message
    with session_factory() as s:
        assert orders_with_prefix(s, f"IM{tag}") == 0
        assert s.scalar(select(func.count()).select_from(Unit).where(Unit.name.contains(tag))) == 0
        assert (
            s.scalar(
                select(func.count())
                .select_from(Customer)
                .where(Customer.account_no.in_([r["户号"] for r in rows]))
            )
            == 0
        )


def test_gbk_csv_and_xlsx_with_english_names(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path, world: World
) -> None:
    tag = unique("")
    rows = rows_for(tag, 2)
    gbk = tmp_path / "gbk.csv"
    with gbk.open("w", encoding="gbk", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADERS)
        writer.writeheader()
        writer.writerow({h: rows[0].get(h, "") for h in HEADERS})
    english = {
        "工单编号": "ID",
        "业务类型": "BUSI_TYPE_CODE",
        "受理时间": "HANDLE_TIME",
        "户号": "CUST_NO",
        "供电单位": "ORG_NO",
        "城乡类别": "URBAN_RURAL_FLAG",
        "受理内容": "ACCEPT_CONTENT",
    }
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(english.values()))
    # An existing customer of the test world: the order goes to that customer's 台区 and station.
    customer = world.customers["station_b1"]
    sheet.append(
        [
            f"IM{tag}X",
            "查询咨询",
            "2025-04-02 10:00",
            customer.account_no,
            world.units["station_b1"].code,
            "城区",
            "问电价",
        ]
    )
    xlsx = tmp_path / "orders.xlsx"
    book.save(xlsx)
    with session_factory() as s:
        assert import_orders(s, principal=SYSTEM, settings=settings, path=gbk).inserted == 1
        assert import_orders(s, principal=SYSTEM, settings=settings, path=xlsx).inserted == 1
        s.commit()
    with session_factory() as s:
        order = s.scalars(select(WorkOrder).where(WorkOrder.number == f"IM{tag}X")).one()
        assert (order.business_type, order.customer_id, order.station_id) == (
            "consultation",
            customer.id,
            world.units["station_b1"].id,
        )
        assert (
            s.scalars(select(WorkOrder).where(WorkOrder.number == f"IM{tag}000")).one().content
            == "停电后一直没人来"
        )


def test_missing_required_column_names_it(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "few.csv"
    path.write_text("工单编号,受理时间\nX1,2025-04-01 10:00\n", encoding="utf-8")
    with session_factory() as s, pytest.raises(InvalidInput, match="业务类型"):
        import_orders(s, principal=SYSTEM, settings=settings, path=path)
