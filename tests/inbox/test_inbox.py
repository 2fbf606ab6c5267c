"""消息: a dispatch reaches the station's owner as a message; counts, reading one, reading all; nobody
reads another's messages; the page and the header's count."""

from __future__ import annotations

import re

import httpx

from tests.conftest import web_login
from tests.factories import PASSWORD, World
from tests.workorders.helpers import Desk


def test_a_dispatch_is_a_message_for_the_area_manager(client: httpx.Client, world: World) -> None:
    desk = Desk(client, world)
    owner = desk.headers("staff_a1")  # the 台区经理 of the customer's 台区
    client.post("/api/v1/notifications/read-all", headers=owner)
    assert client.get("/api/v1/notifications/unread-count", headers=owner).json() == {"unread": 0}

    order = desk.create().json()
    desk.ok("dispatcher_a", order, "dispatch")

    assert client.get("/api/v1/notifications/unread-count", headers=owner).json() == {"unread": 1}
    messages = client.get("/api/v1/notifications", params={"unread_only": True}, headers=owner).json()
    assert [m["kind"] for m in messages] == ["dispatched"]
    assert order["number"] in messages[0]["message"]
    assert messages[0]["order_id"] == order["id"]
    # Someone else's message answers like a missing one.
    other = client.post(f"/api/v1/notifications/{messages[0]['id']}/read", headers=desk.headers("agent"))
    assert other.status_code == 404
    read = client.post(f"/api/v1/notifications/{messages[0]['id']}/read", headers=owner)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert client.get("/api/v1/notifications/unread-count", headers=owner).json() == {"unread": 0}
    only = client.get("/api/v1/notifications", params={"kind": "dispatched"}, headers=owner).json()
    assert {m["kind"] for m in only} == {"dispatched"}


def test_the_inbox_page_and_the_header_count(base_url: str, client: httpx.Client, world: World) -> None:
    desk = Desk(client, world)
    order = desk.create().json()
    desk.ok("dispatcher_a", order, "dispatch")
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        assert web_login(browser, world.users["staff_a1"].username, PASSWORD).status_code == 303
        workbench = browser.get("/workbench")
        assert 'hx-get="/inbox/badge"' in workbench.text  # every page asks for the count
        badge = browser.get("/inbox/badge")
        assert re.search(r'id="inbox-unread">\d+<', badge.text)
        page = browser.get("/inbox?unread=1")
        assert page.status_code == 200
        assert order["number"] in page.text
        link = re.search(r'href="/inbox/(\d+)"', page.text)
        assert link is not None
        opened = browser.get(f"/inbox/{link.group(1)}")
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/orders/{order['id']}"
        token = re.search(r'name="_csrf" value="([0-9a-f]+)"', page.text)
        assert token is not None
        assert browser.post("/inbox/read-all", data={"_csrf": token.group(1)}).status_code == 303
        assert "inbox-unread" not in browser.get("/inbox/badge").text
        live = browser.get("/workbench/live")
        assert live.status_code == 200
        assert 'id="workbench-live"' in live.text
