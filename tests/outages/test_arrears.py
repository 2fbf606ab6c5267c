"""The arrears guard: no cut without the bill 30 days overdue and both notices delivered in time;
after payment a 欠费复电 work order carries the 24-hour limit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gridcare.config import Settings
from gridcare.errors import Conflict
from gridcare.models import ArrearsCase, WorkOrder
from gridcare.notify.outbox import deliver_due
from gridcare.outages import arrears
from gridcare.outages.service import NoticeTooLate
from tests.outages.conftest import Grid, bj

CUT = bj("2026-12-10 10:00")


def delivered_at(factory: sessionmaker[Session], settings: Settings, moment: datetime) -> None:
    """The worker delivers what is due at `moment` (the file channel)."""
    deliver_due(factory, settings, clock=lambda: moment)


def open_case(s: Session, grid: Grid, overdue_days: int) -> ArrearsCase:
    return arrears.open_case(
        s,
        principal=grid.principal(s, "staff_a1"),
        account_no=grid.customers["plain"].account_no,
        bill_month="2026-10",
        amount_cents=23456,
        due_date=CUT - timedelta(days=overdue_days),
        now=CUT - timedelta(days=8),
    )


def notice(
    s: Session, grid: Grid, settings: Settings, case: ArrearsCase, *, final: bool, at: datetime
) -> None:
    arrears.send_notice(
        s,
        principal=grid.principal(s, "staff_a1"),
        settings=settings,
        case_id=case.id,
        final=final,
        planned_cut=CUT,
        now=at,
    )
    s.commit()


def try_cut(s: Session, grid: Grid, case: ArrearsCase, at: datetime = CUT) -> None:
    s.refresh(case)
    arrears.cut(s, principal=grid.principal(s, "staff_a1"), case_id=case.id, version=case.version, now=at)


def test_a_cut_needs_both_notices_delivered_in_time(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        case = open_case(s, grid, overdue_days=45)
        s.commit()
        with pytest.raises(NoticeTooLate, match="停电通知书尚未送达"):
            try_cut(s, grid, case)
        s.rollback()
        notice(s, grid, settings, case, final=False, at=CUT - timedelta(days=5))
        with pytest.raises(NoticeTooLate, match="停电通知书尚未送达"):  # queued, not delivered yet
            try_cut(s, grid, case)
        s.rollback()
        delivered_at(session_factory, settings, CUT - timedelta(days=5))
        with pytest.raises(NoticeTooLate, match="停电前提醒尚未送达"):
            try_cut(s, grid, case)
        s.rollback()
        notice(s, grid, settings, case, final=True, at=CUT - timedelta(minutes=20))
        delivered_at(session_factory, settings, CUT - timedelta(minutes=20))
        with pytest.raises(NoticeTooLate, match="至少提前 30 分钟"):
            try_cut(s, grid, case)
        s.rollback()
        later = CUT + timedelta(minutes=15)
        try_cut(s, grid, case, at=later)
        s.commit()
        s.refresh(case)
        assert case.status == "cut"
        assert case.outage_id is not None


def test_the_bill_must_be_over_30_days_overdue(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        case = open_case(s, grid, overdue_days=20)
        s.commit()
        notice(s, grid, settings, case, final=False, at=CUT - timedelta(days=4))
        delivered_at(session_factory, settings, CUT - timedelta(days=4))
        notice(s, grid, settings, case, final=True, at=CUT - timedelta(hours=1))
        delivered_at(session_factory, settings, CUT - timedelta(hours=1))
        with pytest.raises(NoticeTooLate, match="未超过 30 天"):
            try_cut(s, grid, case)


def test_a_notice_delivered_too_early_does_not_count(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        case = open_case(s, grid, overdue_days=60)
        s.commit()
        notice(s, grid, settings, case, final=False, at=CUT - timedelta(days=10))
        delivered_at(session_factory, settings, CUT - timedelta(days=10))
        notice(s, grid, settings, case, final=True, at=CUT - timedelta(hours=2))
        delivered_at(session_factory, settings, CUT - timedelta(hours=2))
        with pytest.raises(NoticeTooLate, match="3 至 7 天"):
            try_cut(s, grid, case)


def test_payment_opens_a_reconnection_order_with_its_limit(
    grid: Grid, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_factory() as s:
        case = open_case(s, grid, overdue_days=40)
        s.commit()
        notice(s, grid, settings, case, final=False, at=CUT - timedelta(days=6))
        delivered_at(session_factory, settings, CUT - timedelta(days=6))
        notice(s, grid, settings, case, final=True, at=CUT - timedelta(hours=3))
        delivered_at(session_factory, settings, CUT - timedelta(hours=3))
        try_cut(s, grid, case)
        s.commit()
        staff = grid.principal(s, "staff_a1")
        s.refresh(case)
        with pytest.raises(Conflict, match="先登记缴费"):
            arrears.restore(
                s, principal=staff, case_id=case.id, version=case.version, now=CUT + timedelta(days=1)
            )
        s.rollback()
        paid = arrears.pay(
            s,
            principal=staff,
            settings=settings,
            case_id=case.id,
            version=case.version,
            now=CUT + timedelta(days=2),
        )
        s.commit()
        order = s.get(WorkOrder, paid.reconnect_order_id)
        assert order is not None
        assert (order.business_type, order.category) == ("service_request", "arrears_reconnect")
        assert order.customer_id == grid.customers["plain"].id
        done = arrears.restore(
            s, principal=staff, case_id=case.id, version=paid.version, now=CUT + timedelta(days=2, hours=3)
        )
        s.commit()
        assert done.status == "restored"
