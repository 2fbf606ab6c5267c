"""停电管理 in the browser: a dispatcher plans a feeder outage, sees how many customers it reaches
before saving, is refused a short-notice announcement, asks a manager for approval, the manager
approves it from the workbench, and the dispatcher announces it; the calendar shows it and an agent
taking a call from that 台区 sees it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from gridcare.calendar import BEIJING
from gridcare.models import Customer, Feeder, Substation, TransformerArea, Unit, User
from tests.browser.conftest import DemoSite, Flow

OpenAs = Callable[..., Page]


def test_dispatcher_plans_and_announces_an_outage(open_as: OpenAs, demo_site: DemoSite, flow: Flow) -> None:
    with demo_site.session_factory() as s:
        county = s.scalars(select(Unit).where(Unit.kind == "county").order_by(Unit.code)).first()
        assert county is not None
        feeder = s.scalars(
            select(Feeder).join(Substation).where(Substation.county_id == county.id).order_by(Feeder.code)
        ).first()
        assert feeder is not None
        customer = s.scalars(
            select(Customer)
            .join(TransformerArea, TransformerArea.id == Customer.transformer_area_id)
            .where(TransformerArea.feeder_id == feeder.id)
            .order_by(Customer.id)
        ).first()
        assert customer is not None
        manager_id = s.scalar(select(User.id).where(User.username == "manager"))
    start = (datetime.now(BEIJING) + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    with flow.step("登记计划停电，保存前预览影响户数"):
        page = open_as("dispatcher")
        page.click("nav >> text=停电管理")
        expect(page.locator("h1")).to_have_text("停电管理")
        page.click("#new-outage")
        page.fill("input[name=title]", "10kV线路检修")
        page.fill("input[name=cause]", "更换老旧导线")
        page.fill("input[name=planned_start]", start.strftime("%Y-%m-%dT%H:%M"))
        page.fill("input[name=planned_end]", (start + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"))
        page.select_option("#scope-feeders", str(feeder.id))
        page.click("button[name=preview]")
        expect(page.locator("#preview")).to_contain_text("户客户")
        page.click("#save-outage")
        expect(page.locator("#outage-status")).to_have_text("已计划")
    with flow.step("不足 7 天发布被拒，提交不足通知期限申请"):
        page.click("#act-announce button")
        expect(page.locator("#outage-error")).to_contain_text("提前 7 天")
        page.reload()  # post/redirect/get: reloading shows the refusal again, never re-sends the form
        expect(page.locator("#outage-error")).to_contain_text("提前 7 天")
        page.fill("#act-short_notice input[name=short_notice_reason]", "导线断股隐患，须尽快处理")
        page.select_option("#act-short_notice select[name=approver_id]", str(manager_id))
        page.click("#act-short_notice button")
        expect(page.locator("#approval-status")).to_contain_text("待审批")
        page.click("#act-announce button")
        expect(page.locator("#outage-error")).to_contain_text("等待审批")
        outage_url = page.url.split("?")[0]
    with flow.step("管理人员在工作台看到申请并批准"):
        manager = open_as("manager")
        expect(manager.locator("#my-approvals")).to_contain_text("导线断股隐患")
        manager.click("#my-approvals a")
        manager.click("#approve")
        expect(manager.locator("#approval-status")).to_contain_text("已批准")
    with flow.step("获批后发布"):
        page.goto(outage_url)
        page.click("#act-announce button")
        expect(page.locator("#outage-status")).to_have_text("已发布")
        expect(page.locator("#notice-counts")).to_contain_text("待发送")
        expect(page.locator("#affected tbody tr").first).to_contain_text("待发")
        number = page.locator("#outage-number").inner_text()
    with flow.step("打印村务公开栏停电公告"):
        board = page.context.new_page()
        board.goto(page.locator("#board-link").get_attribute("href") or "")
        expect(board.locator(".board-notice").first).to_contain_text("计划停电公告")
        expect(board.locator(".board-notice").first).to_contain_text("更换老旧导线")
        expect(board.locator(".board-notice").first).to_contain_text("95598")
        board.close()
    with flow.step("停电日历显示该停电"):
        page.goto(f"/outages?month={start:%Y-%m}")
        expect(page.locator("#outage-list")).to_contain_text(number)
        expect(page.locator("#outage-calendar")).to_contain_text("计划停电")
    with flow.step("客户来电时，受理页显示该台区即将停电与预计复电时间"):
        agent = open_as("agent")
        agent.goto(f"/intake?customer_id={customer.id}")
        expect(agent.locator(".outage-alert", has_text=number)).to_contain_text("即将停电")


def test_watch_list_and_reliability_pages(open_as: OpenAs, flow: Flow) -> None:
    with flow.step("频繁停电预警与供电可靠性"):
        page = open_as("manager")
        page.goto("/outages/watch")
        expect(page.locator("h1")).to_have_text("频繁停电预警")
        page.click("text=供电可靠性")
        expect(page.locator("#reliability tbody tr").first).to_be_visible()
        expect(page.locator("#reliability")).to_contain_text("SAIFI")


def test_bad_page_numbers_get_a_clear_error(open_as: OpenAs, flow: Flow) -> None:
    with flow.step("页码不是数字"):
        page = open_as("dispatcher")
        response = page.goto("/outages?page=abc")
        assert response is not None
        assert response.status == 422
        expect(page.locator("body")).to_contain_text("页码须为整数")
