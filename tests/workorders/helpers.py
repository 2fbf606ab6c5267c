"""Driving work orders through the API the way the pages and telephone systems do."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import login
from tests.factories import PASSWORD, World

COMPLAINT_FREQUENT_OUTAGE = "TS040101"  # 供电质量投诉 > 供电可靠性 > 频繁停电


class Desk:
    """One logged-in client per role of a World."""

    def __init__(self, client: httpx.Client, world: World) -> None:
        self.client = client
        self.world = world
        self._headers: dict[str, dict[str, str]] = {}

    def headers(self, who: str) -> dict[str, str]:
        if who not in self._headers:
            self._headers[who] = login(self.client, self.world.users[who].username, PASSWORD)
        return self._headers[who]

    def create(self, who: str = "agent", **body: Any) -> httpx.Response:
        payload = {
            "business_type": "complaint",
            "category": COMPLAINT_FREQUENT_OUTAGE,
            "content": "两个月停电三次",
            "account_no": self.world.customers["station_a1"].account_no,
            **body,
        }
        return self.client.post("/api/v1/workorders", json=payload, headers=self.headers(who))

    def act(self, who: str, order: dict[str, Any], action: str, **body: Any) -> httpx.Response:
        return self.client.post(
            f"/api/v1/workorders/{order['id']}/{action}",
            json={"version": order["version"], **body},
            headers=self.headers(who),
        )

    def ok(self, who: str, order: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        r = self.act(who, order, action, **body)
        assert r.status_code == 200, (action, r.text)
        result: dict[str, Any] = r.json()
        return result

    def get(self, order_id: int, who: str = "agent") -> dict[str, Any]:
        r = self.client.get(f"/api/v1/workorders/{order_id}", headers=self.headers(who))
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def timeline(self, order_id: int, who: str = "agent") -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.client.get(
            f"/api/v1/workorders/{order_id}/timeline", headers=self.headers(who)
        ).json()
        return result
