"""Outage events: affected customers from the topology, kept; the notice rules; the lifecycle; the
notices queued in the outbox in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.config import Settings
from gridcare.errors import Conflict, InvalidInput, PermissionDenied
from gridcare.models import OutageCustomer, OutboxMessage
from gridcare.outages import approvals, service
from gridcare.outages.schemas import OutageCreate, OutageScope
from tests.outages.conftest import Grid, bj

NOW = bj("2026-12-01 09:00")


def planned(
    grid: Grid, *, kind: str = "planned", start_in: timedelta = timedelta(days=10), **scope: list[int]
) -> OutageCreate:
    start = NOW + start_in
    return OutageCreate(
        kind=kind,
        title="10kV东山线检修",
        cause="线路检修",
        scope=OutageScope(**(scope or {"branch_switches": [grid.switch.id]})),
        planned_start=start,
        planned_end=start + timedelta(hours=8),
    )


def outbox(session: Session, outage_id: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.item_kind == "outage", OutboxMessage.item_id == outage_id)
            .order_by(OutboxMessage.key)
        )
    )


def test_affected_customers_come_from_the_topology_and_are_kept(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        on_switch = service.create(s, principal=who, settings=settings, data=planned(grid), now=NOW)
        on_line = service.create(
            s, principal=who, settings=settings, data=planned(grid, feeders=[grid.feeder.id]), now=NOW
        )
        one_area = service.create(
            s,
            principal=who,
            settings=settings,
            data=planned(grid, transformer_areas=[grid.on_feeder.id]),
            now=NOW,
        )
        s.commit()
        assert (on_switch.affected_customers, on_switch.affected_areas) == (3, 2)
        assert (on_line.affected_customers, on_line.affected_areas) == (4, 3)
        assert (one_area.affected_customers, one_area.affected_areas) == (1, 1)
        assert on_switch.area_text == "东山村"
        assert on_switch.number.startswith("TD20261201")
        # The topology changes later: a customer moves behind the switch. History stays as it was.
        moved = s.get(type(grid.customers["on_feeder"]), grid.customers["on_feeder"].id)
        assert moved is not None
        moved.transformer_area_id = grid.behind_switch[0].id
        s.commit()
        kept = s.scalar(select(func.count()).where(OutageCustomer.outage_id == on_switch.id))
        assert kept == 3


def test_a_planned_outage_needs_seven_days_notice_or_an_approved_request(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        late = service.create(
            s, principal=who, settings=settings, data=planned(grid, start_in=timedelta(days=3)), now=NOW
        )
        s.commit()
        with pytest.raises(service.NoticeTooLate, match="提前 7 天"):
            service.announce(
                s, principal=who, settings=settings, outage_id=late.id, version=late.version, now=NOW
            )
        s.rollback()
        with pytest.raises(InvalidInput, match="批准人须为"):  # a station employee cannot approve
            service.request_short_notice(
                s,
                principal=who,
                outage_id=late.id,
                approver_id=grid.world.users["staff_a1"].id,
                reason="抢修后续处理",
                now=NOW,
            )
        s.rollback()
        manager = grid.world.users["manager"]
        asked = service.request_short_notice(
            s, principal=who, outage_id=late.id, approver_id=manager.id, reason="抢修后续处理", now=NOW
        )
        s.commit()
        # Asked is not approved: still refused, and nothing queued.
        with pytest.raises(service.NoticeTooLate, match="等待审批"):
            service.announce(
                s, principal=who, settings=settings, outage_id=late.id, version=late.version, now=NOW
            )
        s.rollback()
        assert outbox(s, late.id) == []
        approvals.decide(
            s, principal=grid.principal(s, "manager"), approval_id=asked.id, approve=True, note=None, now=NOW
        )
        s.commit()
        done = service.announce(
            s, principal=who, settings=settings, outage_id=late.id, version=late.version, now=NOW
        )
        s.commit()
        assert done.status == "announced"
        assert (done.short_notice_reason, done.short_notice_approver_id) == ("抢修后续处理", manager.id)

        early = service.create(
            s, principal=who, settings=settings, data=planned(grid, start_in=timedelta(days=7)), now=NOW
        )
        s.commit()
        service.announce(
            s, principal=who, settings=settings, outage_id=early.id, version=early.version, now=NOW
        )
        s.commit()
        assert early.status == "announced"
        assert early.short_notice_reason is None


def test_the_approver_cannot_be_the_one_asking(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        manager = grid.principal(s, "manager")
        late = service.create(
            s, principal=manager, settings=settings, data=planned(grid, start_in=timedelta(days=1)), now=NOW
        )
        with pytest.raises(InvalidInput, match="本人"):
            service.request_short_notice(
                s, principal=manager, outage_id=late.id, approver_id=manager.user_id, reason="紧急", now=NOW
            )


def test_temporary_maintenance_needs_24_hours_notice(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        soon = service.create(
            s,
            principal=who,
            settings=settings,
            data=planned(grid, kind="temporary", start_in=timedelta(hours=20)),
            now=NOW,
        )
        with pytest.raises(service.NoticeTooLate, match="24 小时"):
            service.announce(
                s,
                principal=who,
                settings=settings,
                outage_id=soon.id,
                version=soon.version,
                now=NOW,
            )
        s.rollback()
        ahead = service.create(
            s,
            principal=who,
            settings=settings,
            data=planned(grid, kind="temporary", start_in=timedelta(hours=30)),
            now=NOW,
        )
        service.announce(
            s,
            principal=who,
            settings=settings,
            outage_id=ahead.id,
            version=ahead.version,
            now=NOW,
        )
        s.commit()
        important = [m for m in outbox(s, ahead.id) if m.customer_id == grid.customers["important"].id]
        assert len(important) == 1
        assert important[0].created_at <= ahead.planned_start - timedelta(hours=24)


def test_an_unannounced_outage_cannot_start(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        outage = service.create(s, principal=who, settings=settings, data=planned(grid), now=NOW)
        with pytest.raises(service.NoticeTooLate, match="尚未发布"):
            service.start(s, principal=who, outage_id=outage.id, version=outage.version, now=NOW)


def test_announcing_queues_one_notice_per_customer_and_a_liaison_digest(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    sms = settings.model_copy(update={"customer_channels": "sms", "liaison_channel": "email"})
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        outage = service.create(s, principal=who, settings=sms, data=planned(grid), now=NOW)
        assert outbox(s, outage.id) == []  # planned: nothing before the announcement
        service.announce(
            s,
            principal=who,
            settings=sms,
            outage_id=outage.id,
            version=outage.version,
            now=NOW,
        )
        s.commit()
        rows = outbox(s, outage.id)
        per_customer = {m.customer_id: m for m in rows if m.customer_id}
        assert set(per_customer) == {grid.customers[k].id for k in ("plain", "important", "no_phone")}
        first = per_customer[grid.customers["plain"].id]
        assert first.channel == "sms"
        assert first.recipient == grid.customers["plain"].phone
        assert "东山村" in first.body
        assert "12月11日09:00至12月11日17:00" in first.body
        assert "线路检修" in first.body
        assert "95598" in first.body
        silent = per_customer[grid.customers["no_phone"].id]
        assert (silent.status, silent.last_error) == ("failed", "客户无可用联系方式")
        digest = [m for m in rows if m.customer_id is None]
        assert len(digest) == 1
        assert digest[0].channel == "email"
        assert digest[0].recipient == "liaison@example.cn"
        assert "受影响客户共3户" in digest[0].body
        assert grid.customers["important"].account_no in digest[0].body


def test_a_fault_is_published_when_entered_and_every_change_is_announced(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        data = planned(grid, kind="fault", start_in=timedelta(0), feeders=[grid.feeder.id])
        fault = service.create(s, principal=who, settings=settings, data=data, now=NOW)
        s.commit()
        assert fault.status == "confirmed"
        assert fault.announced_at == NOW
        assert {m.kind for m in outbox(s, fault.id)} == {"fault", "liaison_fault"}
        later = service.change_restore_time(
            s,
            principal=who,
            settings=settings,
            outage_id=fault.id,
            version=fault.version,
            expected_restore_at=NOW + timedelta(hours=12),
            reason="需更换变压器",
            now=NOW + timedelta(hours=1),
        )
        service.restore(
            s,
            principal=who,
            settings=settings,
            outage_id=fault.id,
            version=later.version,
            now=NOW + timedelta(hours=11),
        )
        s.commit()
        kinds = [m.kind for m in outbox(s, fault.id) if m.customer_id == grid.customers["plain"].id]
        assert sorted(kinds) == ["fault", "restore_time", "restored"]
        changed = next(m for m in outbox(s, fault.id) if m.kind == "restore_time" and m.customer_id)
        assert "需更换变压器" in changed.body
        assert "12月1日21:00" in changed.body
        assert fault.status == "restored"
        assert fault.actual_end == NOW + timedelta(hours=11)


def test_edits_on_a_stale_version_and_out_of_scope_are_refused(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        who = grid.principal(s, "dispatcher_a")
        outage = service.create(s, principal=who, settings=settings, data=planned(grid), now=NOW)
        s.commit()
        stale = outage.version
        service.announce(
            s,
            principal=who,
            settings=settings,
            outage_id=outage.id,
            version=stale,
            now=NOW,
        )
        s.commit()
        with pytest.raises(Conflict, match="已被他人修改"):
            service.cancel(
                s,
                principal=who,
                settings=settings,
                outage_id=outage.id,
                version=stale,
                reason="计划调整",
                confirmed=True,
                now=NOW,
            )
        s.rollback()
        other = grid.principal(s, "staff_b1")
        with pytest.raises(PermissionDenied):
            service.create(s, principal=other, settings=settings, data=planned(grid), now=NOW)
        with pytest.raises(InvalidInput) as bad:
            service.create(s, principal=who, settings=settings, data=planned(grid, feeders=[987654]), now=NOW)
        assert bad.value.details == [{"field": "scope.feeders", "id": 987654, "reason": "不存在"}]
