from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gridcare.auth.principal import SYSTEM, Principal
from gridcare.auth.service import principal_for
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.errors import InvalidInput
from gridcare.models import Notification, StepAlarm, WorkOrder, WorkOrderEvent
from gridcare.sla.calendar_store import load_calendar_file, set_correction
from gridcare.workorders import actions, service
from gridcare.workorders.schemas import CallbackBody, ReplyBody, ReviewBody, Versioned, WorkOrderCreate
from gridcare.workorders.tasks import scan_due
from tests.factories import World
from tests.workorders.helpers import COMPLAINT_FREQUENT_OUTAGE


def bj(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=BEIJING)


def who(session: Session, world: World, key: str) -> Principal:
    return principal_for(session, world.users[key].id)


def complaint(session: Session, world: World, settings: Settings, at: datetime, **kw: object) -> WorkOrder:
    data = WorkOrderCreate(
        business_type="complaint",
        category=COMPLAINT_FREQUENT_OUTAGE,
        content="频繁停电",
        account_no=world.customers["station_a1"].account_no,
        **kw,
    )  # type: ignore[arg-type]
    return service.create(
        session, principal=who(session, world, "agent"), settings=settings, data=data, now=at
    ).order


def walk(
    session: Session,
    world: World,
    settings: Settings,
    order: WorkOrder,
    steps: list[tuple[str, str, datetime]],
) -> None:
    for key, action, at in steps:
        body = (
            ReplyBody(version=order.version, reply="已处理")
            if action == "reply"
            else Versioned(version=order.version)
        )
        actions.perform(
            session,
            principal=who(session, world, key),
            settings=settings,
            order_id=order.id,
            action=action,
            body=body,
            now=at,
        )


def to_in_progress(
    session: Session, world: World, settings: Settings, order: WorkOrder, at: datetime
) -> None:
    walk(
        session,
        world,
        settings,
        order,
        [("dispatcher_a", "dispatch", at), ("staff_a1", "accept", at), ("staff_a1", "contact", at)],
    )


def to_review_passed(
    session: Session,
    world: World,
    settings: Settings,
    order: WorkOrder,
    reply_at: datetime,
    review_at: datetime,
) -> None:
    """From in_progress: the station replies, the dispatcher passes the review."""
    walk(session, world, settings, order, [("staff_a1", "reply", reply_at)])
    actions.perform(
        session,
        principal=who(session, world, "dispatcher_a"),
        settings=settings,
        order_id=order.id,
        action="review",
        body=ReviewBody(version=order.version, passed=True),
        now=review_at,
    )


def test_complaint_handling_deadline_across_national_day(
    session: Session, world: World, settings: Settings
) -> None:
    accepted = bj("2025-09-30T16:00")
    order = complaint(session, world, settings, accepted)
    to_in_progress(session, world, settings, order, bj("2025-09-30T17:00"))
    assert order.step == "in_progress"
    assert order.step_deadline == bj("2025-10-14T16:00")  # Oct 1–8 off; Sat Oct 11 is a working day
    assert order.step_warn_at == bj("2025-10-13T16:00")  # 80 % = 4 working days


def test_complaint_deadline_across_spring_festival(
    session: Session, world: World, settings: Settings
) -> None:
    order = complaint(session, world, settings, bj("2025-01-24T10:30"))  # Friday before the festival
    to_in_progress(session, world, settings, order, bj("2025-01-24T11:00"))
    # Sun Jan 26 (make-up) 1, Mon Jan 27 2, Feb 5 3, Feb 6 4, Feb 7 5.
    assert order.step_deadline == bj("2025-02-07T10:30")


def test_callback_deadline_one_working_day_over_a_weekend(
    session: Session, world: World, settings: Settings
) -> None:
    order = complaint(session, world, settings, bj("2025-10-09T09:00"))
    to_in_progress(session, world, settings, order, bj("2025-10-09T09:10"))
    to_review_passed(session, world, settings, order, bj("2025-10-10T15:00"), bj("2025-10-10T16:00"))
    assert order.step == "pending_callback"
    assert order.step_deadline == bj("2025-10-11T16:00")  # Saturday Oct 11 2025 is a working day
    order2 = complaint(session, world, settings, bj("2025-10-16T09:00"))
    to_in_progress(session, world, settings, order2, bj("2025-10-16T09:05"))
    to_review_passed(session, world, settings, order2, bj("2025-10-17T15:00"), bj("2025-10-17T16:00"))
    assert order2.step_deadline == bj("2025-10-20T16:00")  # an ordinary weekend is skipped


def test_missing_calendar_year_is_flagged_not_guessed(
    session: Session, world: World, settings: Settings
) -> None:
    order = complaint(session, world, settings, bj("2026-12-28T10:00"))
    to_in_progress(session, world, settings, order, bj("2026-12-28T10:30"))
    assert order.step_deadline is None
    assert order.calendar_missing_year == 2027
    # The admin loads 2027; the next step computes normally.
    load_calendar_file(
        session, principal=SYSTEM, source="2027.csv", text="date,type,name\n2027-01-01,holiday,元旦\n"
    )
    order2 = complaint(session, world, settings, bj("2026-12-28T10:00"))
    to_in_progress(session, world, settings, order2, bj("2026-12-28T10:30"))
    assert order2.calendar_missing_year is None
    assert order2.step_deadline == bj("2027-01-05T10:00")  # Dec 29, 30, 31, Jan 4, Jan 5


def test_calendar_correction_applies_to_the_next_deadline(
    session: Session, world: World, settings: Settings
) -> None:
    set_correction(
        session, principal=SYSTEM, day=datetime(2025, 10, 13).date(), is_workday=False, name="测试更正"
    )
    order = complaint(session, world, settings, bj("2025-09-30T16:00"))
    to_in_progress(session, world, settings, order, bj("2025-09-30T17:00"))
    assert order.step_deadline == bj("2025-10-15T16:00")
    session.rollback()


def test_calendar_file_errors_name_the_line(session: Session) -> None:
    with pytest.raises(InvalidInput, match="第 3 行"):
        load_calendar_file(
            session,
            principal=SYSTEM,
            source="bad.csv",
            text="date,type,name\n2027-01-01,holiday,元旦\n2027-01-02,maybe,x\n",
        )


def test_unreachable_callback_needs_three_more_tries_two_hours_apart(
    session: Session, world: World, settings: Settings
) -> None:
    order = complaint(session, world, settings, bj("2025-11-03T09:00"))
    to_in_progress(session, world, settings, order, bj("2025-11-03T09:10"))
    to_review_passed(session, world, settings, order, bj("2025-11-03T15:00"), bj("2025-11-03T16:00"))
    agent = who(session, world, "agent")

    def call(at: str) -> None:
        actions.perform(
            session,
            principal=agent,
            settings=settings,
            order_id=order.id,
            action="callback",
            body=CallbackBody(version=order.version, reached=False),
            now=bj(at),
        )

    call("2025-11-04T09:00")
    with pytest.raises(InvalidInput, match="不足 2 小时"):
        call("2025-11-04T10:30")
    call("2025-11-04T11:00")
    call("2025-11-04T13:00")
    assert order.step == "pending_callback"
    call("2025-11-04T15:30")  # the fourth try: one plus three more
    assert order.step == "pending_archive"
    assert order.callback_attempts == 4
    assert order.satisfaction is None


def test_anonymous_caller_is_not_called_back(session: Session, world: World, settings: Settings) -> None:
    order = complaint(session, world, settings, bj("2025-11-03T09:00"), anonymous=True)
    to_in_progress(session, world, settings, order, bj("2025-11-03T09:10"))
    to_review_passed(session, world, settings, order, bj("2025-11-03T15:00"), bj("2025-11-03T16:00"))
    assert order.step == "pending_archive"


def test_overdue_scan_warns_then_breaches_once(
    session_factory: sessionmaker[Session], world: World, settings: Settings
) -> None:
    with session_factory() as s:
        order = complaint(s, world, settings, bj("2025-11-03T09:00"))  # dispatch within 20 minutes
        s.commit()
        order_id = order.id
    warn = scan_due(session_factory, now=bj("2025-11-03T09:17"))
    assert warn.warnings >= 1
    again = scan_due(session_factory, now=bj("2025-11-03T09:17"))
    assert (again.warnings, again.breaches) == (0, 0)
    late = scan_due(session_factory, now=bj("2025-11-03T09:25"))
    assert late.breaches >= 1
    assert scan_due(session_factory, now=bj("2025-11-03T09:25")).breaches == 0
    with session_factory() as s:
        stored = s.get(WorkOrder, order_id)
        assert stored is not None
        # Both alarms of the step were raised: none is left to raise.
        assert s.scalars(select(StepAlarm.kind).where(StepAlarm.order_id == order_id)).all() == []
        kinds = s.scalars(select(WorkOrderEvent.action).where(WorkOrderEvent.order_id == order_id)).all()
        assert kinds.count("warning") == 1
        assert kinds.count("breach") == 1
        notes = s.scalars(select(Notification).where(Notification.order_id == order_id)).all()
        assert sorted(n.kind for n in notes) == ["breach", "warning"]
        assert {n.user_id for n in notes} == {world.users["staff_a1"].id}  # the 台区经理 who owns it
        warning = next(n for n in notes if n.kind == "warning")
        assert warning.message == f"工单 {stored.number}「待派单」即将超时（时限 2025-11-03 09:20）"
        # Dispatching late: the step left is recorded as late, and the new step starts clean.
        actions.perform(
            s,
            principal=who(s, world, "dispatcher_a"),
            settings=settings,
            order_id=order_id,
            action="dispatch",
            body=Versioned(version=stored.version),
            now=bj("2025-11-03T09:30"),
        )
        # The new step has its own alarms, still to come.
        alarms = dict(
            s.execute(select(StepAlarm.kind, StepAlarm.at).where(StepAlarm.order_id == order_id)).all()
        )
        assert alarms == {"warning": stored.step_warn_at, "breach": stored.step_deadline}
        left = s.scalars(
            select(WorkOrderEvent).where(
                WorkOrderEvent.order_id == order_id, WorkOrderEvent.action == "dispatch"
            )
        ).one()
        assert left.step_late is True
        s.commit()


def test_events_are_append_only(
    session_factory: sessionmaker[Session], world: World, settings: Settings
) -> None:
    with session_factory() as s:
        complaint(s, world, settings, bj("2025-11-05T09:00"))
        s.commit()
    for statement in ("UPDATE work_order_events SET note = 'x'", "DELETE FROM work_order_events"):
        with pytest.raises(DBAPIError, match="append-only"), session_factory() as s:
            s.execute(text(statement))
    with session_factory() as s:
        assert (s.scalar(select(func.count()).select_from(WorkOrderEvent)) or 0) > 0


def test_order_numbers_are_sequential_per_beijing_day(
    session: Session, world: World, settings: Settings
) -> None:
    a = complaint(session, world, settings, bj("2030-01-02T23:59"))
    b = complaint(session, world, settings, bj("2030-01-02T23:59"))
    c = complaint(session, world, settings, bj("2030-01-03T00:01"))
    assert a.number.startswith("20300102")
    assert int(b.number) == int(a.number) + 1
    assert c.number == "20300103000001"


def test_a_catch_up_pass_raises_the_breach_not_the_stale_warning(
    session_factory: sessionmaker[Session], world: World, settings: Settings
) -> None:
    """After downtime the scan finds a step past its warning and its deadline at once: the customer's
    order is late, and the handler gets that one message, not also "about to be late"."""
    with session_factory() as s:
        order = complaint(s, world, settings, bj("2025-11-04T09:00"))  # dispatch within 20 minutes
        s.commit()
        order_id = order.id
    found = scan_due(session_factory, now=bj("2025-11-04T10:00"))
    assert found.dropped >= 1
    with session_factory() as s:
        kinds = s.scalars(select(WorkOrderEvent.action).where(WorkOrderEvent.order_id == order_id)).all()
        assert kinds.count("breach") == 1
        assert kinds.count("warning") == 0
        notes = s.scalars(select(Notification.kind).where(Notification.order_id == order_id)).all()
        assert notes == ["breach"]
        assert s.scalars(select(StepAlarm).where(StepAlarm.order_id == order_id)).all() == []


def test_an_alarm_its_order_no_longer_has_is_discarded_not_raised(
    session_factory: sessionmaker[Session], world: World, settings: Settings
) -> None:
    """An alarm left behind by a path that changed the order's times without re-arming: the scan takes
    it off the queue and tells no one; the order's real alarms still raise."""
    with session_factory() as s:
        order = complaint(s, world, settings, bj("2025-11-04T09:00"))
        s.commit()
        order_id, deadline = order.id, order.step_deadline
    assert deadline is not None
    with session_factory() as s:
        s.add(StepAlarm(order_id=order_id, kind="breach", at=bj("2025-11-04T09:05")))
        s.commit()
    early = scan_due(session_factory, now=bj("2025-11-04T09:06"))
    assert (early.outdated, early.warnings, early.breaches) == (1, 0, 0)
    with session_factory() as s:
        assert s.scalars(select(Notification).where(Notification.order_id == order_id)).all() == []
        assert (
            s.scalar(select(func.count()).select_from(StepAlarm).where(StepAlarm.order_id == order_id)) == 2
        )
    late = scan_due(session_factory, now=deadline)
    assert (late.outdated, late.breaches) == (0, 1)


def test_a_pass_takes_batch_after_batch_until_nothing_is_due(
    session_factory: sessionmaker[Session], world: World, settings: Settings
) -> None:
    """Many batches in one pass (the batch counts come from the database, whatever the driver reports
    for an INSERT fed by a DELETE … RETURNING), each alarm raised once."""
    with session_factory() as s:
        ids = [complaint(s, world, settings, bj(f"2025-11-04T09:0{i}")).id for i in range(5)]
        s.commit()
    # Warnings at 09:16 … 09:20, deadlines at 09:20 … 09:24: four warnings due, in two batches.
    first = scan_due(session_factory, now=bj("2025-11-04T09:19:30"), batch_size=2)
    assert (first.warnings, first.breaches, first.dropped) == (4, 0, 0)
    # The five breaches (three batches); the last warning is past its deadline by then: dropped.
    second = scan_due(session_factory, now=bj("2025-11-04T10:00"), batch_size=2)
    assert (second.warnings, second.breaches, second.dropped) == (0, 5, 1)
    assert scan_due(session_factory, now=bj("2025-11-04T10:00"), batch_size=2).breaches == 0
    with session_factory() as s:
        raised = s.scalars(select(Notification.kind).where(Notification.order_id.in_(ids))).all()
        assert sorted(raised) == ["breach"] * 5 + ["warning"] * 4
