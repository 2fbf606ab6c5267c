"""What the work-order domain announces to the others (engine/hooks.py): they subscribe; this domain
imports none of them.

- `order_created`: a new order is stored with its first event (outages attach a repair call to the
  fault outage it comes from, or run trouble-call analysis on it).
- `order_archived`: an order reached 已归档.
Moves of every step are published by the engine itself (`engine.machine.step_entered`, `step_left`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridcare.engine.hooks import Topic
from gridcare.engine.machine import Context, StepChange, step_entered
from gridcare.models import WorkOrder


@dataclass(frozen=True)
class OrderEvent:
    order: WorkOrder
    ctx: Context


order_created: Topic[OrderEvent] = Topic("workorders.order_created")
order_archived: Topic[OrderEvent] = Topic("workorders.order_archived")


@step_entered.subscribe
def _archived(session: object, change: StepChange) -> None:
    if change.process == "workorder" and change.entered == "archived":
        order_archived.publish(change.ctx.session, OrderEvent(change.item, change.ctx))
