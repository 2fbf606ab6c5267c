"""The process engine: a process with several open steps that join, a step whose clock waits on the
customer; the work order's 挂起/恢复 on the same clocks; actions and moves read from the specs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.auth.principal import SYSTEM, Principal
from gridcare.auth.service import principal_for
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.engine import machine
from gridcare.engine.events import EventLog
from gridcare.engine.machine import Context, TransitionNotAllowed
from gridcare.engine.parallel import Branches, Limit
from gridcare.engine.spec import Action, Process, Step
from gridcare.errors import Conflict, InvalidInput, PermissionDenied
from gridcare.models import ItemEvent, StepAlarm, WorkOrder, WorkOrderEvent
from gridcare.sla.calendar_store import current_calendar
from gridcare.workorders import actions, service
from gridcare.workorders.process import PROCESS
from gridcare.workorders.schemas import ReplyBody, SuspendBody, Versioned, WorkOrderCreate
from gridcare.workorders.tasks import scan_due
from tests.factories import World
from tests.workorders.helpers import COMPLAINT_FREQUENT_OUTAGE


def bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


# A new-connection-like process: design waits on the customer's drawings; fee, contract and works run side
# by side and join before the meter is fitted.
CONNECTION = Process(
    "test_connection",
    "测试报装",
    [
        Step("design", "设计审查", waits_on_customer=True),
        Step("fee", "缴费"),
        Step("contract", "签订合同"),
        Step("works", "配套工程"),
        Step("metering", "装表接电"),
    ],
)
LIMITS = {"design": Limit(5, "working_days"), "fee": Limit(3, "working_days"), "works": Limit(48, "hours")}
BRANCHES = Branches(
    CONNECTION,
    EventLog(ItemEvent, item_column="item_id", fixed={"process": "test_connection"}),
    joins={"metering": ("fee", "contract", "works")},
    limits=LIMITS.get,
    calendar=current_calendar,
)


def ctx(session: Session, settings: Settings, at: datetime) -> Context:
    return Context(session=session, actor=SYSTEM, settings=settings, now=at)


def test_parallel_steps_join_and_a_paused_clock_keeps_what_was_left(
    session: Session, settings: Settings
) -> None:
    item = 900_001
    monday = bj("2026-11-02 09:00")  # a working Monday
    assert BRANCHES.start(ctx(session, settings, monday), item, ["design"]) == ["design"]
    design = BRANCHES.open_steps(session, item)[0]
    assert design.deadline == bj("2026-11-09 09:00")  # 5 working days: over the weekend

    # Wednesday 09:00 the customer owes drawings: 3 working days are left when the clock stops.
    wednesday = bj("2026-11-04 09:00")
    paused = BRANCHES.pause(ctx(session, settings, wednesday), item, "design", "待客户提供设计图纸")
    assert paused.deadline is None
    assert paused.left_seconds == 3 * 86_400
    assert BRANCHES.due(session, bj("2026-12-31 00:00")) == []  # nothing due while paused
    with pytest.raises(Conflict, match="等待客户"):
        BRANCHES.complete(ctx(session, settings, wednesday), item, "design", "approve")
    BRANCHES.start(ctx(session, settings, wednesday), item, ["fee"])  # runs beside the paused design
    with pytest.raises(InvalidInput, match="不是等待客户的环节"):
        BRANCHES.pause(ctx(session, settings, wednesday), item, "fee", "客户未缴费")

    # The drawings come the next Monday 09:00: the 3 working days run from there.
    resumed = BRANCHES.resume(ctx(session, settings, bj("2026-11-09 09:00")), item, "design")
    assert resumed.deadline == bj("2026-11-12 09:00")
    assert resumed.paused_seconds == 5 * 86_400

    # Design approved: fee, contract and works run side by side; metering opens when all three are done.
    at = bj("2026-11-10 10:00")
    opened = BRANCHES.complete(
        ctx(session, settings, at), item, "design", "approve", then=["contract", "works"]
    )
    assert opened == ["contract", "works"]
    assert {s.step for s in BRANCHES.open_steps(session, item)} == {"fee", "contract", "works"}
    assert BRANCHES.complete(ctx(session, settings, at), item, "fee", "paid") == []
    assert BRANCHES.complete(ctx(session, settings, at), item, "contract", "signed") == []
    late = at + timedelta(hours=50)
    assert [s.step for s in BRANCHES.due(session, late)] == ["works"]  # 48 hours
    assert BRANCHES.complete(ctx(session, settings, late), item, "works", "built") == ["metering"]

    events = session.scalars(
        select(ItemEvent)
        .where(ItemEvent.process == "test_connection", ItemEvent.item_id == item)
        .order_by(ItemEvent.id)
    ).all()
    works_done = next(e for e in events if e.action == "built")
    assert works_done.step_late is True
    design_done = next(e for e in events if e.action == "approve")
    assert design_done.step_late is False
    assert design_done.data == {"paused_seconds": 5 * 86_400}
    assert [e.action for e in events if e.action in ("pause", "resume")] == ["pause", "resume"]


def _complaint(s: Session, world: World, settings: Settings, at: datetime) -> WorkOrder:
    data = WorkOrderCreate(
        business_type="complaint",
        category=COMPLAINT_FREQUENT_OUTAGE,
        content="两个月停电三次",
        account_no=world.customers["station_a1"].account_no,
    )
    who = principal_for(s, world.users["agent"].id)
    return service.create(s, principal=who, settings=settings, data=data, now=at).order


def _act(
    s: Session,
    world: World,
    settings: Settings,
    who: str,
    order: WorkOrder,
    action: str,
    body: BaseModel,
    at: datetime,
) -> WorkOrder:
    principal: Principal = principal_for(s, world.users[who].id)
    return actions.perform(
        s, principal=principal, settings=settings, order_id=order.id, action=action, body=body, now=at
    )


def test_a_suspended_order_is_not_overdue_and_resumes_with_what_was_left(
    session_factory: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with session_factory() as s:
        order = _complaint(s, world, settings, bj("2026-11-02 08:00"))
        _act(
            s,
            world,
            settings,
            "dispatcher_a",
            order,
            "dispatch",
            Versioned(version=order.version),
            bj("2026-11-02 08:05"),
        )
        _act(
            s,
            world,
            settings,
            "staff_a1",
            order,
            "accept",
            Versioned(version=order.version),
            bj("2026-11-02 08:10"),
        )
        _act(
            s,
            world,
            settings,
            "staff_a1",
            order,
            "contact",
            Versioned(version=order.version),
            bj("2026-11-02 08:20"),
        )
        assert order.step == "in_progress"
        deadline = order.step_deadline  # 5 working days from acceptance
        assert deadline is not None
        # Station staff may not stop their own clock; a dispatcher may, with the reason.
        with pytest.raises(PermissionDenied):
            _act(
                s,
                world,
                settings,
                "staff_a1",
                order,
                "suspend",
                SuspendBody(version=order.version, reason="客户出差"),
                bj("2026-11-03 09:00"),
            )
        at = bj("2026-11-03 09:00")
        _act(
            s,
            world,
            settings,
            "dispatcher_a",
            order,
            "suspend",
            SuspendBody(version=order.version, reason="客户出差，约定下周上门"),
            at,
        )
        assert order.step_deadline is None
        assert order.step_pause_reason == "客户出差，约定下周上门"
        # While suspended: no reply, no second suspension; resuming and urging are offered.
        with pytest.raises(TransitionNotAllowed, match="挂起"):
            _act(
                s,
                world,
                settings,
                "staff_a1",
                order,
                "reply",
                ReplyBody(version=order.version, reply="已处理"),
                at,
            )
        offered = actions.available_actions(s, principal_for(s, world.users["dispatcher_a"].id), order)
        assert "resume" in offered
        assert "suspend" not in offered
        assert "reply" not in actions.available_actions(
            s, principal_for(s, world.users["staff_a1"].id), order
        )
        s.commit()
        order_id = order.id

    scan_due(session_factory, now=deadline + timedelta(hours=1))
    with session_factory() as s:
        order = s.get(WorkOrder, order_id)
        assert order is not None
        # The scan passed the suspended order by: no alarm waits, nothing was raised.
        assert s.scalars(select(StepAlarm).where(StepAlarm.order_id == order_id)).all() == []
        raised = s.scalars(select(WorkOrderEvent.action).where(WorkOrderEvent.order_id == order_id)).all()
        assert "breach" not in raised

        # Resumed a week later: the working time that was left runs from there.
        _act(
            s,
            world,
            settings,
            "staff_a1",
            order,
            "resume",
            Versioned(version=order.version),
            bj("2026-11-10 09:00"),
        )
        assert order.step_deadline is not None
        assert order.step_deadline > deadline + timedelta(days=5)
        assert order.step_paused_at is None
        armed = dict(
            s.execute(select(StepAlarm.kind, StepAlarm.at).where(StepAlarm.order_id == order_id)).all()
        )
        assert armed["breach"] == order.step_deadline
        timeline = s.scalars(
            select(WorkOrderEvent).where(WorkOrderEvent.order_id == order_id).order_by(WorkOrderEvent.id)
        ).all()
        resume = timeline[-1]
        assert resume.action == "resume"
        assert resume.data is not None
        assert resume.data["waited_seconds"] == int(
            (bj("2026-11-10 09:00") - bj("2026-11-03 09:00")).total_seconds()
        )
        assert PROCESS.label_of("suspend") == "挂起"
        s.rollback()


def test_moves_come_from_the_specs() -> None:
    """The process as a table, from the specs: what the API, the pages and the importer use."""
    table = set(PROCESS.transitions())
    assert ("*", "dispatch", "pending_dispatch", "pending_accept") in table
    assert ("urging", "dispatch", "pending_dispatch", "pending_archive") in table
    assert PROCESS.target("dispatch", "urging", "pending_dispatch") == "pending_archive"  # its own move first
    assert PROCESS.target("dispatch", "complaint", "pending_dispatch") == "pending_accept"
    assert PROCESS.target("merge", "complaint", "in_progress") is None  # only repair calls merge
    spec = PROCESS.actions["review"]
    assert spec.records == ("review_pass", "review_back")
    assert PROCESS.actions["attach_outage"].system


def test_a_system_move_cannot_be_posted_and_an_unknown_action_is_refused(
    session: Session, settings: Settings, world: World
) -> None:
    order = _complaint(session, world, settings, bj("2026-11-02 08:00"))
    who = principal_for(session, world.users["dispatcher_a"].id)
    context = Context(session=session, actor=who, settings=settings, now=bj("2026-11-02 08:01"))
    with pytest.raises(InvalidInput):
        machine.perform(context, actions.KEEPER, order, "attach_outage", Versioned(version=order.version))
    with pytest.raises(InvalidInput):
        machine.perform(context, actions.KEEPER, order, "teleport", Versioned(version=order.version))
    with pytest.raises(Conflict, match="已被他人处理"):
        machine.perform(context, actions.KEEPER, order, "dispatch", Versioned(version=order.version + 1))


def test_an_action_spec_is_all_it_takes() -> None:
    """A process defined only by specs: the engine moves it, checks roles and writes nothing else."""
    process = Process("test_tiny", "小流程", [Step("a", "甲"), Step("b", "乙", closed=True)])
    process.action(Action("go", "前进", (), Versioned, moves={("*", "a"): "b"}, system=True))
    assert process.transitions() == [("*", "go", "a", "b")]
    with pytest.raises(ValueError, match="unknown steps"):
        process.action(Action("bad", "坏", (), Versioned, moves={("*", "a"): "z"}))
