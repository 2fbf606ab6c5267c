"""Who is acting: the user, their unit's scope and their roles; what they may see unmasked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import InstrumentedAttribute

from gridcare.errors import PermissionDenied
from gridcare.models import Unit
from gridcare.models.enums import LABELS_ZH, Role

# Roles that contact customers and so need their phone numbers in clear.
PHONE_ROLES = frozenset({Role.agent, Role.dispatcher, Role.station_staff})
# Roles that accept business with an ID document ("一证受理") and so see ID numbers in clear.
ID_NUMBER_ROLES = frozenset({Role.agent, Role.station_staff})


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    unit_id: int
    unit_path: str
    roles: frozenset[str]
    display_name: str = ""
    # The user's unit is the one root of the unit tree: every record is in scope, no filter needed.
    covers_all: bool = False
    # The units at or below the user's unit, read at sign-in (a literal list plans better than a subquery).
    scope_unit_ids: tuple[int, ...] = ()
    # The signed-in session the request came with (None for the system and for tests' principals).
    session_id: str | None = None

    def has_any(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    def require(self, *roles: Role, action: str = "此操作") -> None:
        if not self.has_any(*roles):
            names = "、".join(LABELS_ZH[r] for r in roles)
            raise PermissionDenied(f"{action}需要以下角色之一：{names}")

    @property
    def sees_phones(self) -> bool:
        return self.has_any(*PHONE_ROLES)

    @property
    def sees_id_numbers(self) -> bool:
        return self.has_any(*ID_NUMBER_ROLES)

    def unit_ids_in_scope(self) -> Select[int]:
        """Subquery of every unit at or below the user's unit (a station sees itself only)."""
        return select(Unit.id).where(Unit.path.startswith(self.unit_path, autoescape=True))

    def in_scope(self, unit_column: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[bool]:
        """`unit_column` (a station or unit id) lies in the user's subtree. For a user at the single root
        this is no condition at all, which lets the planner use the query's other indexes."""
        if self.covers_all:
            return true()
        if len(self.scope_unit_ids) == 1:
            return unit_column == self.scope_unit_ids[0]
        if self.scope_unit_ids:
            return unit_column.in_(self.scope_unit_ids)
        return unit_column.in_(self.unit_ids_in_scope())

    def in_scope_id(self, unit_id: int) -> bool:
        """The unit (a row's station) is in the user's subtree: checked on a row already read."""
        return self.covers_all or unit_id in self.scope_unit_ids

    def covers_path(self, path: str) -> bool:
        return path.startswith(self.unit_path)


SYSTEM = Principal(
    user_id=0, username="system", unit_id=0, unit_path="/", roles=frozenset(Role), covers_all=True
)
