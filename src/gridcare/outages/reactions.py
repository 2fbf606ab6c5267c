"""How outages react to the other domains' events and to their own (imported by gridcare.wiring):

- a new repair call (`workorders.hooks.order_created`) is attached to the fault outage it comes from,
  or, when there is none, examined by trouble-call analysis;
- a restored outage answers its attached calls; a dismissed prediction sends them back to dispatch.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gridcare.outages import attach, trouble
from gridcare.outages.hooks import OutageEvent, outage_dismissed, outage_restored
from gridcare.workorders.hooks import OrderEvent, order_created


@order_created.subscribe
def repair_call(session: Session, event: OrderEvent) -> None:
    order, ctx = event.order, event.ctx
    if order.business_type != "fault_repair":
        return
    if attach.attach_repair(session, order, settings=ctx.settings, now=ctx.now) is None:
        session.flush()
        trouble.analyse(session, order, settings=ctx.settings, now=ctx.now)


@outage_restored.subscribe
def answer_calls(session: Session, event: OutageEvent) -> None:
    ctx = event.ctx
    attach.release_on_restore(session, event.outage, principal=ctx.actor, settings=ctx.settings, now=ctx.now)


@outage_dismissed.subscribe
def return_calls(session: Session, event: OutageEvent) -> None:
    ctx = event.ctx
    attach.release_on_dismiss(session, event.outage, principal=ctx.actor, settings=ctx.settings, now=ctx.now)
