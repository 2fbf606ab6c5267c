"""Pages over plain HTTP: sign-in with a cookie, CSRF on every form, errors as pages, not JSON."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import web_login
from tests.factories import PASSWORD, World


@contextmanager
def signed_in(base_url: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = web_login(client, username, PASSWORD, next="/orders")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/orders"
        yield client


def test_pages_need_a_session_and_come_back_after_login(client: httpx.Client, world: World) -> None:
    response = client.get("/orders?step=pending_dispatch")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/orders%3Fstep%3Dpending_dispatch"
    htmx = client.get("/intake/search?q=13", headers={"HX-Request": "true"})
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"].startswith("/login?next=")
    # A polled part of a page sends the user back to the page it sits on, not to the bare fragment.
    polled = client.get(
        "/inbox/badge",
        headers={"HX-Request": "true", "HX-Current-URL": f"{client.base_url}/orders?step=pending_review"},
    )
    assert polled.headers["HX-Redirect"] == "/login?next=/orders%3Fstep%3Dpending_review"
    elsewhere = client.get(
        "/workbench/live", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )
    assert elsewhere.headers["HX-Redirect"] == "/login?next=/workbench"
    with httpx.Client(base_url=client.base_url, cookies={"gridcare_session": "not-a-token"}) as forged:
        assert forged.get("/workbench").status_code == 303


def test_login_refuses_wrong_password_and_foreign_next(client: httpx.Client, world: World) -> None:
    wrong = web_login(client, world.users["agent"].username, "nope")
    assert wrong.status_code == 303  # post/redirect/get: reloading the page never sends the password again
    shown = client.get(wrong.headers["location"])
    assert shown.status_code == 401
    assert "用户名或密码错误" in shown.text
    assert world.users["agent"].username in shown.text  # the name typed stays in the form
    ok = web_login(client, world.users["agent"].username, PASSWORD, next="//evil.example/x")
    assert ok.status_code == 303
    assert ok.headers["location"] == "/workbench"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_forms_without_the_csrf_token_are_refused(base_url: str, world: World) -> None:
    with signed_in(base_url, world.users["agent"].username) as client:
        page = client.get("/intake")
        assert page.status_code == 200
        refused = client.post("/intake", data={"business_type": "consultation", "content": "电价咨询"})
        assert refused.status_code == 403
        assert "页面已过期" in refused.text
        assert refused.headers["content-type"].startswith("text/html")


def test_page_errors_are_pages_and_api_errors_stay_json(base_url: str, world: World) -> None:
    with signed_in(base_url, world.users["staff_a1"].username) as client:
        missing = client.get("/orders/999999999")
        assert missing.status_code == 404
        assert "不存在或不在您的权限范围内" in missing.text
        assert client.get("/admin/users").status_code == 403
        assert client.get("/api/v1/nothing").json()["error"]["code"] == "not_found"
        bad_query = client.get("/orders?date_from=2026-13-01")
        assert bad_query.status_code == 200
        assert "受理日期起不是有效日期" in bad_query.text
