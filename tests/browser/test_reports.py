"""投诉监测 in the browser: a manager reads the month's report with its charts, narrows it to a county
and downloads the Excel bulletin; a dispatcher is held to the county; roles without it don't see it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from gridcare.calendar import BEIJING, beijing_midnight
from gridcare.models import Unit, WorkOrder
from gridcare.models.types import utcnow
from tests.browser.conftest import DemoSite, Flow

OpenAs = Callable[..., Page]


def this_month() -> tuple[str, str]:
    today = utcnow().astimezone(BEIJING).date()
    return date(today.year, today.month, 1).isoformat(), today.isoformat()


def test_manager_reads_filters_and_downloads(
    open_as: OpenAs, demo_site: DemoSite, flow: Flow, tmp_path: Path
) -> None:
    start, end = this_month()
    with demo_site.session_factory() as s:
        county = s.scalars(select(Unit).where(Unit.kind == "county").order_by(Unit.code)).first()
        assert county is not None
        county_orders = s.scalar(
            select(func.count())
            .select_from(WorkOrder)
            .where(
                WorkOrder.county_id == county.id,
                WorkOrder.accepted_at >= beijing_midnight(date.fromisoformat(start)),
            )
        )
    with flow.step("导航进入投诉监测，默认上月"):
        page = open_as("manager")
        page.goto("/workbench")
        page.click("nav >> text=投诉监测")
        expect(page.locator("h1")).to_contain_text("投诉监测通报")
        expect(page.locator("#chart-type svg")).to_be_visible()  # ECharts drew the chart
        expect(page.locator("#chart-hour svg")).to_be_visible()
    with flow.step("改期间与单位"):
        page.fill("input[name=from]", start)
        page.fill("input[name=to]", end)
        page.select_option("select[name=unit]", county.code)
        page.click("text=生成报表")
        expect(page.locator("h1")).to_contain_text(county.name)
        expect(page.locator("#total-orders")).to_have_text(f"{county_orders:,}")
        expect(page.locator("#refreshed-at")).not_to_be_empty()
        expect(page.locator("#table-steps tr")).not_to_have_count(1)
    with flow.step("下载 Excel 通报"):
        with page.expect_download() as download:
            page.click("#download-xlsx")
        path = tmp_path / "bulletin.xlsx"
        download.value.save_as(path)
        book = openpyxl.load_workbook(path)
        assert "台区热点" in book.sheetnames
        assert book["总体情况"]["B3"].value == county_orders
        assert county.name in str(book["总体情况"]["A1"].value)


def test_who_may_read_reports(open_as: OpenAs, demo_site: DemoSite, flow: Flow) -> None:
    with flow.step("坐席看不到投诉监测"):
        agent = open_as("agent")
        agent.goto("/workbench")
        expect(agent.locator("nav")).not_to_contain_text("投诉监测")
        response = agent.goto("/reports")
        assert response is not None
        assert response.status == 403
    with flow.step("调度员只能看本县"):
        dispatcher = open_as("dispatcher")
        dispatcher.goto("/reports")
        expect(dispatcher.locator("h1")).to_contain_text("鹤城区供电公司")
        with demo_site.session_factory() as s:
            city = s.scalars(select(Unit).where(Unit.kind == "city")).one()
        response = dispatcher.goto(f"/reports?unit={city.code}")
        assert response is not None
        assert response.status == 404  # another unit's report: as if the unit did not exist
        expect(dispatcher.locator("main")).to_contain_text("不在您的权限范围内")
    with flow.step("日期有误时在页面上说明"):
        dispatcher.goto("/reports?from=2026-03-31&to=2026-03-01")
        expect(dispatcher.locator("#error")).to_contain_text("早于")
