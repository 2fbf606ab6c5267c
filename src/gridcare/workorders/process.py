"""The 95598 work order as a process on the engine: its steps, how an order keeps them, and where its
events go. The actions (派单 … 归档, 催办, 合并, 挂起/恢复, and the system's moves when a call is attached
to an outage) are registered on `PROCESS` in actions.py, each as one spec with its handler."""

from __future__ import annotations

from datetime import datetime

from gridcare.engine.events import EventLog
from gridcare.engine.machine import Context, Keeper
from gridcare.engine.spec import Process, register
from gridcare.models import WorkOrder, WorkOrderEvent
from gridcare.workorders.defaults import CLOSED_STEPS
from gridcare.workorders.steps import STEP_SPECS, arm, armed, enter_step, step_name

PROCESS = register(Process("workorder", "工单", STEP_SPECS))
# Events that are no user action: what the system writes on an order's timeline.
PROCESS.name_events(
    {
        "create": "受理",
        "callback_attempt": "回访未联系上",
        "review_pass": "审核通过",
        "review_back": "审核退回",
        "merged_in": "并入副工单",
        "urged": "被催办",
        "warning": "即将超时预警",
        "breach": "超时",
        "calendar_missing": "缺少工作日历",
    }
)
LOG = EventLog(WorkOrderEvent, item_column="order_id", unit_column="step_unit_id")


class OrderKeeper(Keeper[WorkOrder]):
    process = PROCESS
    log = LOG

    def where(self, item: WorkOrder) -> str:
        return item.step

    def set_step(self, ctx: Context, item: WorkOrder, step: str) -> None:
        previous = armed(item)
        enter_step(ctx.session, item, step, now=ctx.now, settings=ctx.settings)
        arm(ctx.session, item, previous=previous)

    def kind(self, item: WorkOrder) -> str:
        return item.business_type

    def label(self, item: WorkOrder) -> str:
        return f"工单 {item.number}"

    def step_name(self, item: WorkOrder) -> str:
        name = step_name(item.step, item.business_type)
        return f"{name}（挂起）" if item.step_paused_at is not None else name

    def unit(self, item: WorkOrder) -> int | None:
        return item.station_id

    def timing(self, item: WorkOrder) -> tuple[datetime | None, datetime | None]:
        return item.step_entered_at, item.step_deadline

    def paused(self, item: WorkOrder) -> bool:
        return item.step_paused_at is not None


KEEPER = OrderKeeper()


def is_open(order: WorkOrder) -> bool:
    return order.step not in CLOSED_STEPS
