"""Moving items: the one way every process changes an item's step and writes the event for it.

A `Keeper` tells the engine how one process keeps its items: where an item stands (a work order's
`step`, an outage's `status`), its kind (a work order's business type picks moves of its own), how a
step is entered (its clock), and where its events go. `perform` carries a user's action out — the
role, the version the user read, the handler, the write — and `begin` / `move` / `record` are what
handlers and system paths (attaching a call to an outage, the restoration releasing it) call to put an
item in its first step, change its step and write its events. The version check is always made:
against the version the user read, and at write time (the ORM's version column), so of two
concurrent changes the second is a 409, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridcare.config import Settings
from gridcare.engine.events import Event, EventLog
from gridcare.engine.hooks import Topic
from gridcare.engine.spec import ANY_KIND, Action, Process
from gridcare.errors import Conflict, InvalidInput, PermissionDenied
from gridcare.models.enums import LABELS_ZH, Role


class Actor(Protocol):
    """Who acts: a signed-in user, or the system (user id 0)."""

    @property
    def user_id(self) -> int: ...

    def has_any(self, *roles: Role) -> bool: ...


@dataclass
class Context:
    """One action's circumstances: the transaction, who acts, the settings, and the time."""

    session: Session
    actor: Any  # an Actor; domains pass their principal (typed loosely so handlers get the full one)
    settings: Settings
    now: datetime

    @property
    def actor_id(self) -> int | None:
        return int(self.actor.user_id) or None


# An item is a mapped row with `id` and `version` (its version column): a work order, an outage …
T = TypeVar("T")


def _id(item: object) -> int:
    return int(cast(Any, item).id)


def _version(item: object) -> int:
    return int(cast(Any, item).version)


class Keeper(Generic[T]):
    """How one process keeps its items, one step per item. Subclasses say where an item stands and
    how it enters a step; the rest has defaults."""

    process: Process
    log: EventLog

    def where(self, item: T) -> str:
        raise NotImplementedError

    def set_step(self, ctx: Context, item: T, step: str) -> None:
        """Put it in `step` and start that step's clock (if the step has one)."""
        raise NotImplementedError

    def kind(self, item: T) -> str:
        return ANY_KIND

    def label(self, item: T) -> str:
        return f"{self.process.label} {_id(item)}"

    def step_name(self, item: T) -> str:
        return self.process.step_name(self.where(item))

    def unit(self, item: T) -> int | None:
        """The unit its current step belongs to (kept with each event)."""
        return None

    def paused(self, item: T) -> bool:
        """Its step's clock stands still while the customer owes something (only actions marked
        `while_paused` may be taken)."""
        return False

    def timing(self, item: T) -> tuple[datetime | None, datetime | None]:
        """(entered at, deadline) of its current step, kept with the event that leaves it."""
        return None, None


@dataclass(frozen=True)
class StepChange:
    """Payload of the engine's hooks: an item of `process` left `left` (None: it was just created) and
    entered `entered` through `action`."""

    process: str
    item: Any
    action: str
    left: str | None
    entered: str
    ctx: Context


# Every move publishes these after its event is written; domains subscribe for their reactions.
step_left: Topic[StepChange] = Topic("engine.step_left")
step_entered: Topic[StepChange] = Topic("engine.step_entered")


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


def check_version(keeper: Keeper[T], item: T, version: int) -> None:
    if _version(item) != version:
        raise Conflict(
            f"{keeper.label(item)} 已被他人处理（当前版本 {_version(item)}，您看到的是 {version}），请刷新后重试"
        )


def require_role(spec: Action[Any], actor: Actor) -> None:
    if spec.system or not actor.has_any(*spec.roles):
        names = "、".join(LABELS_ZH[r] for r in spec.roles) or "系统"
        raise PermissionDenied(f"“{spec.label}”需要以下角色之一：{names}")


def target(keeper: Keeper[T], item: T, action: str) -> str:
    """The step `action` leads to from where the item stands, or 409 naming the step."""
    found = keeper.process.target(action, keeper.kind(item), keeper.where(item))
    if found is None:
        raise TransitionNotAllowed(
            f"{keeper.label(item)} 当前{keeper.process.noun}为“{keeper.step_name(item)}”，"
            f"不能执行“{keeper.process.label_of(action)}”"
        )
    return found


def allows(keeper: Keeper[T], item: T, action: str) -> bool:
    return keeper.process.target(action, keeper.kind(item), keeper.where(item)) is not None


def record(
    ctx: Context,
    keeper: Keeper[T],
    item: T,
    action: str,
    *,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    to_step: str | None = None,
) -> None:
    """Write one event for `item` where it stands (or, with `to_step`, as it leaves its step: with the
    step's timing). The only way an event is written one at a time."""
    entered, deadline = keeper.timing(item) if to_step is not None else (None, None)
    keeper.log.append(
        ctx.session,
        _id(item),
        Event(
            at=ctx.now,
            action=action,
            actor_id=ctx.actor_id,
            from_step=keeper.where(item),
            to_step=to_step,
            note=note,
            data=data,
            step_entered_at=entered,
            step_deadline=deadline,
            step_late=(ctx.now > deadline) if deadline is not None else None,
            unit_id=keeper.unit(item),
        ),
    )


def begin(
    ctx: Context,
    keeper: Keeper[T],
    item: T,
    step: str,
    *,
    action: str = "create",
    data: dict[str, Any] | None = None,
) -> None:
    """A new item (already flushed, so it has its id) enters its first step: the event "create" from
    no step. Publishes `step_entered`."""
    keeper.process.step(step)  # an unknown first step is a programming error
    keeper.log.append(
        ctx.session,
        _id(item),
        Event(
            at=ctx.now,
            action=action,
            actor_id=ctx.actor_id,
            from_step=None,
            to_step=step,
            data=data,
            unit_id=keeper.unit(item),
        ),
    )
    step_entered.publish(ctx.session, StepChange(keeper.process.name, item, action, None, step, ctx))


def move(
    ctx: Context,
    keeper: Keeper[T],
    item: T,
    action: str,
    *,
    to_step: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> str:
    """Move `item` by `action` — to the process's target, or to `to_step` when the handler chose
    another the process allows — writing the event that leaves the current step and entering the
    next. Returns the step entered. Publishes `step_left` and `step_entered`."""
    left = keeper.where(item)
    planned = target(keeper, item, action)
    entered = to_step or planned
    keeper.process.step(entered)
    record(ctx, keeper, item, action, note=note, data=data, to_step=entered)
    keeper.set_step(ctx, item, entered)
    change = StepChange(keeper.process.name, item, action, left, entered, ctx)
    step_left.publish(ctx.session, change)
    step_entered.publish(ctx.session, change)
    return entered


def save(session: Session, keeper: Keeper[T], item: T) -> T:
    """Write the item's change now, with its version check: a concurrent change that won makes this
    one a 409."""
    label = keeper.label(item)  # read now: a failed flush expires the object
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"{label} 已被他人处理，请刷新后重试") from exc
    return item


def available(keeper: Keeper[T], actor: Actor, item: T) -> list[Action[Any]]:
    """The actions this actor may take on the item now: their role, a move from the current step (or
    no move needed) and the action's own condition."""
    found = []
    for spec in keeper.process.actions.values():
        if spec.system or not actor.has_any(*spec.roles):
            continue
        if keeper.paused(item) and not spec.while_paused:
            continue
        names = [spec.name, *spec.records]
        moving = any(keeper.process.actions[n].moves for n in names if n in keeper.process.actions)
        reachable = not moving or any(allows(keeper, item, n) for n in names)
        if reachable and (spec.when is None or spec.when(item)):
            found.append(spec)
    return found


def perform(ctx: Context, keeper: Keeper[T], item: T, action: str, body: BaseModel) -> T:
    """A user's action: the role, the version they read (when the body carries one), the handler,
    the write (409 on a race)."""
    spec = keeper.process.actions.get(action)
    if spec is None or spec.handler is None or spec.system:
        raise InvalidInput(f"没有“{action}”这项操作")
    require_role(spec, ctx.actor)
    version = getattr(body, "version", None)
    if version is not None:
        check_version(keeper, item, version)
    if keeper.paused(item) and not spec.while_paused:
        raise TransitionNotAllowed(f"{keeper.label(item)} 正在等待客户（已挂起），请先恢复计时再{spec.label}")
    if spec.when is not None and not spec.when(item):
        raise TransitionNotAllowed(f"{keeper.label(item)} 当前不能{spec.label}")
    if not isinstance(body, spec.body):
        body = spec.body.model_validate(body.model_dump())
    spec.handler(ctx, item, body)
    return save(ctx.session, keeper, item)


def roles_of(specs: Sequence[Action[Any]]) -> set[Role]:
    return {r for s in specs for r in s.roles}
