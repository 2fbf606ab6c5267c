"""What every request meets: the JSON error or the Chinese error page for anything that goes wrong
(never a plain-text 500), values the database cannot hold refused as 422, security headers, a body
limit, a per-user rate limit, an access log without query strings, and API docs served from the
package."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from gridcare.app import create_app
from gridcare.config import Settings
from tests.conftest import login, serving, web_login
from tests.factories import PASSWORD, World

HUGE = "99999999999999999999"


def test_numbers_and_dates_beyond_the_limits_are_422_not_500(
    client: httpx.Client, world: World, base_url: str
) -> None:
    headers = login(client, world.users["admin"].username, PASSWORD)
    for path in (
        f"/api/v1/workorders/{HUGE}",
        f"/api/v1/customers/{2**63}",
        "/api/v1/customers/2147483648",
        "/api/v1/customers?page=922337203685477581",
        f"/api/v1/workorders?unit_id={HUGE}",
        "/api/v1/outages?from=0001-01-01",
        "/api/v1/outages?to=9999-12-31",
        "/api/v1/outages?to=0",  # a number is not a date
        "/api/v1/workorders?created_from=0001-01-01&created_to=9999-12-31",
        "/api/v1/outages/reliability?from=0001-01-01&to=2026-11-30",
        "/api/v1/outages/reliability?from=2026-01-01&to=9999-12-31",
        "/api/v1/reports/monitoring?from=0001-01-01&to=0001-12-31",
        "/api/v1/calendar/0",
        "/api/v1/calendar/24649",
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 422, (path, answer.status_code, answer.text[:200])
        error = answer.json()["error"]
        assert error["code"] == "invalid_input"
        assert re.search(r"[\u4e00-\u9fff]", error["message"]), error["message"]  # Chinese, not English
    body = {"business_type": "consultation", "content": "咨询电价", "customer_id": int(HUGE)}
    assert client.post("/api/v1/workorders", json=body, headers=headers).status_code == 422
    arrears = {
        "account_no": "1",
        "bill_month": "0000-00",
        "amount_cents": 1,
        "due_date": "0001-01-01T00:00:00+14:00",
    }
    assert client.post("/api/v1/arrears", json=arrears, headers=headers).status_code == 422
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        web_login(browser, world.users["admin"].username, PASSWORD)
        for path in (f"/orders/{HUGE}", "/orders/export.xlsx?date_to=9999-12-31"):
            page = browser.get(path)
            assert page.status_code == 422, (path, page.status_code)
            assert page.headers["content-type"].startswith("text/html")
            assert "有误" in page.text or "须在" in page.text
        for path in (
            "/orders?date_from=0001-01-01",
            "/outages?month=9999-12",
            "/outages/reliability?from=0001-01-01",
        ):
            page = browser.get(path)
            assert page.status_code == 200, (
                path
            )  # the list falls back to its defaults and says what was wrong


def test_patching_a_required_field_with_null_is_a_field_error(client: httpx.Client, world: World) -> None:
    headers = login(client, world.users["admin"].username, PASSWORD)
    customer = world.customers["station_a1"]
    current = client.get(f"/api/v1/customers/{customer.id}", headers=headers).json()
    for field in ("name", "address", "is_important", "usage_category"):
        answer = client.patch(
            f"/api/v1/customers/{customer.id}",
            json={"version": current["version"], field: None},
            headers=headers,
        )
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["error"]["details"][0]["field"] == field
    cleared = client.patch(
        f"/api/v1/customers/{customer.id}",
        json={"version": current["version"], "phone_alt": None},
        headers=headers,
    )
    assert cleared.status_code == 200


def test_nul_characters_are_refused_before_they_reach_the_database(
    client: httpx.Client, world: World
) -> None:
    headers = login(client, world.users["admin"].username, PASSWORD)
    assert client.get("/api/v1/customers?q=a%00b", headers=headers).status_code == 422
    made = client.post(
        "/api/v1/workorders",
        json={"business_type": "consultation", "content": "电价\u0000咨询"},
        headers=headers,
    )
    assert made.status_code == 422
    assert "空字符" in made.json()["error"]["message"]
    vendor_json = client.post(
        "/api/v1/workorders",
        content='{"business_type": "consultation", "content": "电价\\u0000咨询"}'.encode(),
        headers={**headers, "Content-Type": "application/merge-patch+json"},
    )
    assert vendor_json.status_code == 422
    form = client.post(
        "/api/v1/auth/token", files={"username": (None, "a\x00b"), "password": (None, "x")}
    )  # multipart fields are checked too
    assert form.status_code == 422


def test_a_time_without_its_time_zone_is_a_field_error(client: httpx.Client, world: World) -> None:
    headers = login(client, world.users["admin"].username, PASSWORD)
    body = {"account_no": "1", "bill_month": "2026-10", "amount_cents": 1, "due_date": "2026-10-01T00:00:00"}
    answer = client.post("/api/v1/arrears", json=body, headers=headers)
    assert answer.status_code == 422
    assert "时区" in answer.json()["error"]["message"]


def test_an_unexpected_error_is_the_usual_json_or_page_with_status_500(settings: Settings) -> None:
    app: FastAPI = create_app(settings)

    def boom() -> None:
        raise RuntimeError("13812345678 should never be shown")

    app.add_api_route("/api/v1/boom", boom)
    app.add_api_route("/boom", boom)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        api = httpx.get(f"http://127.0.0.1:{port}/api/v1/boom")
        assert api.status_code == 500
        assert api.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self'" in api.headers["content-security-policy"]
        assert api.json()["error"]["code"] == "internal_error"
        assert "13812345678" not in api.text
        page = httpx.get(f"http://127.0.0.1:{port}/boom")
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        assert "服务器内部错误" in page.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_security_headers_body_limit_and_405_allow(client: httpx.Client) -> None:
    page = client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # nothing inline for the CSP to block
    assert "onclick=" not in page.text
    big = client.post("/api/v1/auth/token", content=b"x" * (3 * 1024 * 1024))
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "payload_too_large"
    wrong = client.request("TRACE", "/api/v1/customers")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]


def test_api_docs_come_from_the_package_not_a_cdn(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text):
        assert client.get(asset).status_code == 200, asset
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/api/v1/workorders/{order_id}"]["get"]["responses"]
    assert {"401", "403", "404", "422", "429", "500"} <= set(responses)
    assert "HTTPValidationError" not in str(spec)


def test_each_user_has_a_request_rate(settings: Settings, world: World) -> None:
    tight = settings.model_copy(update={"api_rate_per_minute": 60, "api_rate_burst": 5})
    with serving(tight) as base, httpx.Client(base_url=base) as c:
        headers = login(c, world.users["agent"].username, PASSWORD)
        codes = [c.get("/api/v1/auth/me", headers=headers).status_code for _ in range(8)]
        assert codes[:5] == [200] * 5
        assert codes[-1] == 429
        refused = c.get("/api/v1/auth/me", headers=headers)
        assert int(refused.headers["retry-after"]) >= 1
        assert "请求过于频繁" in refused.json()["error"]["message"]
        other = login(c, world.users["manager"].username, PASSWORD)
        assert c.get("/api/v1/auth/me", headers=other).status_code == 200  # per user, not global


@pytest.fixture
def logged_server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`gridcare serve` in its own process at debug level, its log in a file."""
    port = _free_port()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "GRIDCARE_DATABASE_URL": database_url,
        "GRIDCARE_SECRET_KEY": "test-secret-key-for-gridcare-tests-only-0123456789",
        "GRIDCARE_LOG_LEVEL": "debug",
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gridcare.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            yield base, log
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_no_phone_or_id_number_reaches_the_server_log(logged_server: tuple[str, Path], world: World) -> None:
    base, log = logged_server
    customer = world.customers["station_a1"]
    with httpx.Client(base_url=base, timeout=30) as c:
        headers = login(c, world.users["agent"].username, PASSWORD)
        c.get("/api/v1/customers", params={"q": customer.phone}, headers=headers)
        c.get(
            "/api/v1/customers", params={"phone": customer.phone, "q": "330101199001011234"}, headers=headers
        )
        c.get(f"/api/v1/customers/{customer.phone}", headers=headers)
        web_login(c, world.users["agent"].username, PASSWORD)
        c.get("/intake/search", params={"q": customer.phone})
    time.sleep(0.5)
    text = log.read_text()
    assert "GET /api/v1/customers 200" in text  # the access log is there, without its query
    assert customer.phone not in text
    assert "330101199001011234" not in text
