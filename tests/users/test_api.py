from __future__ import annotations

import httpx

from tests.conftest import login
from tests.factories import PASSWORD, World, unique


def test_admin_creates_a_user_who_can_log_in(client: httpx.Client, world: World) -> None:
    headers = login(client, world.users["admin"].username, PASSWORD)
    username = unique("new")
    body = {
        "username": username,
        "display_name": "周新",
        "password": "a-long-password",
        "unit_code": world.units["station_a2"].code,
        "roles": ["station_staff"],
    }
    r = client.post("/api/v1/users", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["roles"] == ["station_staff"]
    assert client.post("/api/v1/users", json=body, headers=headers).status_code == 409
    login(client, username, "a-long-password")


def test_only_admins_create_users(client: httpx.Client, world: World) -> None:
    headers = login(client, world.users["manager"].username, PASSWORD)
    body = {
        "username": unique("x"),
        "display_name": "x",
        "password": "a-long-password",
        "unit_code": world.units["city"].code,
        "roles": ["agent"],
    }
    r = client.post("/api/v1/users", json=body, headers=headers)
    assert r.status_code == 403
    assert "系统管理员" in r.json()["error"]["message"]


def test_user_list_is_scoped(client: httpx.Client, world: World) -> None:
    headers = login(client, world.users["staff_b1"].username, PASSWORD)
    users = client.get("/api/v1/users", headers=headers).json()["items"]
    assert [u["username"] for u in users] == [world.users["staff_b1"].username]


def test_grid_lists(client: httpx.Client, world: World) -> None:
    headers = login(client, world.users["staff_a1"].username, PASSWORD)
    areas = client.get("/api/v1/transformer-areas", headers=headers).json()["items"]
    assert [a["code"] for a in areas] == [world.areas["station_a1"].code]
    feeder_id = areas[0]["feeder_id"]
    assert (
        client.get("/api/v1/feeders", params={"substation_id": 99999999}, headers=headers).json()["items"]
        == []
    )
    assert client.get("/api/v1/feeders", params={"substation_id": 0}, headers=headers).status_code == 422
    assert (
        client.get(f"/api/v1/transformer-areas/{world.areas['station_b1'].id}", headers=headers).status_code
        == 404
    )
    villages = client.get("/api/v1/villages", headers=headers).json()["items"]
    assert [v["id"] for v in villages] == [world.areas["station_a1"].village_id]
    assert feeder_id is not None


def test_front_door_and_docs(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 303
    assert page.headers["location"] == "/login"
    assert "登录" in client.get("/login").text
    assert client.get("/docs").status_code == 200
    assert "/api/v1/customers" in client.get("/openapi.json").json()["paths"]
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_user_detail_shows_managed_areas_and_villages(
    client: httpx.Client, world: World, session_factory: object
) -> None:
    from sqlalchemy import update

    from gridcare.models import TransformerArea, Village

    staff = world.users["staff_a1"]
    area = world.areas["station_a1"]
    with session_factory() as s:  # type: ignore[operator]
        s.execute(
            update(TransformerArea).where(TransformerArea.id == area.id).values(manager_user_id=staff.id)
        )
        s.execute(update(Village).where(Village.id == area.village_id).values(liaison_user_id=staff.id))
        village_code = s.get(Village, area.village_id).code
        s.commit()
    headers = login(client, world.users["admin"].username, PASSWORD)
    detail = client.get(f"/api/v1/users/{staff.id}", headers=headers).json()
    assert detail["managed_area_codes"] == [area.code]
    assert detail["liaison_village_codes"] == [village_code]
