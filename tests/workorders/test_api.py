from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import concurrently
from tests.factories import World
from tests.workorders.helpers import COMPLAINT_FREQUENT_OUTAGE, Desk


@pytest.fixture
def desk(client: httpx.Client, world: World) -> Desk:
    return Desk(client, world)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_complaint_from_intake_to_archive(desk: Desk, world: World) -> None:
    r = desk.create(contact_phone="139-0000-1111")
    assert r.status_code == 201, r.text
    order = r.json()
    # Routed by the grid: the station owning the customer's 台区, its 台区经理 as handler.
    assert order["station_id"] == world.units["station_a1"].id
    assert order["county_id"] == world.units["county_a"].id
    assert order["handler_user_id"] == world.users["staff_a1"].id
    assert order["first_owner_user_id"] == world.users["agent"].id
    assert order["area_class"] == "rural"
    assert len(order["number"]) == 14
    assert order["number"].isdigit()
    assert order["step"] == "pending_dispatch"
    assert order["step_name"] == "待派单"
    accepted = ts(order["accepted_at"])
    assert ts(order["step_deadline"]) - accepted == timedelta(minutes=20)
    assert ts(order["step_warn_at"]) - accepted == timedelta(minutes=16)

    order = desk.ok("dispatcher_a", order, "dispatch")
    assert order["step"] == "pending_accept"
    assert ts(order["step_deadline"]) - ts(order["step_entered_at"]) == timedelta(hours=2)
    order = desk.ok("staff_a1", order, "accept")
    assert ts(order["step_deadline"]) - ts(order["step_entered_at"]) == timedelta(hours=24)
    order = desk.ok("staff_a1", order, "contact", note="已电话联系客户")
    assert order["step"] == "in_progress"
    # Whole handling: 5 working days counted from acceptance, not from this step.
    assert ts(order["step_deadline"]) - accepted >= timedelta(days=5)
    order = desk.ok("staff_a1", order, "reply", reply="已更换线路开关，近期将安排线路改造")
    order = desk.ok("dispatcher_a", order, "review", passed=True)
    assert order["step"] == "pending_callback"
    order = desk.ok("agent", order, "callback", reached=True, satisfaction="satisfied")
    assert order["step"] == "pending_archive"
    assert order["satisfaction"] == "satisfied"
    order = desk.ok("agent", order, "archive")
    assert order["step"] == "archived"
    assert order["archived_at"] is not None
    assert order["step_deadline"] is None

    events = desk.timeline(order["id"])
    assert [e["action"] for e in events] == [
        "create",
        "dispatch",
        "accept",
        "contact",
        "reply",
        "review_pass",
        "callback",
        "archive",
    ]
    assert [e["to_step"] for e in events][-1] == "archived"
    # Each step left carries its own timing for analytics.
    dispatch = events[1]
    assert dispatch["from_step"] == "pending_dispatch"
    assert dispatch["step_deadline"] is not None
    assert dispatch["step_late"] is False
    assert events[3]["note"] == "已电话联系客户"


# (type, category, expected actions after reply) — every business type through the API.
LIVES: list[tuple[str, str | None, list[str]]] = [
    ("fault_repair", "lv", ["review", "callback", "archive"]),
    ("report", None, ["review", "callback", "archive"]),
    ("opinion", None, ["review", "callback", "archive"]),
    ("service_request", "meter_abnormal", ["review", "callback", "archive"]),
    ("consultation", None, ["review", "callback", "archive"]),
    ("praise", None, ["review", "archive"]),  # no callback for praise
]


@pytest.mark.parametrize(("business_type", "category", "after_reply"), LIVES)
def test_every_type_runs_its_whole_life(
    desk: Desk, business_type: str, category: str | None, after_reply: list[str]
) -> None:
    body: dict[str, Any] = {
        "business_type": business_type,
        "category": category,
        "content": f"{business_type} 测试",
    }
    order = desk.create(**body).json()
    assert order["step"] == "pending_dispatch", order
    for who, action in [("dispatcher_a", "dispatch"), ("staff_a1", "accept"), ("staff_a1", "contact")]:
        order = desk.ok(who, order, action)
    order = desk.ok("staff_a1", order, "reply", reply="已处理")
    for action in after_reply:
        if action == "review":
            order = desk.ok("dispatcher_a", order, "review", passed=True)
        elif action == "callback":
            order = desk.ok("agent", order, "callback", reached=True, satisfaction="very_satisfied")
        else:
            order = desk.ok("agent", order, "archive")
    assert order["step"] == "archived"


def test_fault_repair_limits_depend_on_area_class(desk: Desk) -> None:
    order = desk.create(
        business_type="fault_repair", category="lv", content="家里没电了", urgency="urgent"
    ).json()
    assert ts(order["step_deadline"]) - ts(order["accepted_at"]) == timedelta(minutes=2)
    order = desk.ok("dispatcher_a", order, "dispatch")
    assert ts(order["step_deadline"]) - ts(order["step_entered_at"]) == timedelta(minutes=3)
    order = desk.ok("staff_a1", order, "accept")
    assert order["step_name"] == "待到达现场"
    assert ts(order["step_deadline"]) - ts(order["step_entered_at"]) == timedelta(minutes=90)  # rural
    order = desk.ok("staff_a1", order, "contact")
    assert ts(order["step_deadline"]) - ts(order["step_entered_at"]) == timedelta(hours=4)


def test_consultation_closed_at_first_contact(desk: Desk) -> None:
    order = desk.create(business_type="consultation", category=None, content="电费怎么缴").json()
    r = desk.act("agent", order, "resolve")
    assert r.status_code == 422
    order = desk.ok("agent", order, "resolve", note="已告知网上国网缴费方式")
    assert order["step"] == "pending_archive"
    assert desk.ok("agent", order, "archive")["step"] == "archived"


def test_invalid_transition_is_409_and_changes_nothing(desk: Desk) -> None:
    order = desk.create().json()
    r = desk.act("agent", order, "archive")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "transition_not_allowed"
    assert "待派单" in r.json()["error"]["message"]
    assert desk.get(order["id"])["version"] == order["version"]
    assert len(desk.timeline(order["id"])) == 1


def test_wrong_role_is_403(desk: Desk) -> None:
    order = desk.create().json()
    r = desk.act("staff_a1", order, "dispatch")
    assert r.status_code == 403
    assert "调度员" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "TS04"}, "category"),  # not a leaf
        ({"category": "NOPE"}, "category"),
        ({"business_type": "gossip"}, "business_type"),
        ({"channel": "pigeon"}, "channel"),
        ({"account_no": "000"}, "account_no"),
        ({"account_no": None}, "account_no"),  # nothing to route by
        ({"content": ""}, "content"),
    ],
)
def test_bad_intake_is_422_naming_the_field(desk: Desk, body: dict[str, Any], field: str) -> None:
    r = desk.create(**body)
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["error"]["details"]]


def test_return_needs_an_allowed_reason_and_redispatch_reroutes(desk: Desk, world: World) -> None:
    order = desk.ok("dispatcher_a", desk.create().json(), "dispatch")
    r = desk.act("staff_a1", order, "return", reason="customer_unhappy", correction="客户不满意")
    assert r.status_code == 422
    assert "不能作为退单原因" in r.json()["error"]["message"]
    order = desk.ok("staff_a1", order, "return", reason="wrong_unit", correction="应由甲二供电所处理")
    assert order["step"] == "pending_dispatch"
    order = desk.ok(
        "dispatcher_a",
        order,
        "dispatch",
        station_id=world.units["station_a2"].id,
        handler_user_id=world.users["staff_a2"].id,
    )
    assert order["station_id"] == world.units["station_a2"].id
    assert order["handler_user_id"] == world.users["staff_a2"].id
    returned = next(e for e in desk.timeline(order["id"]) if e["action"] == "return")
    assert returned["data"]["reason"] == "wrong_unit"
    assert returned["data"]["correction"] == "应由甲二供电所处理"
    # The original station no longer sees it.
    r = desk.client.get(f"/api/v1/workorders/{order['id']}", headers=desk.headers("staff_a1"))
    assert r.status_code == 404


def test_concurrent_actions_one_wins_one_conflicts(desk: Desk, base_url: str) -> None:
    order = desk.create().json()
    headers = desk.headers("dispatcher_a")
    responses = concurrently(
        2,
        lambda c: c.post(
            f"/api/v1/workorders/{order['id']}/dispatch", json={"version": order["version"]}, headers=headers
        ),
        base_url,
    )
    codes = [r.status_code for r in responses]
    assert sorted(codes) == [200, 409]
    assert [e["action"] for e in desk.timeline(order["id"])] == ["create", "dispatch"]


def test_retried_create_with_same_idempotency_key_makes_one_order(desk: Desk, base_url: str) -> None:
    key = f"call-{datetime.now().timestamp()}"
    first = desk.create(idempotency_key=key)
    assert first.status_code == 201
    again = desk.client.post(
        "/api/v1/workorders",
        json={
            "business_type": "complaint",
            "category": COMPLAINT_FREQUENT_OUTAGE,
            "content": "两个月停电三次",
            "account_no": desk.world.customers["station_a1"].account_no,
        },
        headers={**desk.headers("agent"), "Idempotency-Key": key},
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    # Concurrent retries too.
    key2 = key + "-concurrent"
    body = {
        "business_type": "praise",
        "content": "感谢抢修师傅",
        "idempotency_key": key2,
        "account_no": desk.world.customers["station_a1"].account_no,
    }
    responses = concurrently(
        3, lambda c: c.post("/api/v1/workorders", json=body, headers=desk.headers("agent")), base_url
    )
    assert {r.status_code for r in responses} <= {200, 201}
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == 1


def test_urging_creates_a_linked_order_and_tells_the_owner(desk: Desk, world: World) -> None:
    chased = desk.ok("dispatcher_a", desk.create().json(), "dispatch")
    r = desk.client.post(
        f"/api/v1/workorders/{chased['id']}/urge",
        json={"content": "怎么还没人联系我"},
        headers=desk.headers("agent"),
    )
    assert r.status_code == 201, r.text
    urging = r.json()
    assert urging["business_type"] == "urging"
    assert urging["urged_order_id"] == chased["id"]
    assert urging["station_id"] == chased["station_id"]
    assert ts(urging["step_deadline"]) - ts(urging["accepted_at"]) == timedelta(minutes=10)
    assert desk.get(chased["id"])["priority"] == 1
    notes = desk.client.get("/api/v1/notifications", headers=desk.headers("staff_a1")).json()
    assert any(n["kind"] == "urged" and n["order_id"] == chased["id"] for n in notes)
    urging = desk.ok("dispatcher_a", urging, "dispatch")
    assert urging["step"] == "pending_archive"


def test_merge_repair_orders_about_one_fault_point(desk: Desk) -> None:
    body = {
        "business_type": "fault_repair",
        "category": "lv",
        "content": "整栋楼停电",
        "fault_point": "3号变压器",
    }
    main = desk.create(**body).json()
    sub = desk.create(**{**body, "content": "楼下也停电了"}).json()
    r = desk.act("dispatcher_a", main, "merge", main_order_id=sub["id"])
    assert r.status_code == 422  # the first accepted must be the main order
    sub = desk.ok("dispatcher_a", sub, "merge", main_order_id=main["id"])
    assert sub["step"] == "merged"
    assert sub["main_order_id"] == main["id"]
    for who, action in [("dispatcher_a", "dispatch"), ("staff_a1", "accept"), ("staff_a1", "contact")]:
        main = desk.ok(who, main, action)
    desk.ok("staff_a1", main, "reply", reply="已更换熔断器，恢复供电")
    sub = desk.get(sub["id"])
    assert sub["step"] == "pending_review"
    assert sub["reply"] == "已更换熔断器，恢复供电"
    # Both are reviewed and called back.
    sub = desk.ok("dispatcher_a", sub, "review", passed=True)
    assert sub["step"] == "pending_callback"
    complaint = desk.create().json()
    r = desk.act("dispatcher_a", complaint, "merge", main_order_id=main["id"])
    assert r.status_code == 409  # only repair orders merge


def test_repeat_calls_are_flagged_and_sensitive_customers_marked(desk: Desk, world: World) -> None:
    customer = world.customers["station_b1"]
    body = {"account_no": customer.account_no}
    first = desk.create(**body).json()
    assert first["is_repeat"] is False
    second = desk.create(**body).json()
    assert second["is_repeat"] is True
    assert second["repeat_of_id"] == first["id"]
    other = desk.create(**body, category="TS020201").json()  # 营业投诉 > 抄表催费 > 抄表: another matter
    assert other["is_repeat"] is False
    card = desk.client.get(f"/api/v1/customers/{customer.id}", headers=desk.headers("agent")).json()
    assert card["is_sensitive"] is True  # three complaints in 12 months
    repeats = desk.client.get(
        "/api/v1/workorders",
        params={"is_repeat": True, "customer_id": customer.id},
        headers=desk.headers("agent"),
    ).json()["items"]
    assert [o["id"] for o in repeats] == [second["id"]]


def test_orders_are_scoped_by_unit(desk: Desk) -> None:
    order = desk.create().json()
    assert (
        desk.client.get(f"/api/v1/workorders/{order['id']}", headers=desk.headers("staff_b1")).status_code
        == 404
    )
    listed = desk.client.get("/api/v1/workorders", headers=desk.headers("staff_b1")).json()["items"]
    assert order["id"] not in [o["id"] for o in listed]
    mine = desk.client.get(
        "/api/v1/workorders", params={"mine": True}, headers=desk.headers("staff_a1")
    ).json()
    assert order["id"] in [o["id"] for o in mine["items"]]
    r = desk.act("staff_b1", order, "accept")
    assert r.status_code == 404


def test_list_filters_and_sorting(desk: Desk, world: World) -> None:
    a = desk.create(content="台区电压低，空调开不了").json()
    b = desk.create(business_type="fault_repair", category="lv", content="一片没电").json()
    station = world.units["station_a1"].id
    headers = desk.headers("agent")

    def ids(**params: Any) -> list[int]:
        page = desk.client.get(
            "/api/v1/workorders", params={"unit_id": station, **params}, headers=headers
        ).json()
        return [o["id"] for o in page["items"]]

    assert ids(business_type="fault_repair") == [b["id"]]
    assert ids(category="TS04") == [a["id"]]
    assert ids(q="空调") == [a["id"]]
    assert ids(q=b["number"]) == [b["id"]]
    assert ids()[:2] == [b["id"], a["id"]]  # newest first
    assert ids(sort="created_at")[-2:] == [a["id"], b["id"]]
    assert ids(step="pending_dispatch", overdue=True) == []
    today = datetime.now().date().isoformat()
    assert set(ids(created_from=today)) >= {a["id"], b["id"]}
    r = desk.client.get("/api/v1/workorders", params={"sort": "nonsense"}, headers=headers)
    assert r.status_code == 422


def test_admin_edits_catalogues_and_publishes_time_limits(desk: Desk) -> None:
    admin = desk.headers("admin")
    tree = desk.client.get("/api/v1/catalogs/complaint_category", headers=desk.headers("agent")).json()
    assert len([i for i in tree if i["level"] == 1]) == 5
    assert {"服务投诉", "营业投诉", "停送电投诉", "供电质量投诉", "电网建设投诉"} == {
        i["name"] for i in tree if i["level"] == 1
    }
    code = f"TS0402{len(tree):02d}"
    r = desk.client.post(
        "/api/v1/catalogs/complaint_category",
        json={"code": code, "name": "电压波动", "parent_code": "TS0402"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["level"] == 3
    assert (
        desk.client.post(
            "/api/v1/catalogs/channel", json={"code": "x1", "name": "y"}, headers=desk.headers("agent")
        ).status_code
        == 403
    )
    # A retired item can no longer be used at intake.
    desk.client.patch(f"/api/v1/catalogs/complaint_category/{code}", json={"active": False}, headers=admin)
    assert desk.create(category=code).status_code == 422

    current = desk.client.get("/api/v1/sla/rules", headers=admin).json()
    stricter = [
        ({**r, "limit_value": 4} if (r["business_type"], r["step"]) == ("complaint", "in_progress") else r)
        for r in current
    ]
    r = desk.client.post(
        "/api/v1/sla/versions",
        headers=admin,
        json={
            "name": "内部规则：投诉 4 个工作日",
            "effective_from": "2100-01-01T00:00:00+00:00",
            "rules": stricter,
        },
    )
    assert r.status_code == 201, r.text
    published = desk.client.get(
        "/api/v1/sla/rules", params={"version_id": r.json()["id"]}, headers=admin
    ).json()
    handling = [x for x in published if (x["business_type"], x["step"]) == ("complaint", "in_progress")]
    assert [x["limit_value"] for x in handling] == [4]
    assert desk.client.get("/api/v1/sla/rules", headers=admin).json() == current  # in force only from 2100
    bad = desk.client.post(
        "/api/v1/sla/versions",
        headers=admin,
        json={
            "name": "x",
            "effective_from": "2000-01-03T00:00:00+00:00",
            "rules": [{"business_type": "complaint", "step": "nowhere", "limit_value": 1, "unit": "hours"}],
        },
    )
    assert bad.status_code == 422
    assert "环节 nowhere" in bad.json()["error"]["message"]


def test_calendar_over_the_api(desk: Desk) -> None:
    admin = desk.headers("admin")
    y2025 = desk.client.get("/api/v1/calendar/2025", headers=admin).json()
    assert y2025["known"] is True
    assert "2025-10-11" in y2025["workdays"]
    assert "2025-10-08" in y2025["holidays"]
    missing = desk.client.get("/api/v1/calendar/2031", headers=admin).json()
    assert missing["known"] is False
    assert "2031" in missing["source"]
    r = desk.client.post(
        "/api/v1/calendar/load",
        content="date,type,name\n2031-01-01,holiday,元旦\n",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert desk.client.get("/api/v1/calendar/2031", headers=admin).json()["holidays"] == ["2031-01-01"]
    bad = desk.client.post(
        "/api/v1/calendar/load",
        content="date,type\n2031-02-30,holiday\n",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert bad.status_code == 422
    assert "第 2 行" in bad.json()["error"]["message"]
