from __future__ import annotations

import httpx
import pytest

from tests.conftest import concurrently, login
from tests.factories import PASSWORD, World


def auth(client: httpx.Client, world: World, who: str) -> dict[str, str]:
    return login(client, world.users[who].username, PASSWORD)


def test_find_customer_by_account_number_and_by_phone(client: httpx.Client, world: World) -> None:
    headers = auth(client, world, "agent")
    customer = world.customers["station_a1"]
    for q in (customer.account_no, customer.phone):
        page = client.get("/api/v1/customers", params={"q": q}, headers=headers).json()
        assert [c["account_no"] for c in page["items"]] == [customer.account_no]
        card = page["items"][0]
        assert card["transformer_area_code"] == world.areas["station_a1"].code
        assert card["station_name"] == "甲一供电所"
        assert card["area_class"] == "rural"
    by_field = client.get("/api/v1/customers", params={"phone": customer.phone}, headers=headers).json()
    assert by_field["items"][0]["id"] == customer.id


def test_find_by_name_prefix_and_address_fragment(client: httpx.Client, world: World) -> None:
    headers = auth(client, world, "agent")
    city_scope = {"station_id": world.units["station_b1"].id}
    by_name = client.get("/api/v1/customers", params={"name": "乙一", **city_scope}, headers=headers).json()
    assert [c["id"] for c in by_name["items"]] == [world.customers["station_b1"].id]
    fragment = world.customers["station_b1"].address[6:12]  # "乙一镇乙一村…": a fragment from the middle
    by_address = client.get("/api/v1/customers", params={"address": fragment}, headers=headers).json()
    assert world.customers["station_b1"].id in [c["id"] for c in by_address["items"]]
    two_chars = client.get("/api/v1/customers", params={"q": "乙一", **city_scope}, headers=headers).json()
    assert [c["id"] for c in two_chars["items"]] == [world.customers["station_b1"].id]


def test_station_user_cannot_read_another_stations_customers(client: httpx.Client, world: World) -> None:
    headers = auth(client, world, "staff_a1")
    other = world.customers["station_b1"]
    assert (
        client.get("/api/v1/customers", params={"q": other.account_no}, headers=headers).json()["items"] == []
    )
    r = client.get(f"/api/v1/customers/{other.id}", headers=headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    own = world.customers["station_a1"]
    assert client.get(f"/api/v1/customers/{own.id}", headers=headers).status_code == 200
    # Same station's neighbour in the same county is out of scope too.
    sibling = world.customers["station_a2"]
    assert client.get(f"/api/v1/customers/{sibling.id}", headers=headers).status_code == 404


def test_county_user_sees_its_stations_only(client: httpx.Client, world: World) -> None:
    headers = auth(client, world, "dispatcher_a")
    seen = client.get("/api/v1/customers", params={"page_size": 50}, headers=headers).json()["items"]
    assert {c["id"] for c in seen} == {world.customers["station_a1"].id, world.customers["station_a2"].id}
    units = client.get("/api/v1/units", headers=headers).json()
    assert {u["name"] for u in units} == {"甲县公司", "甲一供电所", "甲二供电所"}


@pytest.mark.parametrize("role", ["manager", "auditor"])
def test_phones_and_ids_masked_for_roles_that_do_not_need_them(
    client: httpx.Client, world: World, role: str
) -> None:
    customer = world.customers["station_a1"]
    card = client.get(f"/api/v1/customers/{customer.id}", headers=auth(client, world, role)).json()
    assert card["phone"] == f"{customer.phone[:3]}****{customer.phone[-4:]}"
    assert card["id_number"] == "330101********1234"


def test_agent_sees_phone_and_id_in_clear(client: httpx.Client, world: World) -> None:
    customer = world.customers["station_a1"]
    card = client.get(f"/api/v1/customers/{customer.id}", headers=auth(client, world, "agent")).json()
    assert card["phone"] == customer.phone
    assert card["id_number"] == "330101199001011234"


def test_create_customer_validates_and_refuses_duplicates(client: httpx.Client, world: World) -> None:
    headers = auth(client, world, "staff_a1")
    body = {
        "account_no": "880000000001" + world.areas["station_a1"].code[-3:].encode().hex()[:0],
        "name": "新客户",
        "phone": "138-0013-8000",
        "address": "江州市甲一镇新村1号",
        "transformer_area_code": world.areas["station_a1"].code,
    }
    body["account_no"] = str(world.customers["station_a1"].id).rjust(12, "8")
    r = client.post("/api/v1/customers", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "13800138000"
    assert r.json()["station_id"] == world.units["station_a1"].id
    again = client.post("/api/v1/customers", json=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    bad = client.post("/api/v1/customers", json={**body, "account_no": "12ab"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "account_no"
    # A station may not file customers under another station's 台区.
    foreign = {
        **body,
        "account_no": body["account_no"][:-1] + "9",
        "transformer_area_code": world.areas["station_b1"].code,
    }
    r = client.post("/api/v1/customers", json=foreign, headers=headers)
    assert r.status_code == 422
    assert "权限范围" in r.json()["error"]["message"]


def test_manager_may_not_edit_customers(client: httpx.Client, world: World) -> None:
    customer = world.customers["station_a1"]
    r = client.patch(
        f"/api/v1/customers/{customer.id}",
        json={"version": 1, "name": "改名"},
        headers=auth(client, world, "manager"),
    )
    assert r.status_code == 403


def test_update_needs_the_current_version(client: httpx.Client, world: World) -> None:
    headers = auth(client, world, "agent")
    customer = world.customers["station_a2"]
    ok = client.patch(
        f"/api/v1/customers/{customer.id}", json={"version": 1, "name": "李新名"}, headers=headers
    )
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    stale = client.patch(
        f"/api/v1/customers/{customer.id}", json={"version": 1, "name": "王旧名"}, headers=headers
    )
    assert stale.status_code == 409
    assert client.get(f"/api/v1/customers/{customer.id}", headers=headers).json()["name"] == "李新名"


def test_concurrent_edits_one_wins_one_conflicts(client: httpx.Client, world: World, base_url: str) -> None:
    headers = auth(client, world, "agent")
    customer = world.customers["station_b1"]
    responses = concurrently(
        2,
        lambda c: c.patch(
            f"/api/v1/customers/{customer.id}",
            json={"version": 1, "address": "江州市并发路1号"},
            headers=headers,
        ),
        base_url,
    )
    results = [r.status_code for r in responses]
    assert sorted(results) == [200, 409]
    final = client.get(f"/api/v1/customers/{customer.id}", headers=headers).json()
    assert final["version"] == 2


def test_edits_are_audited_without_personal_data(client: httpx.Client, world: World) -> None:
    customer = world.customers["station_a1"]
    client.patch(
        f"/api/v1/customers/{customer.id}",
        json={"version": 1, "phone": "13912345678", "name": "张改名"},
        headers=auth(client, world, "agent"),
    )
    entries = client.get(
        "/api/v1/audit-log",
        params={"entity": "customer", "entity_id": customer.id},
        headers=auth(client, world, "auditor"),
    ).json()["items"]
    assert entries[0]["action"] == "update"
    assert entries[0]["user_id"] == world.users["agent"].id
    assert entries[0]["detail"] == {"name": "张改名", "phone": "***"}


def test_paging_reports_more(client: httpx.Client, world: World) -> None:
    headers = auth(client, world, "agent")
    page1 = client.get(
        "/api/v1/customers",
        params={"page_size": 2, "station_id": world.units["station_a1"].id},
        headers=headers,
    ).json()
    assert page1["has_more"] is False
    assert len(page1["items"]) == 1
    units = client.get("/api/v1/customers", params={"page_size": 2}, headers=headers).json()
    assert units["has_more"] is True
    assert len(units["items"]) == 2
    assert client.get("/api/v1/customers", params={"page_size": 999}, headers=headers).status_code == 422
