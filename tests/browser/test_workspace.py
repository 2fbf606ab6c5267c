"""The workspace as people use it: a complaint from intake to archive through the pages, each role in
its own browser; what each role may see; errors shown on the page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect
from sqlalchemy import select

from gridcare.auth.principal import SYSTEM
from gridcare.config import Settings
from gridcare.models import Customer, Unit, User, WorkOrder
from gridcare.workorders import service
from gridcare.workorders.schemas import WorkOrderCreate
from tests.browser.conftest import DemoSite, Flow

OpenAs = Callable[..., Page]


def station_of(site: DemoSite, username: str) -> tuple[int, str]:
    with site.session_factory() as s:
        row = s.execute(
            select(Unit.id, Unit.name).join(User, User.unit_id == Unit.id).where(User.username == username)
        ).one()
        return row[0], row[1]


def customer_of_station(site: DemoSite, station_id: int, offset: int = 0) -> Customer:
    with site.session_factory() as s:
        customer = s.scalars(
            select(Customer)
            .where(Customer.station_id == station_id)
            .order_by(Customer.id)
            .offset(offset)
            .limit(1)
        ).one()
        s.expunge(customer)
        return customer


def new_order(site: DemoSite, customer: Customer, **kw: object) -> WorkOrder:
    """An order made directly through the service (for tests about later steps)."""
    with site.session_factory() as s:
        data = WorkOrderCreate(
            business_type=str(kw.pop("business_type", "complaint")),
            category=kw.pop("category", "TS040101"),  # type: ignore[arg-type]
            content=str(kw.pop("content", "近两个月停电多次，影响生活")),
            account_no=customer.account_no,
        )
        order = service.create(s, principal=SYSTEM, settings=Settings(), data=data).order
        s.commit()
        s.expunge(order)
        return order


def act(page: Page, form: str, button: str | None = None) -> None:
    with page.expect_navigation():
        if button:
            page.click(f"{form} button:has-text('{button}')")
        else:
            page.click(f"{form} button[type=submit]")


def test_complaint_from_intake_to_archive(open_as: OpenAs, demo_site: DemoSite, flow: Flow) -> None:
    station_id, station_name = station_of(demo_site, "station")
    customer = customer_of_station(demo_site, station_id)

    with flow.step("受理：查找客户"):
        agent = open_as("agent")
        agent.click("nav >> text=受理")
        agent.fill("#customer-q", customer.account_no)
        expect(agent.locator("#customer-results .hit")).to_have_count(1)
        agent.press("#customer-q", "Enter")
        card = agent.locator(f"[data-customer='{customer.account_no}']")
        expect(card).to_contain_text(station_name)
        expect(card).to_contain_text("台区")
    with flow.step("受理：选择分类并保存"):
        agent.fill("input[data-filter='#tree-complaint']", "频繁停电")
        visible = agent.locator("#tree-complaint label:visible")
        expect(visible).to_have_count(1)
        visible.click()
        agent.fill("#content", "近两个月停电四次，每次两三个小时，家里冰箱里的东西都坏了，要求尽快解决。")
        with agent.expect_navigation():
            agent.press("#content", "Control+Enter")
        expect(agent.locator(".flash.ok")).to_contain_text("已受理")
        expect(agent.locator("#order-step")).to_have_text("待派单")
        number = agent.locator("#order-number").inner_text()
        order_url = agent.url
        assert re.search(r"/orders/\d+", order_url)

    with flow.step("供电所打开工作台，等待新工单"):
        station = open_as("station")
        expect(station.locator("#workbench-live")).not_to_contain_text(number)
        station.evaluate("window.__notReloaded = true")  # gone if the page were loaded again

    with flow.step("派单（调度员）"):
        dispatcher = open_as("dispatcher")
        dispatcher.goto(order_url)
        expect(dispatcher.locator("#order-station")).to_have_text(station_name)
        act(dispatcher, "#act-dispatch")
        expect(dispatcher.locator(".flash.ok")).to_have_text("已派单")
        expect(dispatcher.locator("#order-step")).to_have_text("待接单")

    with flow.step("供电所工作台无需刷新即显示新派工单"):
        expect(station.locator("#workbench-live table.list")).to_contain_text(number, timeout=25_000)
        assert station.evaluate("window.__notReloaded === true")

    with flow.step("接单、联系客户、回单（供电所）"):
        station.click(f"text={number}")
        act(station, "#act-accept")
        expect(station.locator("#order-step")).to_have_text("待联系客户")
        act(station, "#act-contact")
        expect(station.locator("#order-step")).to_have_text("处理中")
        station.fill(
            "#act-reply textarea[name=reply]",
            "经查为台区低压线路老化，已更换导线并加装分支开关。已向客户说明。",
        )
        act(station, "#act-reply")
        expect(station.locator("#order-step")).to_have_text("待审核")

    with flow.step("审核通过（调度员）"):
        dispatcher.goto(order_url)
        act(dispatcher, "#act-review", "审核通过")
        expect(dispatcher.locator("#order-step")).to_have_text("待回访")

    with flow.step("回访与归档（客户代表）"):
        agent.click("nav >> text=回访")
        agent.click(f"text={number}")
        agent.select_option("#act-callback select[name=satisfaction]", label="满意")
        act(agent, "#act-callback")
        expect(agent.locator("#order-step")).to_have_text("待归档")
        act(agent, "#act-archive")
        expect(agent.locator("#order-step")).to_have_text("已归档")
        timeline = agent.locator("#timeline li")
        actions = [timeline.nth(i).get_attribute("data-action") for i in range(timeline.count())]
        assert actions == [
            "create",
            "dispatch",
            "accept",
            "contact",
            "reply",
            "review_pass",
            "callback",
            "archive",
        ]
        expect(agent.locator("#actions")).to_contain_text("没有您可执行的操作")

    with flow.step("管理人员与质检只读"):
        for who in ("manager", "auditor"):
            reader = open_as(who)
            expect(reader.locator(".tiles")).to_contain_text("已超时")
            reader.goto(f"/orders?q={number}")
            expect(reader.locator("table.list tbody tr")).to_have_count(1)
            reader.click(f"text={number}")
            expect(reader.locator("#actions")).to_contain_text("没有您可执行的操作")
            expect(reader.locator("#timeline")).to_contain_text("归档")

    with flow.step("系统管理员：日历与用户"):
        admin = open_as("admin")
        admin.goto("/admin/calendar?year=2026&month=10")
        expect(admin.locator("[data-day='2026-10-01']")).to_contain_text("国庆节")
        expect(admin.locator("[data-day='2026-10-01']")).to_have_class(re.compile("rest"))
        admin.goto("/admin/users")
        expect(admin.locator("#users")).to_contain_text("agent")
        admin.goto("/admin/sla")
        expect(admin.locator("#rules")).to_contain_text("个工作日")


def test_station_sees_only_its_own_orders(
    open_as: OpenAs, demo_site: DemoSite, flow: Flow, tmp_path: Path
) -> None:
    station_id, station_name = station_of(demo_site, "station")
    mine = new_order(demo_site, customer_of_station(demo_site, station_id))
    with demo_site.session_factory() as s:
        other_station = s.scalar(
            select(Unit.id).where(Unit.kind == "station", Unit.id != station_id).order_by(Unit.id).limit(1)
        )
    assert other_station is not None
    theirs = new_order(demo_site, customer_of_station(demo_site, other_station))
    other_customer = customer_of_station(demo_site, other_station, offset=1)

    with flow.step("工单列表只有本所"):
        page = open_as("station")
        page.goto("/orders")
        stations = page.locator("td[data-station]").all_inner_texts()
        assert stations
        assert set(stations) == {station_name}
        page.goto(f"/orders?q={theirs.number}")
        expect(page.locator(".empty")).to_be_visible()
        page.goto(f"/orders?q={mine.number}")
        expect(page.locator("table.list tbody tr")).to_have_count(1)
    with flow.step("他所工单与客户不可见"):
        response = page.goto(f"/orders/{theirs.id}")
        assert response is not None
        assert response.status == 404
        expect(page.locator("main")).to_contain_text("不存在或不在您的权限范围内")
        page.goto("/intake")
        page.fill("#customer-q", other_customer.account_no)
        expect(page.locator("#customer-results")).to_contain_text("没有找到")
    with flow.step("工作台只有本所"):
        page.goto("/workbench")
        assert set(page.locator("td[data-station]").all_inner_texts()) <= {station_name}
    with flow.step("导出只有本所"):
        page.goto("/orders")
        with page.expect_download() as download:
            page.click("#export")
        path = tmp_path / "station.xlsx"
        download.value.save_as(path)
        rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        header, body = rows[0], rows[1:]
        column = header.index("供电所")
        assert body
        assert {r[column] for r in body} == {station_name}
        assert mine.number in {r[0] for r in body}
    with flow.step("市公司导出含多个供电所"):
        agent = open_as("agent")
        agent.goto("/orders")
        with agent.expect_download() as download:
            agent.click("#export")
        path = tmp_path / "city.xlsx"
        download.value.save_as(path)
        rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        assert len({r[rows[0].index("供电所")] for r in rows[1:]}) > 1


def test_failed_actions_say_why_on_the_page(open_as: OpenAs, demo_site: DemoSite, flow: Flow) -> None:
    station_id, _ = station_of(demo_site, "station")
    order = new_order(demo_site, customer_of_station(demo_site, station_id, offset=2))

    with flow.step("另一窗口已处理：版本冲突"):
        first = open_as("dispatcher")
        second = open_as("agent")
        first.goto(f"/orders/{order.id}")
        second.goto(f"/orders/{order.id}")
        act(first, "#act-dispatch")
        expect(first.locator("#order-step")).to_have_text("待接单")
        act(second, "#act-dispatch")
        expect(second.locator("#error")).to_contain_text("已被他人处理")
        expect(second.locator("#order-step")).to_have_text("待接单")  # the page shows the current state
    with flow.step("审核退回须写原因"):
        station = open_as("station")
        station.goto(f"/orders/{order.id}")
        act(station, "#act-accept")
        act(station, "#act-contact")
        station.fill("#act-reply textarea[name=reply]", "已处理完毕")
        act(station, "#act-reply")
        first.goto(f"/orders/{order.id}")
        act(first, "#act-review", "退回重办")
        expect(first.locator("#error")).to_contain_text("审核退回须写明原因")
        expect(first.locator("#order-step")).to_have_text("待审核")
        first.fill("#act-review textarea[name=note]", "回单未说明停电原因，请补充")
        act(first, "#act-review", "退回重办")
        expect(first.locator("#order-step")).to_have_text("处理中")
        expect(first.locator("#timeline")).to_contain_text("回单未说明停电原因")
    with flow.step("受理内容缺失"):
        agent = open_as("agent")
        agent.goto("/intake")
        agent.fill("#customer-q", customer_of_station(demo_site, station_id, 3).account_no)
        agent.press("#customer-q", "Enter")
        expect(agent.locator("#customer-card [data-customer]")).to_be_visible()
        # The browser checks the length itself; without that check the server still refuses it.
        agent.evaluate("document.querySelector('#content').removeAttribute('minlength')")
        agent.fill("#content", "短")
        agent.click("#save")
        expect(agent.locator("#error")).to_contain_text("受理内容")
        expect(agent.locator("#error")).to_contain_text("至少 2 个字")
        expect(agent.locator("#customer-card [data-customer]")).to_be_visible()  # the card is kept


def test_login_logout_and_return_to_the_page(open_as: OpenAs, demo_site: DemoSite, flow: Flow) -> None:
    with flow.step("未登录访问跳转登录，登录后回到原页"):
        page = open_as("manager")
        page.click("header.top button:has-text('退出')")
        expect(page).to_have_url(re.compile(r"/login$"))
        page.goto("/orders?step=pending_dispatch")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        page.fill("#username", "manager")
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        expect(page.locator("#error")).to_have_text("用户名或密码错误")
        page.fill("#password", "Demo@95598")
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/orders\?step=pending_dispatch$"))
    with flow.step("无权限的页面"):
        response = page.goto("/admin/users")
        assert response is not None
        assert response.status == 403
        expect(page.locator("main")).to_contain_text("系统管理员")


def test_admin_loads_a_calendar_year_and_corrects_a_day(open_as: OpenAs, flow: Flow, tmp_path: Path) -> None:
    csv = tmp_path / "2031.csv"
    csv.write_text(
        "date,type,name\n2031-10-01,holiday,国庆节\n2031-10-02,holiday,国庆节\n2031-09-28,workday,国庆节调休\n"
    )
    with flow.step("载入 2031 年"):
        admin = open_as("admin")
        admin.goto("/admin/calendar?year=2031&month=10")
        expect(admin.locator("main")).to_contain_text("尚未载入 2031 年")
        admin.set_input_files("#cal-load input[type=file]", str(csv))
        admin.click("#cal-load button")
        expect(admin.locator(".flash.ok")).to_contain_text("已载入 2031 年")
        admin.goto("/admin/calendar?year=2031&month=9")
        expect(admin.locator("[data-day='2031-09-28']")).to_have_class(re.compile("makeup"))
    with flow.step("更正一天"):
        admin.fill("#cal-correct input[name=day]", "2031-10-08")
        admin.check("#cal-correct input[value=rest]")
        admin.fill("#cal-correct input[name=name]", "补充通知")
        admin.click("#cal-correct button")
        expect(admin.locator("#cal-title")).to_have_text("2031 年 10 月")
        expect(admin.locator("[data-day='2031-10-08']")).to_have_class(re.compile("rest"))
        expect(admin.locator("[data-day='2031-10-08']")).to_contain_text("补充通知（更正）")
    with flow.step("坏文件报出行号"):
        bad = tmp_path / "bad.csv"
        bad.write_text("date,type,name\n2032-13-01,holiday,错\n")
        admin.set_input_files("#cal-load input[type=file]", str(bad))
        admin.click("#cal-load button")
        expect(admin.locator("#error")).to_contain_text("第 2 行")
