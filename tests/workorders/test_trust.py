"""Work orders that keep what staff wrote and keep it to those who may see it: every reply stays in
the history (page, API, export); an idempotency key is its sender's; a role that sees phones masked
cannot look them up; exported text never becomes a formula; exports are audited; deadlines of
requests taken on holidays land on a working day."""

from __future__ import annotations

import io
import re
from datetime import datetime

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.calendar import BEIJING, CountingRule, WorkCalendar, add_working_days, builtin_years
from gridcare.models import AuditEntry
from tests.conftest import web_login
from tests.factories import PASSWORD, World
from tests.workorders.helpers import Desk


@pytest.fixture
def desk(client: httpx.Client, world: World) -> Desk:
    return Desk(client, world)


def to_reply(desk: Desk) -> dict[str, object]:
    order = desk.ok("dispatcher_a", desk.create().json(), "dispatch")
    order = desk.ok("staff_a1", order, "accept")
    return desk.ok("staff_a1", order, "contact")


def test_a_reply_sent_back_by_review_stays_in_the_history(desk: Desk, base_url: str, world: World) -> None:
    order = desk.ok("staff_a1", to_reply(desk), "reply", reply="第一次回单：已更换熔断器")
    order = desk.ok("dispatcher_a", order, "review", passed=False, note="未写明停电原因")
    order = desk.ok("staff_a1", order, "reply", reply="第二次回单：线路老化，已更换导线")
    order = desk.ok("dispatcher_a", order, "review", passed=True)
    order = desk.ok("agent", order, "callback", reached=True, satisfaction="satisfied", note="客户表示认可")
    events = desk.timeline(order["id"])
    replies = [e["data"]["reply"] for e in events if e["action"] == "reply"]
    assert replies == ["第一次回单：已更换熔断器", "第二次回单：线路老化，已更换导线"]
    assert any(e["action"] == "review_back" and e["note"] == "未写明停电原因" for e in events)
    assert any(e["action"] == "callback" and e["note"] == "客户表示认可" for e in events)
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        web_login(browser, world.users["dispatcher_a"].username, PASSWORD)
        page = browser.get(f"/orders/{order['id']}").text
        assert "第一次回单：已更换熔断器" in page
        assert "未写明停电原因" in page
        sheet = browser.get("/orders/export.xlsx", params={"q": order["number"]})
        rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    header, line = rows[0], rows[1]
    record = line[header.index("处理记录（历次回单、审核、回访）")]
    assert "第一次回单：已更换熔断器" in record
    assert "审核退回：未写明停电原因" in record
    assert "第二次回单：线路老化，已更换导线" in record
    assert "回访：客户表示认可" in record


def test_an_idempotency_key_belongs_to_the_user_who_sent_it(desk: Desk) -> None:
    key = f"shared-{datetime.now().timestamp()}"
    mine = desk.create("agent", idempotency_key=key)
    assert mine.status_code == 201
    other = desk.create(
        "staff_a1",
        idempotency_key=key,
        business_type="consultation",
        category=None,
        content="咨询电价",
    )
    assert other.status_code == 201  # a different request: not the agent's order
    assert other.json()["id"] != mine.json()["id"]
    assert other.json()["content"] == "咨询电价"
    again = desk.create("agent", idempotency_key=key)
    assert (again.status_code, again.json()["id"]) == (200, mine.json()["id"])


def test_a_role_that_sees_masked_phones_cannot_search_by_phone(desk: Desk, world: World) -> None:
    customer = world.customers["station_a1"]
    assert customer.phone
    for who in ("manager", "auditor"):
        headers = desk.headers(who)
        by_phone = desk.client.get("/api/v1/customers", params={"phone": customer.phone}, headers=headers)
        assert by_phone.status_code == 403
        guessed = desk.client.get("/api/v1/customers", params={"q": customer.phone}, headers=headers).json()
        assert guessed["items"] == []  # a number in q is a 户号 only
        by_account = desk.client.get("/api/v1/customers", params={"q": customer.account_no}, headers=headers)
        assert [c["id"] for c in by_account.json()["items"]] == [customer.id]
        assert "****" in by_account.json()["items"][0]["phone"]
    agent = desk.client.get(
        "/api/v1/customers", params={"phone": customer.phone}, headers=desk.headers("agent")
    )
    assert [c["id"] for c in agent.json()["items"]] == [customer.id]


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t"])
def test_exported_text_never_becomes_a_formula(
    desk: Desk, base_url: str, world: World, session_factory: sessionmaker[Session], lead: str
) -> None:
    content = f'{lead}HYPERLINK("http://evil.example","点我")'
    made = desk.create(content=content).json()
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        web_login(browser, world.users["auditor"].username, PASSWORD)
        sheet = browser.get("/orders/export.xlsx", params={"q": made["number"]})
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row if c.value == content]
    assert cells, "the content is exported"
    assert all(c.data_type == "s" for c in cells)
    with session_factory() as s:
        entry = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "export", AuditEntry.user_id == world.users["auditor"].id)
            .order_by(AuditEntry.id.desc())
        ).first()
    assert entry is not None
    assert entry.detail is not None
    assert entry.detail["rows"] == 1
    assert entry.detail["filter"] == {"q": made["number"]}
    assert entry.detail["phones"] == "masked"


CALENDAR = WorkCalendar(builtin_years())


def bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("accepted", "days", "expected"),
    [
        # National Day 2025: Oct 1–8 off, Sun Sep 28 and Sat Oct 11 worked. Accepted on Sat Sep 27: the
        # clock starts Sun Sep 28 00:00; three working days end with Tue Sep 30, whose 24:00 is Oct 1
        # 00:00, a holiday: the deadline is 00:00 of the next working day, Oct 9.
        ("2025-09-27 10:00", 3, "2025-10-09 00:00"),
        ("2025-10-04 10:00", 1, "2025-10-10 00:00"),
        # National Day 2026: Oct 1–7 off, Sun Sep 20 and Sat Oct 10 worked. From Sat Sep 26 the clock
        # starts Mon Sep 28; three working days end at Oct 1 00:00, a holiday → Oct 8 00:00.
        ("2026-09-26 15:00", 2, "2026-09-30 00:00"),
        ("2026-09-26 15:00", 3, "2026-10-08 00:00"),
        ("2026-09-26 15:00", 4, "2026-10-09 00:00"),
        ("2026-10-03 09:00", 2, "2026-10-10 00:00"),
        # Spring Festival 2026: Feb 15–23 off, Sat Feb 14 and Sat Feb 28 worked. From Sun Feb 8 the clock
        # starts Mon Feb 9; six working days (Feb 10–14, then Feb 24) → Feb 24 00:00, not Feb 15 00:00.
        ("2026-02-08 08:00", 6, "2026-02-24 00:00"),
        ("2026-02-08 08:00", 5, "2026-02-14 00:00"),
        ("2026-02-15 12:00", 5, "2026-03-02 00:00"),
    ],
)
def test_a_deadline_for_a_request_taken_on_a_day_off_lands_on_a_working_day(
    accepted: str, days: int, expected: str
) -> None:
    deadline = add_working_days(CALENDAR, bj(accepted), days, CountingRule.from_next_day)
    local = deadline.astimezone(BEIJING)
    assert local.strftime("%Y-%m-%d %H:%M") == expected
    assert CALENDAR.is_workday(local.date())


def test_a_refused_form_is_not_sent_again_on_reload_and_speaks_chinese(
    desk: Desk, base_url: str, world: World
) -> None:
    order = to_reply(desk)
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        web_login(browser, world.users["staff_a1"].username, PASSWORD)
        page = browser.get(f"/orders/{order['id']}").text
        token = re.search(r'name="_csrf" value="([0-9a-f]+)"', page)
        assert token is not None
        refused = browser.post(
            f"/orders/{order['id']}/act/reply",
            data={"_csrf": token.group(1), "version": str(order["version"]), "reply": ""},
        )
        assert refused.status_code == 303  # post/redirect/get
        shown = browser.get(refused.headers["location"])
        assert shown.status_code == 422
        assert "回单内容：必须填写" in shown.text
        assert "Input should" not in shown.text
        again = browser.get(refused.headers["location"])  # F5: the same page, nothing sent
        assert again.status_code == 422
    assert [e["action"] for e in desk.timeline(order["id"])].count("reply") == 0


def test_the_dispatch_form_offers_the_chosen_stations_staff(desk: Desk, base_url: str, world: World) -> None:
    order = desk.create().json()
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        web_login(browser, world.users["dispatcher_a"].username, PASSWORD)
        other = world.units["station_a2"]
        options = browser.get(f"/orders/{order['id']}/handlers", params={"station_id": other.id}).text
        assert world.users["staff_a2"].display_name in options
        assert f'value="{world.users["staff_a1"].id}"' not in options
        assert f'value="{world.users["staff_a2"].id}"' in options


def test_the_outage_plan_button_shows_only_to_roles_that_may_use_it(base_url: str, world: World) -> None:
    for who, shown in (("agent", False), ("dispatcher_a", True)):
        with httpx.Client(base_url=base_url, timeout=30) as browser:
            web_login(browser, world.users[who].username, PASSWORD)
            page = browser.get("/outages").text
            assert ('id="new-outage"' in page) is shown, who
