"""GET /api/v1/reports/monitoring over real HTTP: orders taken through the API appear at once; roles and
scope are enforced; bad parameters are named."""

from __future__ import annotations

from datetime import datetime

import httpx

from gridcare.calendar import BEIJING
from tests.factories import World
from tests.workorders.helpers import Desk

KEYS = {
    "period",
    "unit",
    "totals",
    "by_type",
    "complaints_by_category",
    "by_area_class",
    "by_unit",
    "by_hour",
    "by_weekday",
    "hotspots",
    "steps",
    "satisfaction_rate",
    "service_index",
    "complaints_per_10k",
}


def test_report_counts_orders_just_taken(client: httpx.Client, world: World) -> None:
    desk = Desk(client, world)
    for _ in range(2):
        assert desk.create().status_code == 201
    assert (
        desk.create(business_type="consultation", category=None, content="咨询电价怎么算").status_code == 201
    )
    today = datetime.now(BEIJING).date().isoformat()
    params = {"from": today, "to": today, "unit": world.units["city"].code}
    r = client.get("/api/v1/reports/monitoring", params=params, headers=desk.headers("manager"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= KEYS
    assert set(body["complaints_by_category"]) == {"l1", "l2", "l3"}
    assert set(body["hotspots"]) == {"multi_customer", "consecutive_months", "same_month_last_year"}
    assert (body["totals"]["orders"], body["totals"]["complaints"]) == (3, 2)
    assert body["unit"]["name"] == world.units["city"].name
    hour = datetime.now(BEIJING).hour
    assert body["by_hour"][hour]["orders"] >= 1 or body["by_hour"][(hour - 1) % 24]["orders"] >= 1
    dispatch = {s["step"]: s for s in body["steps"]["by_step"]}["pending_dispatch"]
    assert dispatch["open"] == 3
    assert dispatch["count"] == 0

    # The manager's own unit is the default.
    assert (
        client.get(
            "/api/v1/reports/monitoring", params={"from": today, "to": today}, headers=desk.headers("manager")
        ).json()["unit"]["id"]
        == world.units["city"].id
    )


def test_roles_scope_and_parameters(client: httpx.Client, world: World) -> None:
    desk = Desk(client, world)
    params = {"from": "2025-03-01", "to": "2025-03-31"}
    denied = client.get("/api/v1/reports/monitoring", params=params, headers=desk.headers("agent"))
    assert denied.status_code == 403
    assert "管理人员" in denied.json()["error"]["message"]
    # A county dispatcher may read its county, not the city above it.
    county = client.get(
        "/api/v1/reports/monitoring",
        params={**params, "unit": world.units["county_a"].code},
        headers=desk.headers("dispatcher_a"),
    )
    assert county.status_code == 200
    assert county.json()["unit"]["kind"] == "county"
    above = client.get(
        "/api/v1/reports/monitoring",
        params={**params, "unit": world.units["city"].code},
        headers=desk.headers("dispatcher_a"),
    )
    assert above.status_code == 404  # another unit answers like one that does not exist
    assert "不存在或不在您的权限范围内" in above.json()["error"]["message"]
    missing = client.get(
        "/api/v1/reports/monitoring", params={"to": "2025-03-31"}, headers=desk.headers("manager")
    )
    assert missing.status_code == 422
    backwards = client.get(
        "/api/v1/reports/monitoring",
        params={"from": "2025-03-31", "to": "2025-03-01"},
        headers=desk.headers("manager"),
    )
    assert backwards.status_code == 422
    assert "早于" in backwards.json()["error"]["message"]
    assert client.get("/api/v1/reports/monitoring", params=params).status_code == 401
