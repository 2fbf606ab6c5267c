"""Trouble-call analysis on a small grid: calls predict an outage at the common upstream element;
later calls attach; a dispatcher confirms (published) or dismisses (calls back to dispatch)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.config import Settings
from gridcare.models import Customer, Outage, OutageScopeItem, OutboxMessage, WorkOrder
from gridcare.outages import service, trouble
from tests.factories import make_customer
from tests.outages.conftest import Grid, bj, no_power_call

NOW = bj("2026-12-06 19:00")


def no_power(s: Session, grid: Grid, settings: Settings, customer: Customer, minutes: int) -> WorkOrder:
    return no_power_call(s, grid, settings, customer.account_no, NOW + timedelta(minutes=minutes))


def scope_of(s: Session, outage_id: int) -> set[tuple[str, int]]:
    return {
        (i.element, i.element_id)
        for i in s.scalars(select(OutageScopeItem).where(OutageScopeItem.outage_id == outage_id))
    }


def test_calls_behind_one_switch_predict_an_outage_there(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        first = no_power(s, grid, settings, grid.customers["plain"], 0)
        assert (first.step, first.outage_id) == ("pending_dispatch", None)  # one call predicts nothing
        second = no_power(s, grid, settings, grid.customers["no_phone"], 5)  # another 台区 behind the switch
        s.commit()
        s.refresh(first)
        assert second.outage_id is not None
        assert first.outage_id == second.outage_id
        outage = s.get(Outage, second.outage_id)
        assert outage is not None
        assert outage.status == "predicted"
        assert scope_of(s, outage.id) == {("branch_switch", grid.switch.id)}
        assert outage.affected_customers == 3
        assert (
            s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.item_kind == "outage", OutboxMessage.item_id == outage.id
                )
            ).all()
            == []
        )
        later = no_power(s, grid, settings, grid.customers["important"], 12)
        assert (later.step, later.outage_id) == ("merged", outage.id)
        assert outage.cause == trouble.UNCONFIRMED_CAUSE
        assert outage.analysis is not None
        assert "同一开关下2个台区报修无电" in outage.analysis
        confirmed = trouble.confirm(
            s,
            principal=grid.principal(s, "dispatcher_a"),
            settings=settings,
            outage_id=outage.id,
            version=outage.version,
            cause="10kV东山线2号分支故障，正在抢修",
            expected_restore_at=NOW + timedelta(hours=3),
            now=NOW + timedelta(minutes=15),
        )
        s.commit()
        assert confirmed.status == "confirmed"
        # Customers read the cause and the restoration the dispatcher wrote, never the analysis.
        notice = next(
            m
            for m in s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.item_kind == "outage", OutboxMessage.item_id == outage.id
                )
            )
            if m.customer_id
        )
        assert "2号分支故障，正在抢修" in notice.body
        assert "12:00" in notice.body or "恢复供电" in notice.body
        assert "研判" not in notice.body
        assert "报修无电" not in notice.body
        told = {
            m.customer_id
            for m in s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.item_kind == "outage", OutboxMessage.item_id == outage.id
                )
            )
            if m.customer_id
        }
        assert told == {grid.customers[k].id for k in ("plain", "important", "no_phone")}


def test_a_dismissed_prediction_sends_the_calls_back(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        calls = [
            no_power(s, grid, settings, grid.customers[k], m) for k, m in (("plain", 0), ("no_phone", 3))
        ]
        s.commit()
        outage_id = calls[1].outage_id
        assert outage_id is not None
        outage = s.get(Outage, outage_id)
        assert outage is not None
        service.cancel(
            s,
            principal=grid.principal(s, "dispatcher_a"),
            settings=settings,
            outage_id=outage_id,
            version=outage.version,
            reason="现场核实为用户内部故障",
            confirmed=False,
            now=NOW + timedelta(minutes=10),
        )
        s.commit()
        for call in calls:
            s.refresh(call)
            assert (call.step, call.outage_id) == ("pending_dispatch", None)


def test_three_customers_of_one_area_predict_it_and_old_calls_do_not_count(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        area = grid.on_feeder
        neighbours = [make_customer(s, area=area, name=f"邻居{i}") for i in range(3)]
        s.commit()
        no_power(
            s, grid, settings, neighbours[0], -(settings.trouble_window_minutes + 10)
        )  # outside the window
        no_power(s, grid, settings, neighbours[1], 0)
        second = no_power(s, grid, settings, neighbours[2], 2)
        assert second.outage_id is None  # two customers in the window: not yet
        third = no_power(s, grid, settings, grid.customers["on_feeder"], 4)
        s.commit()
        assert third.outage_id is not None
        assert scope_of(s, third.outage_id) == {("transformer_area", area.id)}
