"""Screenshots of the main pages for the README (docs/screenshots/*.png).

    .venv/bin/python -m docs.screenshots

Loads the default demo (20,000 customers, 12 months of history) into a temporary SQLite database,
takes one demo customer's complaint a few steps along so the detail page has a timeline, serves it
with `gridcare serve`, and photographs the pages in Debian's Chromium at 1366×768; the first page of
the monitoring report's PDF is drawn with pdftoppm (Debian's poppler-utils).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks.common import server
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import create_engine, select

from gridcare import migrate, wiring
from gridcare.auth.principal import SYSTEM
from gridcare.config import Settings
from gridcare.db import make_session_factory
from gridcare.demo.loader import load_demo
from gridcare.demo.province import DEMO_PASSWORD
from gridcare.models import Customer, User
from gridcare.workorders import actions, service
from gridcare.workorders.schemas import ReplyBody, Versioned, WorkOrderCreate

wiring.load()  # the demo creates outages through the services: every hook subscription first
OUT = Path(__file__).parent / "screenshots"


def prepare(url: str) -> tuple[str, int]:
    """A demo customer of the 'station' login whose complaint is waiting for review."""
    migrate.upgrade(url)
    engine = create_engine(url)
    load_demo(engine, customers=20_000, seed=95598)
    settings = Settings(database_url=url)
    with make_session_factory(engine)() as s:
        station_id = s.scalar(select(User.unit_id).where(User.username == "station"))
        customer = s.scalars(
            select(Customer).where(Customer.station_id == station_id).order_by(Customer.id).limit(1)
        ).one()
        order = service.create(
            s,
            principal=SYSTEM,
            settings=settings,
            data=WorkOrderCreate(
                business_type="complaint",
                category="TS040101",
                content="近两个月停电四次，每次两三个小时，家里冰箱里的东西都坏了，要求查明原因尽快解决。",
                account_no=customer.account_no,
            ),
        ).order
        for action in ("dispatch", "accept", "contact"):
            actions.perform(
                s,
                principal=SYSTEM,
                settings=settings,
                order_id=order.id,
                action=action,
                body=Versioned(version=order.version),
            )
        actions.perform(
            s,
            principal=SYSTEM,
            settings=settings,
            order_id=order.id,
            action="reply",
            body=ReplyBody(version=order.version, reply="经查为台区低压线路老化，已更换导线并加装分支开关。"),
        )
        result = customer.account_no, order.id
        s.commit()
    engine.dispose()
    return result


def shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / f"{name}.png"))
    print(f"docs/screenshots/{name}.png")


def report_pdf_page(pdf: bytes) -> None:
    """The first page of the PDF report as a PNG (poppler's pdftoppm)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        print("pdftoppm not found (Debian: poppler-utils): report-pdf.png not made")
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "report.pdf"
        source.write_bytes(pdf)
        subprocess.run(  # noqa: S603 - a fixed command on our own file
            [
                tool,
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(source),
                str(OUT / "report-pdf"),
            ],
            check=True,
        )
    print("docs/screenshots/report-pdf.png")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'screens.db'}"
        account_no, order_id = prepare(url)
        with server(url) as base, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )

            def page_for(username: str) -> Page:
                context = browser.new_context(
                    base_url=base,
                    locale="zh-CN",
                    timezone_id="Asia/Shanghai",
                    viewport={"width": 1366, "height": 768},
                )
                page = context.new_page()
                page.goto("/login")
                page.fill("#username", username)
                page.fill("#password", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url("**/workbench")
                return page

            agent = page_for("agent")
            shoot(agent, "workbench")
            agent.goto("/intake")
            agent.fill("#customer-q", account_no)
            agent.press("#customer-q", "Enter")
            agent.wait_for_selector("[data-customer]")
            agent.fill("input[data-filter='#tree-complaint']", "停电")
            agent.click("#tree-complaint label:has-text('频繁停电')")
            agent.wait_for_selector("#repeat-alert")
            agent.fill("#content", "又停电了，这个月第五次。")
            shoot(agent, "intake")
            agent.goto("/orders?business_type=complaint")
            shoot(agent, "orders")
            dispatcher = page_for("dispatcher")
            dispatcher.goto(f"/orders/{order_id}")
            shoot(dispatcher, "order-detail")
            admin = page_for("admin")
            admin.goto("/admin/calendar?year=2026&month=10")
            shoot(admin, "calendar")
            manager = page_for("manager")
            manager.goto("/reports")
            manager.wait_for_selector("#chart-type svg")
            shoot(manager, "report")
            pdf = manager.request.get(manager.get_attribute("#download-pdf", "href") or "")
            report_pdf_page(pdf.body())
            browser.close()


if __name__ == "__main__":
    main()
