from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.auth.principal import Principal
from gridcare.auth.service import principal_for
from gridcare.models import Customer, Unit
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


def test_scope_is_read_at_sign_in(world: World, session_factory: sessionmaker[Session]) -> None:
    """A user's scope is their unit's subtree, as a list of unit ids; only the single root of the unit
    tree may skip the filter (this database holds many test cities, so nobody here does)."""
    with session_factory() as s:
        city = principal_for(s, world.users["agent"].id)
        county = principal_for(s, world.users["dispatcher_a"].id)
        station = principal_for(s, world.users["staff_a1"].id)
        roots = s.scalar(select(func.count()).where(Unit.parent_id.is_(None)))
    assert roots is not None
    assert roots > 1
    assert not city.covers_all
    assert set(city.scope_unit_ids) == {u.id for u in world.units.values()}
    assert set(county.scope_unit_ids) == {world.units[k].id for k in ("county_a", "station_a1", "station_a2")}
    assert station.scope_unit_ids == (world.units["station_a1"].id,)
    whole = Principal(user_id=0, username="x", unit_id=0, unit_path="/1/", roles=frozenset(), covers_all=True)
    assert str(whole.in_scope(Customer.station_id)) == "true"
