"""Browser tests: Debian's Chromium driven by Playwright against a demo province served over HTTP.

The demo is loaded into a database of its own (fresh per run, dropped afterwards) so that the pages
are tried on the data a new user sees after `make run`, with the demo logins.

Each test works through named steps; when a step fails, a screenshot of the page at that moment is
kept under test-artifacts/browser/<test>/<step>.png.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridcare import migrate
from gridcare.config import Settings
from gridcare.db import make_engine, make_session_factory
from gridcare.demo.loader import load_demo
from gridcare.demo.province import DEMO_PASSWORD
from tests.conftest import ScratchDatabases, serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
DEMO_CUSTOMERS = 2000
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

expect.set_options(timeout=10_000)


def chromium_path() -> str:
    path = os.environ.get("GRIDCARE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Browser tests need Debian's Chromium: `apt-get install chromium` (make test installs it), "
            "or set GRIDCARE_CHROMIUM to its path",
            pytrace=False,
        )
    return path


@dataclass
class DemoSite:
    url: str
    engine: Engine
    session_factory: sessionmaker[Session]


@pytest.fixture(scope="session")
def demo_site(
    scratch_databases: ScratchDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoSite]:
    url = scratch_databases.create()
    migrate.upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key="browser-test-secret-key-gridcare-0123456789",
        secret_key_file=tmp_path_factory.mktemp("browser-secret") / "key",
        analytics_path=tmp_path_factory.mktemp("browser-analytics") / "snapshot.duckdb",
        notice_file=tmp_path_factory.mktemp("browser-notices") / "notices.jsonl",
        login_max_failures=20,
    )
    engine = make_engine(settings)
    load_demo(engine, customers=DEMO_CUSTOMERS, seed=20261122, months=2)
    with serving(settings) as base:
        yield DemoSite(base, engine, make_session_factory(engine))
    engine.dispose()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@dataclass
class Flow:
    """Named steps of one test; a failing step leaves a screenshot of every open page."""

    name: str
    pages: dict[str, Page] = field(default_factory=dict)
    count: int = 0

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.count += 1
        try:
            yield
        except BaseException:
            folder = ARTIFACTS / self.name
            folder.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^\w-]+", "_", title)
            for who, page in self.pages.items():
                try:
                    page.screenshot(path=str(folder / f"{self.count:02d}-{slug}-{who}.png"), full_page=True)
                except Exception as exc:  # keep the test's own failure, not this one
                    (folder / f"{self.count:02d}-{slug}-{who}.txt").write_text(f"no screenshot: {exc}")
            raise


@pytest.fixture
def flow(request: pytest.FixtureRequest) -> Flow:
    return Flow(re.sub(r"[^\w-]+", "_", request.node.name))


@pytest.fixture
def open_as(browser: Browser, demo_site: DemoSite, flow: Flow) -> Iterator[Callable[[str], Page]]:
    """A signed-in page for a demo login, in its own browser context (its own cookies)."""
    contexts = []

    def sign_in(username: str, password: str = DEMO_PASSWORD) -> Page:
        context = browser.new_context(
            base_url=demo_site.url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": 1366, "height": 768},
            accept_downloads=True,
        )
        contexts.append(context)
        page = context.new_page()
        flow.pages[username if username not in flow.pages else f"{username}{len(flow.pages)}"] = page
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/workbench$"))
        return page

    yield sign_in
    for context in contexts:
        context.close()
