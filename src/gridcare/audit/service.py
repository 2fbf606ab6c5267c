"""Writing to the append-only audit log: who did what, to which record, when."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from gridcare.models import AuditEntry


class Actor(Protocol):
    """Who acted (a signed-in user's principal; user id 0 is the system)."""

    @property
    def user_id(self) -> int: ...


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: object = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            user_id=actor.user_id if actor and actor.user_id else None,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            detail=detail,
        )
    )
