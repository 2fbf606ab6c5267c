"""Processes with several steps open at once: parallel branches that join, and steps whose clock
stops while the customer owes something.

A new connection (业扩, docs/domain.md §8) runs fee, contract, supporting works and metering side by
side and joins them before the meter is fitted; its design review waits on the customer's drawings
without counting against the company. `Branches` keeps each open step of an item as a row
(`item_steps`) with its own clock, and writes each step's end as an event through the process's log,
with the step's timing (paused time left out of its deadline).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridcare.calendar import WorkCalendar, add_working_days
from gridcare.engine import clock
from gridcare.engine.events import Event, EventLog
from gridcare.engine.machine import Context, StepChange, step_entered, step_left
from gridcare.engine.spec import Process
from gridcare.errors import Conflict, InvalidInput
from gridcare.models.engine import ItemStep

DONE = "done"


@dataclass(frozen=True)
class Limit:
    """A step's time limit: `value` minutes, hours or working days from entering it."""

    value: float
    unit: str  # minutes | hours | working_days

    @property
    def working(self) -> bool:
        return self.unit == "working_days"


class Branches:
    """The open steps of a process's items. `joins[j]` lists the steps that must all be done before
    `j` opens; `limits(step)` gives a step's time limit (None: no clock)."""

    def __init__(
        self,
        process: Process,
        log: EventLog,
        *,
        joins: Mapping[str, tuple[str, ...]],
        limits: Callable[[str], Limit | None],
        calendar: Callable[[Session], WorkCalendar],
    ) -> None:
        self.process = process
        self.log = log
        self.joins = dict(joins)
        self.limits = limits
        self.calendar = calendar

    # -- reading ----------------------------------------------------------------------------------
    def steps(self, session: Session, item_id: int, *, lock: bool = False) -> list[ItemStep]:
        """The item's steps; `lock`: held until the transaction ends (PostgreSQL), so two changes of
        one item's steps run one after the other and a join is seen by exactly one of them."""
        query = (
            select(ItemStep)
            .where(ItemStep.process == self.process.name, ItemStep.item_id == item_id)
            .order_by(ItemStep.id)
        )
        return list(session.scalars(query.with_for_update() if lock else query))

    def open_steps(self, session: Session, item_id: int) -> list[ItemStep]:
        return [s for s in self.steps(session, item_id) if s.state != "done"]

    def _one(self, session: Session, item_id: int, step: str) -> ItemStep:
        found = [s for s in self.steps(session, item_id, lock=True) if s.state != DONE and s.step == step]
        if not found:
            raise Conflict(f"“{self.process.step_name(step)}”不是进行中的环节")
        return found[0]

    # -- changing ---------------------------------------------------------------------------------
    def start(
        self,
        ctx: Context,
        item_id: int,
        steps: Iterable[str],
        *,
        action: str = "start",
        unit_id: int | None = None,
    ) -> list[str]:
        """Open `steps` now, each with its clock (an event each: the step entered)."""
        opened = []
        for code in steps:
            self.process.step(code)  # an unknown step is a programming error: KeyError
            limit = self.limits(code)
            deadline = None
            if limit is not None:
                if limit.working:
                    deadline = add_working_days(self.calendar(ctx.session), ctx.now, limit.value)
                else:
                    minutes = limit.value * (60 if limit.unit == "hours" else 1)
                    deadline = ctx.now + timedelta(minutes=minutes)
            ctx.session.add(
                ItemStep(
                    process=self.process.name,
                    item_id=item_id,
                    step=code,
                    state="open",
                    entered_at=ctx.now,
                    deadline=deadline,
                    working=bool(limit and limit.working),
                )
            )
            self.log.append(
                ctx.session,
                item_id,
                Event(at=ctx.now, action=action, actor_id=ctx.actor_id, to_step=code, unit_id=unit_id),
            )
            opened.append(code)
            step_entered.publish(ctx.session, StepChange(self.process.name, item_id, action, None, code, ctx))
        ctx.session.flush()
        return opened

    def complete(
        self,
        ctx: Context,
        item_id: int,
        step: str,
        action: str,
        *,
        then: Iterable[str] = (),
        note: str | None = None,
        unit_id: int | None = None,
    ) -> list[str]:
        """Close `step` (its event carries its timing), open `then`, and open every join whose steps are
        now all done. A paused step must be resumed first. Returns the steps opened."""
        row = self._one(ctx.session, item_id, step)
        if row.state == "paused":
            raise Conflict(
                f"“{self.process.step_name(step)}”正在等待客户（{row.pause_reason}），请先恢复计时"
            )
        row.state = DONE
        row.left_at = ctx.now
        self.log.append(
            ctx.session,
            item_id,
            Event(
                at=ctx.now,
                action=action,
                actor_id=ctx.actor_id,
                from_step=step,
                to_step=DONE,
                note=note,
                step_entered_at=row.entered_at,
                step_deadline=row.deadline,
                step_late=(ctx.now > row.deadline) if row.deadline is not None else None,
                unit_id=unit_id,
                data={"paused_seconds": row.paused_seconds} if row.paused_seconds else None,
            ),
        )
        save_step(ctx, row)
        step_left.publish(ctx.session, StepChange(self.process.name, item_id, action, step, DONE, ctx))
        done = {s.step for s in self.steps(ctx.session, item_id) if s.state == DONE}
        opening = list(then)
        for joined, parts in self.joins.items():
            if step in parts and set(parts) <= done and joined not in done and joined not in opening:
                opening.append(joined)
        return self.start(ctx, item_id, opening, action=action, unit_id=unit_id)

    def pause(self, ctx: Context, item_id: int, step: str, reason: str) -> ItemStep:
        """The customer owes something: the step's clock stops, what is left of it is kept."""
        if not self.process.step(step).waits_on_customer:
            raise InvalidInput(f"“{self.process.step_name(step)}”不是等待客户的环节，不能暂停计时")
        if not reason.strip():
            raise InvalidInput("请写明等待客户的原因", details=[{"field": "reason", "reason": "必填"}])
        row = self._one(ctx.session, item_id, step)
        if row.state == "paused":
            raise Conflict(f"“{self.process.step_name(step)}”已在等待客户")
        if row.deadline is not None:
            left = clock.remaining(
                self.calendar(ctx.session), deadline=row.deadline, at=ctx.now, working=row.working
            )
            row.left_seconds = int(left.total_seconds())
            row.deadline = None
        row.state = "paused"
        row.paused_at = ctx.now
        row.pause_reason = reason.strip()
        self.log.append(
            ctx.session,
            item_id,
            Event(at=ctx.now, action="pause", actor_id=ctx.actor_id, from_step=step, note=row.pause_reason),
        )
        save_step(ctx, row)
        return row

    def resume(self, ctx: Context, item_id: int, step: str) -> ItemStep:
        """The customer has done their part: the clock runs again with what was left of it."""
        row = self._one(ctx.session, item_id, step)
        if row.state != "paused" or row.paused_at is None:
            raise Conflict(f"“{self.process.step_name(step)}”没有在等待客户")
        if row.left_seconds is not None:
            row.deadline = clock.resumed(
                self.calendar(ctx.session),
                left=timedelta(seconds=row.left_seconds),
                at=ctx.now,
                working=row.working,
            )
        waited = clock.paused_for(row.paused_at, ctx.now)
        row.paused_seconds += waited
        row.state = "open"
        row.paused_at = None
        row.left_seconds = None
        self.log.append(
            ctx.session,
            item_id,
            Event(
                at=ctx.now,
                action="resume",
                actor_id=ctx.actor_id,
                from_step=step,
                note=row.pause_reason,
                data={"waited_seconds": waited},
            ),
        )
        save_step(ctx, row)
        return row

    def due(self, session: Session, now: datetime) -> list[ItemStep]:
        """Open steps past their deadline (paused ones have none while paused)."""
        return list(
            session.scalars(
                select(ItemStep).where(
                    ItemStep.process == self.process.name,
                    ItemStep.state == "open",
                    ItemStep.deadline.is_not(None),
                    ItemStep.deadline <= now,
                )
            )
        )


def save_step(ctx: Context, row: ItemStep) -> None:
    """Write a step's change now with its version check: of two concurrent changes of one step, the
    second is a 409."""
    name = row.step  # read now: a failed flush expires the object
    try:
        ctx.session.flush()
    except StaleDataError as exc:
        raise Conflict(f"环节“{name}”已被他人处理，请刷新后重试") from exc
