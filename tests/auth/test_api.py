from __future__ import annotations

import httpx

from tests.conftest import login
from tests.factories import PASSWORD, World


def test_token_then_me(client: httpx.Client, world: World) -> None:
    agent = world.users["agent"]
    headers = login(client, agent.username, PASSWORD)
    me = client.get("/api/v1/auth/me", headers=headers).json()
    assert me == {"id": agent.id, "username": agent.username, "unit_id": agent.unit_id, "roles": ["agent"]}


def test_wrong_password_is_401_with_readable_error(client: httpx.Client, world: World) -> None:
    r = client.post(
        "/api/v1/auth/token", data={"username": world.users["agent"].username, "password": "nope"}
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed"
    assert "密码错误" in r.json()["error"]["message"]


def test_unknown_user_fails_like_a_wrong_password(client: httpx.Client) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "nobody-here", "password": "x"})
    assert r.status_code == 401
    assert "密码错误" in r.json()["error"]["message"]


def test_missing_or_bad_token_is_401(client: httpx.Client) -> None:
    assert client.get("/api/v1/customers").status_code == 401
    r = client.get("/api/v1/customers", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "无效的访问令牌"


def test_login_attempts_are_rate_limited(client: httpx.Client, world: World) -> None:
    username = world.users["auditor"].username
    for _ in range(5):
        r = client.post("/api/v1/auth/token", data={"username": username, "password": "wrong"})
        assert r.status_code == 401
    # Now even the right password is refused until the window passes.
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0


def test_successful_login_is_audited(client: httpx.Client, world: World) -> None:
    login(client, world.users["manager"].username, PASSWORD)
    headers = login(client, world.users["admin"].username, PASSWORD)
    entries = client.get(
        "/api/v1/audit-log",
        params={"entity": "user", "entity_id": world.users["manager"].id},
        headers=headers,
    ).json()["items"]
    assert [e["action"] for e in entries] == ["login"]
