"""A process as one typed definition: its steps, and for each action one spec — the Chinese name, the
roles that may take it, the body it takes, the handler that carries it out, and the moves it makes.

Everything that used to be spelled out in several places (role tables, a transitions table, the API's
list of actions, the page's form parsing) is read from here: adding an action is one `Action` and one
handler, registered on its process (docs/architecture.md, "Adding an action").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from gridcare.models.enums import Role

B = TypeVar("B", bound=BaseModel)
ANY_KIND = "*"


@dataclass(frozen=True)
class Step:
    """A step (环节) of a process. `closed`: the item is done (no clock). `waits_on_customer`: the
    step's clock may be paused while the customer owes something (with the reason recorded)."""

    code: str
    name: str
    closed: bool = False
    waits_on_customer: bool = False


@dataclass(frozen=True)
class Field:
    """One input of an action's page form. `widget`: text, textarea, catalog (a select of the catalogue
    `options` names), station, handler, verdict (two buttons, `options` = "yes label|no label"),
    reached (联系上 / 未联系上)."""

    name: str
    widget: str
    label: str = ""
    required: bool = False
    options: str = ""


@dataclass(frozen=True)
class Action(Generic[B]):
    """One thing a user (or the system) does to an item.

    `moves` maps (kind, from step) to the step entered; the kind is the item's subtype (a work order's
    business type) or `*` for every kind, a kind's own move winning. An action without moves records
    an event where the item stands (a callback attempt, an urging). `system` actions are taken by the
    software only (attaching a repair call to an outage, say): no user may post them. `when` narrows
    when a user may take it (beyond having a move from the current step)."""

    name: str
    label: str
    roles: tuple[Role, ...]
    body: type[B]
    handler: Callable[..., Any] | None = None
    moves: Mapping[tuple[str, str], str] = field(default_factory=dict)
    summary: str = ""
    system: bool = False
    when: Callable[[Any], bool] | None = None
    # The page form's inputs, in order (web/templates/_action_form.html); none: just the button.
    fields: tuple[Field, ...] = ()
    # The moves this action makes under other names (审核 moves by review_pass or review_back).
    records: tuple[str, ...] = ()
    # The form's heading for an item, when it depends on it (到达现场 for a repair call).
    title: Callable[[Any], str] | None = None
    # The submit button's words (default: the label) and look ("danger", "secondary").
    button: str = ""
    style: str = ""
    # Served by an endpoint of its own (催办 answers with the new urging order), not the generic one.
    custom: bool = False
    # May be taken while the item's clock is paused for the customer (恢复 may; most may not).
    while_paused: bool = False

    def title_for(self, item: Any) -> str:
        return self.title(item) if self.title is not None else self.label


def moves_from(steps: Iterable[str], to: str, kind: str = "*") -> dict[tuple[str, str], str]:
    """The same move from several steps: {(kind, s): to for s in steps}."""
    return {(kind, s): to for s in steps}


class Process:
    """The registry of one process: its steps and actions. Domains build one at import time."""

    def __init__(self, name: str, label: str, steps: Iterable[Step], *, noun: str = "环节") -> None:
        self.name = name
        self.label = label
        self.noun = noun  # what its steps are called in messages: 环节 (work orders), 状态 (outages)
        self.steps: dict[str, Step] = {s.code: s for s in steps}
        self.actions: dict[str, Action[Any]] = {}
        # Names of events that are no user action (warnings, breaches, system notes), for timelines.
        self.event_names: dict[str, str] = {}

    def action(self, spec: Action[B]) -> Action[B]:
        if spec.name in self.actions:
            raise ValueError(f"{self.name}: action {spec.name} registered twice")
        unknown = {s for pair in spec.moves.items() for s in (pair[0][1], pair[1])} - set(self.steps)
        if unknown:
            raise ValueError(f"{self.name}.{spec.name}: unknown steps {sorted(unknown)}")
        self.actions[spec.name] = spec
        return spec

    def name_events(self, names: Mapping[str, str]) -> None:
        self.event_names.update(names)

    def step(self, code: str) -> Step:
        return self.steps[code]

    @property
    def open_steps(self) -> tuple[str, ...]:
        return tuple(c for c, s in self.steps.items() if not s.closed)

    @property
    def closed_steps(self) -> tuple[str, ...]:
        return tuple(c for c, s in self.steps.items() if s.closed)

    def target(self, action: str, kind: str, from_step: str) -> str | None:
        """The step `action` leads to from `from_step` for an item of `kind` (its own move first)."""
        spec = self.actions.get(action)
        if spec is None:
            return None
        return spec.moves.get((kind, from_step)) or spec.moves.get((ANY_KIND, from_step))

    def transitions(self) -> list[tuple[str, str, str, str]]:
        """Every (kind, action, from step, to step): the process as a table (docs, tests)."""
        return sorted(
            (kind, name, source, target)
            for name, spec in self.actions.items()
            for (kind, source), target in spec.moves.items()
        )

    def label_of(self, action: str) -> str:
        spec = self.actions.get(action)
        return spec.label if spec is not None else self.event_names.get(action, action)

    def step_name(self, code: str) -> str:
        step = self.steps.get(code)
        return step.name if step is not None else code


# Every process the running program knows, by name (filled as domains import their process module).
PROCESSES: dict[str, Process] = {}


def register(process: Process) -> Process:
    PROCESSES[process.name] = process
    return process
