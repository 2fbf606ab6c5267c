"""The outage API over real HTTP: preview, plan, the refused short notice, customers and notices,
the caller's 台区, reliability and the watch list."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from gridcare.calendar import BEIJING
from tests.conftest import login
from tests.factories import PASSWORD
from tests.outages.conftest import Grid


def test_plan_refuse_short_notice_then_announce_with_approval(client: httpx.Client, grid: Grid) -> None:
    auth = login(client, grid.world.users["dispatcher_a"].username, PASSWORD)
    scope = {"branch_switches": [grid.switch.id]}
    shown = client.post("/api/v1/outages/preview", json=scope, headers=auth)
    assert shown.status_code == 200, shown.text
    assert shown.json()["customers"] == 3
    assert shown.json()["important_customers"] == 1
    start = (datetime.now(BEIJING) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    made = client.post(
        "/api/v1/outages",
        json={
            "kind": "planned",
            "title": "东山2号分支检修",
            "cause": "更换老旧导线",
            "scope": scope,
            "planned_start": start.isoformat(),
            "planned_end": (start + timedelta(hours=6)).isoformat(),
        },
        headers=auth,
    )
    assert made.status_code == 201, made.text
    outage = made.json()
    assert (outage["status"], outage["kind_name"], outage["affected_customers"]) == ("planned", "计划停电", 3)

    refused = client.post(
        f"/api/v1/outages/{outage['id']}/announce", json={"version": outage["version"]}, headers=auth
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "notice_too_late"
    assert "提前 7 天" in refused.json()["error"]["message"]

    # A name typed into the announcement is no approval: the body has no such field any more.
    asked = client.post(
        f"/api/v1/outages/{outage['id']}/short-notice",
        json={"approver_id": grid.world.users["manager"].id, "reason": "导线断股隐患，须尽快处理"},
        headers=auth,
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "pending"
    still = client.post(
        f"/api/v1/outages/{outage['id']}/announce", json={"version": outage["version"]}, headers=auth
    )
    assert still.status_code == 409
    assert "等待审批" in still.json()["error"]["message"]
    # Only the named approver decides, in the API (or their workbench).
    other = login(client, grid.world.users["admin"].username, PASSWORD)
    assert (
        client.post(
            f"/api/v1/outage-approvals/{asked.json()['id']}/approve", json={}, headers=other
        ).status_code
        == 404
    )
    manager = login(client, grid.world.users["manager"].username, PASSWORD)
    mine = client.get("/api/v1/outage-approvals", headers=manager).json()
    assert [a["id"] for a in mine] == [asked.json()["id"]]
    decided = client.post(f"/api/v1/outage-approvals/{asked.json()['id']}/approve", json={}, headers=manager)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status_name"] == "已批准"
    told = client.get("/api/v1/notifications", headers=auth).json()
    assert any("已批准" in n["message"] for n in told)

    approved = client.post(
        f"/api/v1/outages/{outage['id']}/announce", json={"version": outage["version"]}, headers=auth
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status_name"] == "已发布"
    assert approved.json()["short_notice_approver_id"] == grid.world.users["manager"].id

    detail = client.get(f"/api/v1/outages/{outage['id']}", headers=auth).json()
    assert detail["notices"] == {"pending": 4}  # 3 customers (file channel) and the village liaison
    people = client.get(f"/api/v1/outages/{outage['id']}/customers", headers=auth).json()["items"]
    assert [p["is_important"] for p in people] == [True, False, False]
    assert {p["notices_pending"] for p in people} == {1}

    agent = login(client, grid.world.users["agent"].username, PASSWORD)
    here = client.get(f"/api/v1/transformer-areas/{grid.behind_switch[0].id}/outages", headers=agent)
    assert [o["number"] for o in here.json()] == [outage["number"]]
    elsewhere = client.get(f"/api/v1/transformer-areas/{grid.on_feeder.id}/outages", headers=agent)
    assert elsewhere.json() == []


def test_bad_scope_and_reliability_and_watch(client: httpx.Client, grid: Grid) -> None:
    auth = login(client, grid.world.users["dispatcher_a"].username, PASSWORD)
    empty = client.post("/api/v1/outages/preview", json={}, headers=auth)
    assert empty.status_code == 422
    missing = client.post("/api/v1/outages/preview", json={"feeders": [99999999]}, headers=auth)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"] == [
        {"field": "scope.feeders", "id": 99999999, "reason": "不存在"}
    ]
    indices = client.get(
        "/api/v1/outages/reliability",
        params={"from": "2026-01-01", "to": "2026-01-31", "feeder_id": grid.feeder.id},
        headers=auth,
    )
    assert indices.status_code == 200, indices.text
    assert indices.json()["customers_served"] == 4
    assert indices.json()["saifi"] == 0.0
    assert client.get("/api/v1/outages/watch", headers=auth).json() == []
