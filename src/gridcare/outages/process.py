"""Outages and arrears cases as processes on the engine (docs/domain.md §7): their states, the actions
that move them (with the roles that may take them) and their events (`item_events`).

The service functions (service.py, trouble.py, arrears.py) keep their own bodies and checks — notice
periods, approvals, delivered notices — and change a state only through `machine.move`, which checks
the move against these specs, writes the event and publishes the engine's hooks.
"""

from __future__ import annotations

from pydantic import BaseModel

from gridcare.engine.events import EventLog
from gridcare.engine.machine import Context, Keeper
from gridcare.engine.spec import Action, Process, Step, moves_from, register
from gridcare.models import ArrearsCase, ItemEvent, Outage
from gridcare.models.enums import Role
from gridcare.outages.schemas import STATUS_NAMES

EDIT_ROLES = (Role.dispatcher, Role.station_staff, Role.manager, Role.admin)
ARREARS_ROLES = EDIT_ROLES


class NoBody(BaseModel):
    """Outage actions take their bodies in their own endpoints (schemas.py)."""


# -- outages ----------------------------------------------------------------------------------------

OUTAGE = register(
    Process(
        "outage",
        "停电事件",
        [Step(code, name, closed=code in ("closed", "cancelled")) for code, name in STATUS_NAMES.items()],
        noun="状态",
    )
)
OUTAGE.name_events({"create": "登记", "restore_time": "调整预计复电时间", "short_notice": "申请不足通知期限"})


def _outage_action(
    name: str, label: str, moves: dict[tuple[str, str], str], roles: tuple[Role, ...] = EDIT_ROLES
) -> None:
    OUTAGE.action(Action(name, label, roles, NoBody, moves=moves, system=not roles))


_outage_action("announce", "发布停电通知", {("*", "planned"): "announced"})
_outage_action("start", "开始停电", {("*", "announced"): "in_progress"})
_outage_action("confirm", "确认故障停电", {("*", "predicted"): "confirmed"})
_outage_action("restore", "登记复电", moves_from(("in_progress", "confirmed"), "restored"))
_outage_action("close", "归档停电事件", {("*", "restored"): "closed"})
_outage_action("cancel", "取消停电", moves_from(("planned", "announced", "predicted"), "cancelled"))
# An arrears cut is restored when its case is (arrears.restore), by the system.
_outage_action("arrears_restored", "欠费复电", {("arrears", "in_progress"): "restored"}, roles=())
# What may be done without a move, and in which states.
NO_MOVE_STATES = {
    "restore_time": ("announced", "confirmed", "in_progress"),
    "short_notice": ("planned",),
}
OUTAGE_LOG = EventLog(ItemEvent, item_column="item_id", fixed={"process": "outage"})


class OutageKeeper(Keeper[Outage]):
    process = OUTAGE
    log = OUTAGE_LOG

    def where(self, item: Outage) -> str:
        return item.status

    def set_step(self, ctx: Context, item: Outage, step: str) -> None:
        item.status = step
        item.updated_at = ctx.now

    def kind(self, item: Outage) -> str:
        return item.kind

    def label(self, item: Outage) -> str:
        return f"停电事件 {item.number}"

    def unit(self, item: Outage) -> int | None:
        return item.county_id


OUTAGES = OutageKeeper()


# -- arrears cases ----------------------------------------------------------------------------------

ARREARS_STATES = {
    "open": "待停电",
    "cut": "已停电",
    "paid": "已缴费",
    "restored": "已复电",
    "cancelled": "已结清",
}
ARREARS = register(
    Process(
        "arrears",
        "欠费停电单",
        [Step(code, name, closed=code in ("restored", "cancelled")) for code, name in ARREARS_STATES.items()],
        noun="状态",
    )
)
ARREARS.name_events({"create": "登记欠费", "notice": "发送停电通知书", "final_notice": "发送停电前提醒"})
for _name, _label, _moves in (
    ("cut", "欠费停电", {("*", "open"): "cut"}),
    ("pay", "登记缴费", {("*", "open"): "cancelled", ("*", "cut"): "paid"}),
    ("restore", "欠费复电", {("*", "paid"): "restored"}),
):
    ARREARS.action(Action(_name, _label, ARREARS_ROLES, NoBody, moves=_moves))
ARREARS_LOG = EventLog(ItemEvent, item_column="item_id", fixed={"process": "arrears"})


class ArrearsKeeper(Keeper[ArrearsCase]):
    process = ARREARS
    log = ARREARS_LOG

    def where(self, item: ArrearsCase) -> str:
        return item.status

    def set_step(self, ctx: Context, item: ArrearsCase, step: str) -> None:
        item.status = step

    def label(self, item: ArrearsCase) -> str:
        return f"欠费停电单 {item.id}"


CASES = ArrearsKeeper()
