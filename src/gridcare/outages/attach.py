"""Outages in the 95598 flow: repair calls from inside a fault outage wait on it; its restoration moves
them on to their callbacks (docs/domain.md §7).

A 故障报修 from a customer the outage affects (or, without a customer, from one of its 台区) is
attached: it leaves 待派单 for 已合并 with the outage's number, so no crew is sent twice. When the
outage is restored, each attached order gets the restoration as its reply and goes to 待回访; when a
predicted outage is dismissed, they go back to 待派单 to be handled one by one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from gridcare.auth.principal import SYSTEM, Principal
from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.engine import machine
from gridcare.engine.machine import Context
from gridcare.models import Outage, OutageCustomer, WorkOrder
from gridcare.workorders import actions
from gridcare.workorders.process import KEEPER

ATTACHABLE = ("predicted", "confirmed", "in_progress")


# Built once (every repair call asks): a missing customer or 台区 is bound as NULL, which matches nothing.
_ACTIVE_FAULT = (
    select(Outage)
    .where(
        Outage.status.in_(ATTACHABLE),
        Outage.kind == "fault",
        select(OutageCustomer.outage_id)
        .where(
            OutageCustomer.outage_id == Outage.id,
            or_(
                OutageCustomer.customer_id == bindparam("customer"),
                OutageCustomer.transformer_area_id == bindparam("area"),
            ),
        )
        .exists(),
    )
    .order_by(Outage.planned_start.desc(), Outage.id.desc())
    .limit(1)
)


def active_fault_for(
    session: Session, *, customer_id: int | None, transformer_area_id: int | None
) -> Outage | None:
    """The newest fault outage (predicted, confirmed or on) reaching this customer or 台区: the active
    fault outages (few; an index range) each asked by index whether they reach it."""
    if customer_id is None and transformer_area_id is None:
        return None
    return session.scalar(_ACTIVE_FAULT, {"customer": customer_id, "area": transformer_area_id})


def _system(session: Session, settings: Settings, now: datetime, principal: Principal = SYSTEM) -> Context:
    return Context(session=session, actor=principal, settings=settings, now=now)


def attach_repair(session: Session, order: WorkOrder, *, settings: Settings, now: datetime) -> Outage | None:
    """Attach a new repair order to the fault outage it comes from, if there is one."""
    if order.business_type != "fault_repair" or order.step != "pending_dispatch":
        return None
    outage = active_fault_for(
        session, customer_id=order.customer_id, transformer_area_id=order.transformer_area_id
    )
    if outage is None:
        return None
    order.outage_id = outage.id
    ctx = _system(session, settings, now)
    actions.release(session, order, "attach_outage", ctx=ctx, data={"outage": outage.number})
    return outage


def attached(session: Session, outage_id: int) -> list[WorkOrder]:
    return list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.outage_id == outage_id, WorkOrder.step == "merged")
            .order_by(WorkOrder.id)
        )
    )


def _release(
    session: Session,
    outage: Outage,
    action: str,
    *,
    principal: Principal,
    settings: Settings,
    now: datetime,
    reply: str | None,
) -> int:
    moved = 0
    ctx = _system(session, settings, now, principal)
    for order in attached(session, outage.id):
        if reply is None:
            order.outage_id = None
        else:
            order.reply = reply
        data = {"outage": outage.number, **({"reply": reply} if reply else {})}
        # The version check holds here too: an order changed meanwhile makes this a 409, not a lost write.
        moved += actions.release(session, order, action, ctx=ctx, data=data)
        machine.save(session, KEEPER, order)
    return moved


def release_on_restore(
    session: Session, outage: Outage, *, principal: Principal, settings: Settings, now: datetime
) -> int:
    """The outage is restored: its attached repair orders are answered by it and go to their callbacks."""
    local = now.astimezone(BEIJING)
    reply = (
        f"停电事件 {outage.number}（{outage.cause}）已于{local.month}月{local.day}日{local:%H:%M}恢复供电。"
    )
    return _release(
        session, outage, "outage_restored", principal=principal, settings=settings, now=now, reply=reply
    )


def release_on_dismiss(
    session: Session, outage: Outage, *, principal: Principal, settings: Settings, now: datetime
) -> int:
    """A predicted outage was not confirmed: its orders go back to be dispatched one by one."""
    return _release(
        session, outage, "outage_dismissed", principal=principal, settings=settings, now=now, reply=None
    )
