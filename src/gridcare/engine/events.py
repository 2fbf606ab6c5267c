"""The one place events are written. Every process has an `EventLog` over its append-only events
table; the engine's `move` and `record` write through it one event at a time, the importer and the
demo in bulk (`append_rows`), the overdue scan set-based (`append_select`). Nothing else inserts into
an events table (a test checks the source for other writers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, insert, literal
from sqlalchemy.orm import Session

from gridcare.bulk import insert_rows
from gridcare.db import Base


@dataclass(frozen=True)
class Event:
    """One event of an item. When it leaves a step (`to_step` set), it carries that step's timing:
    when it was entered, its deadline and whether it was late — per-step durations come from it."""

    at: datetime
    action: str
    actor_id: int | None = None
    from_step: str | None = None
    to_step: str | None = None
    note: str | None = None
    data: dict[str, Any] | None = None
    step_entered_at: datetime | None = None
    step_deadline: datetime | None = None
    step_late: bool | None = None
    unit_id: int | None = None


# The columns of an event, in the order bulk rows give them (after the item's key).
FIELDS = (
    "at",
    "actor_id",
    "action",
    "from_step",
    "to_step",
    "note",
    "data",
    "step_entered_at",
    "step_deadline",
    "step_late",
    "unit_id",
)


class EventLog:
    """A process's events table (its mapped class): `item_column` keys an event to its item, `unit_column` names the
    column for the unit the step belonged to, `fixed` are values every row carries (the process name
    in a table shared by several processes)."""

    def __init__(
        self,
        model: type[Base],
        *,
        item_column: str,
        unit_column: str = "unit_id",
        fixed: Mapping[str, Any] | None = None,
    ) -> None:
        self.table = cast(Table, model.__table__)
        self.item_column = item_column
        self.unit_column = unit_column
        self.fixed = dict(fixed or {})
        self._insert = insert(self.table)

    def _column(self, field: str) -> str:
        if field == "item":
            return self.item_column
        return self.unit_column if field == "unit_id" else field

    def row(self, item_id: int, event: Event) -> dict[str, Any]:
        values = {self._column(f): getattr(event, f) for f in FIELDS}
        return {**self.fixed, self.item_column: item_id, **values}

    def append(self, session: Session, item_id: int, event: Event) -> None:
        # One statement built once, its values bound per call (every row names the same columns).
        session.execute(self._insert, self.row(item_id, event))

    def columns(self) -> list[str]:
        """The column order of `append_rows`: the fixed values, the item, then FIELDS."""
        return [*self.fixed, self.item_column, *(self._column(f) for f in FIELDS)]

    def append_rows(
        self, connection: Connection, rows: Iterable[Sequence[Any]], *, with_ids: bool = False
    ) -> int:
        """Many events at once, straight to the driver (executemany on SQLite, COPY on PostgreSQL). Each
        row is (item id, *FIELDS) — with `with_ids`, (event id, item id, *FIELDS) — values already as
        the driver takes them (`bulk.stored_value`)."""
        fixed = list(self.fixed.values())
        columns = (["id"] if with_ids else []) + self.columns()
        if with_ids:
            shaped: Iterable[Sequence[Any]] = ([r[0], *fixed, *r[1:]] for r in rows)
        else:
            shaped = ([*fixed, *r] for r in rows)
        return insert_rows(connection, self.table.name, columns, shaped)

    def append_select(self, session: Session, columns: Sequence[str], query: Select[Any]) -> None:
        """Events computed in SQL (INSERT … SELECT): `columns` names what `query` yields, in order, as
        FIELDS names ("item" for the item's key); the fixed values are added as literals."""
        names = [self._column(c) for c in columns]
        if self.fixed:
            query = query.add_columns(*(literal(v) for v in self.fixed.values()))
            names += list(self.fixed)
        session.execute(insert(self.table).from_select(names, query))
