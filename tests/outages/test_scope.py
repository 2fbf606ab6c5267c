"""Outages belong to the stations they reach: another station of the same county neither sees nor acts
on them; short notice is a real approval by the approver named; the notice period runs from the
announcement; a cancellation says why and is confirmed; a confirmed prediction publishes what the
dispatcher wrote; two concurrent actions leave one winner and a 409, never a 500."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.config import Settings
from gridcare.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from gridcare.models import OutboxMessage
from gridcare.outages import approvals, service
from gridcare.outages.schemas import OutageCreate, OutageScope
from tests.conftest import concurrently, login
from tests.factories import PASSWORD, make_area, make_customer, make_user
from tests.outages.conftest import Grid, bj

NOW = bj("2026-12-01 09:00")


def plan(grid: Grid, start_in: timedelta = timedelta(days=10), **scope: list[int]) -> OutageCreate:
    start = NOW + start_in
    return OutageCreate(
        kind="planned",
        title="10kV东山线检修",
        cause="线路检修",
        scope=OutageScope(**(scope or {"branch_switches": [grid.switch.id]})),
        planned_start=start,
        planned_end=start + timedelta(hours=8),
    )


def test_another_station_of_the_county_neither_sees_nor_acts(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings, client: httpx.Client
) -> None:
    with session_factory() as s:
        outage = service.create(
            s, principal=grid.principal(s, "dispatcher_a"), settings=settings, data=plan(grid), now=NOW
        )
        s.commit()
        neighbour = grid.principal(s, "staff_a2")  # same county, another station
        with pytest.raises(NotFound):
            service.get(s, principal=neighbour, outage_id=outage.id)
        with pytest.raises(NotFound):
            service.announce(
                s,
                principal=neighbour,
                settings=settings,
                outage_id=outage.id,
                version=outage.version,
                now=NOW,
            )
        with pytest.raises(NotFound):
            service.cancel(
                s,
                principal=neighbour,
                settings=settings,
                outage_id=outage.id,
                version=outage.version,
                reason="误登记",
                confirmed=True,
                now=NOW,
            )
        # The station it reaches sees it, and may act on it (every station it reaches is theirs).
        own = grid.principal(s, "staff_a1")
        assert service.may_act(s, own, service.get(s, principal=own, outage_id=outage.id))
    neighbour_api = login(client, grid.world.users["staff_a2"].username, PASSWORD)
    assert client.get(f"/api/v1/outages/{outage.id}", headers=neighbour_api).status_code == 404
    assert client.get(f"/api/v1/outages/{outage.id}/customers", headers=neighbour_api).status_code == 404
    assert outage.number not in client.get("/api/v1/outages", headers=neighbour_api).text
    assert (
        client.get(
            f"/api/v1/transformer-areas/{grid.on_feeder.id}/outages", headers=neighbour_api
        ).status_code
        == 404
    )
    indices = client.get(
        "/api/v1/outages/reliability",
        params={"from": "2026-01-01", "to": "2026-01-31", "feeder_id": grid.feeder.id},
        headers=neighbour_api,
    )
    assert indices.status_code == 404


def test_an_outage_over_two_stations_shows_each_its_own_households(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings, client: httpx.Client
) -> None:
    with session_factory() as s:
        other_area = make_area(s, station=grid.world.units["station_a2"], feeder=grid.feeder, name="西岭台区")
        stranger = make_customer(s, area=other_area, name="西岭客户")
        s.commit()
        outage = service.create(
            s,
            principal=grid.principal(s, "dispatcher_a"),
            settings=settings,
            data=plan(grid, feeders=[grid.feeder.id]),
            now=NOW,
        )
        s.commit()
        station = grid.principal(s, "staff_a1")
        # Seen (it reaches their 台区) but not theirs to act on alone.
        assert not service.may_act(s, station, service.get(s, principal=station, outage_id=outage.id))
        with pytest.raises(PermissionDenied):
            service.announce(
                s, principal=station, settings=settings, outage_id=outage.id, version=outage.version, now=NOW
            )
    headers = login(client, grid.world.users["staff_a1"].username, PASSWORD)
    people = client.get(f"/api/v1/outages/{outage.id}/customers", headers=headers).json()["items"]
    names = {p["name"] for p in people}
    assert stranger.name not in names
    assert grid.customers["plain"].name in names


def test_a_station_cannot_create_a_customer_in_another_stations_village(
    grid: Grid, client: httpx.Client, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as s:
        from gridcare.models import Village

        foreign = s.scalar(
            select(Village.code).where(Village.station_id == grid.world.units["station_a2"].id)
        )
    headers = login(client, grid.world.users["staff_a1"].username, PASSWORD)
    body = {
        "account_no": "88800011122",
        "name": "越界客户",
        "address": "江州市某村",
        "transformer_area_code": grid.on_feeder.code,
        "village_code": foreign,
    }
    refused = client.post("/api/v1/customers", json=body, headers=headers)
    assert refused.status_code == 422
    assert "不存在或不在您的权限范围内" in refused.json()["error"]["message"]


def test_existence_checks_answer_alike_for_not_yours_and_missing(grid: Grid, client: httpx.Client) -> None:
    """Another county's 户号 with another county's 台区 once got 409 (exists) while a free 户号 got 422."""
    headers = login(client, grid.world.users["staff_b1"].username, PASSWORD)
    taken = grid.customers["plain"].account_no
    answers = []
    for account in (taken, "77700011122"):
        body = {
            "account_no": account,
            "name": "探测",
            "address": "某地",
            "transformer_area_code": grid.on_feeder.code,  # station_a1's 台区: not this user's
        }
        answers.append(client.post("/api/v1/customers", json=body, headers=headers))
    assert [a.status_code for a in answers] == [422, 422]
    first, second = (a.json()["error"]["message"] for a in answers)
    assert first.replace(taken, "X") == second.replace("77700011122", "X")


def test_short_notice_is_approved_by_the_approver_named_and_no_one_else(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        city = grid.world.units["city"]
        other_city_manager = make_user(
            s, unit=grid.world.units["county_b"], roles=["manager"], display_name="乙县经理"
        )
        s.commit()
        who = grid.principal(s, "dispatcher_a")
        late = service.create(
            s, principal=who, settings=settings, data=plan(grid, timedelta(days=2)), now=NOW
        )
        s.commit()
        allowed = {uid for uid, _ in approvals.candidates(s, outage=late, requester=who)}
        assert grid.world.users["manager"].id in allowed  # the city's manager, above the county
        assert other_city_manager.id not in allowed  # another county's manager: not above the requester
        assert grid.world.users["dispatcher_a"].id not in allowed
        with pytest.raises(InvalidInput, match="批准人须为"):
            service.request_short_notice(
                s, principal=who, outage_id=late.id, approver_id=other_city_manager.id, reason="紧急", now=NOW
            )
        s.rollback()
        asked = service.request_short_notice(
            s,
            principal=who,
            outage_id=late.id,
            approver_id=grid.world.users["manager"].id,
            reason="紧急",
            now=NOW,
        )
        s.commit()
        with pytest.raises(NotFound):  # an admin is not the approver named
            approvals.decide(
                s,
                principal=grid.principal(s, "admin"),
                approval_id=asked.id,
                approve=True,
                note=None,
                now=NOW,
            )
        manager = grid.principal(s, "manager")
        with pytest.raises(InvalidInput, match="不批准时请写明意见"):
            approvals.decide(s, principal=manager, approval_id=asked.id, approve=False, note="", now=NOW)
        refused = approvals.decide(
            s, principal=manager, approval_id=asked.id, approve=False, note="请按期通知", now=NOW
        )
        s.commit()
        assert refused.status == "refused"
        with pytest.raises(Conflict):
            approvals.decide(s, principal=manager, approval_id=asked.id, approve=True, note=None, now=NOW)
        s.rollback()
        with pytest.raises(service.NoticeTooLate):
            service.announce(
                s, principal=who, settings=settings, outage_id=late.id, version=late.version, now=NOW
            )
        assert city.id  # (the city unit exists: the manager above everyone)


def test_the_notice_period_runs_from_the_announcement(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    """Announcing 10 days ahead and starting at once used to pass: the 7 days are counted from the
    announcement, and nobody starts before the time customers were told."""
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        outage = service.create(s, principal=who, settings=settings, data=plan(grid), now=NOW)
        service.announce(
            s, principal=who, settings=settings, outage_id=outage.id, version=outage.version, now=NOW
        )
        s.commit()
        with pytest.raises(service.NoticeTooLate, match="通知发布满 7 天"):
            service.start(
                s, principal=who, outage_id=outage.id, version=outage.version, now=NOW + timedelta(hours=1)
            )
        with pytest.raises(service.NoticeTooLate, match="不能提前停电"):
            service.start(
                s, principal=who, outage_id=outage.id, version=outage.version, now=NOW + timedelta(days=8)
            )
        started = service.start(
            s, principal=who, outage_id=outage.id, version=outage.version, now=outage.planned_start
        )
        assert started.status == "in_progress"
        # An outage whose planned start has passed cannot be announced any more.
        stale = service.create(
            s, principal=who, settings=settings, data=plan(grid, timedelta(days=8)), now=NOW
        )
        with pytest.raises(service.NoticeTooLate, match="计划停电时间已过"):
            service.announce(
                s,
                principal=who,
                settings=settings,
                outage_id=stale.id,
                version=stale.version,
                now=NOW + timedelta(days=9),
            )
        # With short notice approved, the period is waived (not the planned start).
        soon = service.create(
            s, principal=who, settings=settings, data=plan(grid, timedelta(days=1)), now=NOW
        )
        asked = service.request_short_notice(
            s,
            principal=who,
            outage_id=soon.id,
            approver_id=grid.world.users["manager"].id,
            reason="抢修",
            now=NOW,
        )
        approvals.decide(
            s, principal=grid.principal(s, "manager"), approval_id=asked.id, approve=True, note=None, now=NOW
        )
        service.announce(
            s, principal=who, settings=settings, outage_id=soon.id, version=soon.version, now=NOW
        )
        assert (
            service.start(
                s, principal=who, outage_id=soon.id, version=soon.version, now=soon.planned_start
            ).status
            == "in_progress"
        )


def test_cancelling_an_announced_outage_needs_a_reason_and_a_confirmation(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        outage = service.create(s, principal=who, settings=settings, data=plan(grid), now=NOW)
        service.announce(
            s, principal=who, settings=settings, outage_id=outage.id, version=outage.version, now=NOW
        )
        s.commit()
        for reason, confirmed, message in (("", True, "原因"), ("施工单位调整", False, "请确认")):
            with pytest.raises(InvalidInput, match=message):
                service.cancel(
                    s,
                    principal=who,
                    settings=settings,
                    outage_id=outage.id,
                    version=outage.version,
                    reason=reason,
                    confirmed=confirmed,
                    now=NOW,
                )
            s.rollback()
        done = service.cancel(
            s,
            principal=who,
            settings=settings,
            outage_id=outage.id,
            version=outage.version,
            reason="施工单位调整",
            confirmed=True,
            now=NOW,
        )
        s.commit()
        assert (done.status, done.cancel_reason) == ("cancelled", "施工单位调整")
        told = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.item_kind == "outage",
                OutboxMessage.item_id == outage.id,
                OutboxMessage.kind == "cancelled",
            )
        ).all()
        assert told
        assert all("取消原因：施工单位调整" in m.body for m in told)


def test_two_concurrent_announcements_give_one_200_and_one_409(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings, base_url: str
) -> None:
    with session_factory() as s:
        outage = service.create(
            s,
            principal=grid.principal(s, "dispatcher_a"),
            settings=settings,
            data=plan(grid, timedelta(days=30)),
            now=NOW,
        )
        s.commit()
    with httpx.Client(base_url=base_url) as c:
        headers = login(c, grid.world.users["dispatcher_a"].username, PASSWORD)
    answers = concurrently(
        2,
        lambda c: c.post(
            f"/api/v1/outages/{outage.id}/announce", json={"version": outage.version}, headers=headers
        ),
        base_url,
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert all(a.headers["content-type"].startswith("application/json") for a in answers)
    with session_factory() as s:
        notices = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.item_kind == "outage", OutboxMessage.item_id == outage.id
            )
        ).all()
    assert len(notices) == 4  # queued once: 3 customers and the village liaison


def test_two_concurrent_arrears_notices_give_one_200_and_one_409(grid: Grid, base_url: str) -> None:
    with httpx.Client(base_url=base_url) as c:
        headers = login(c, grid.world.users["staff_a1"].username, PASSWORD)
        case = c.post(
            "/api/v1/arrears",
            json={
                "account_no": grid.customers["plain"].account_no,
                "bill_month": "2026-10",
                "amount_cents": 12345,
                "due_date": "2026-10-20T00:00:00+08:00",
            },
            headers=headers,
        ).json()
    answers = concurrently(
        2,
        lambda c: c.post(
            f"/api/v1/arrears/{case['id']}/notice",
            json={"final": False, "planned_cut": "2026-12-20T10:00:00+08:00"},
            headers=headers,
        ),
        base_url,
    )
    # Both ran at once: one wins; the other is a 409 (or, had it come second, a second notice), never a 500.
    assert {a.status_code for a in answers} <= {200, 409}
    assert 200 in {a.status_code for a in answers}
    assert all(a.json().get("error", {}).get("code", "ok") in ("ok", "conflict") for a in answers)
