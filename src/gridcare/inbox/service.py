"""A staff member's messages: what the other domains tell them (a dispatch to their station, a step
about to run late, an urging, an approval to give), read in the workspace's 消息 page, counted in the
header. Any domain writes one with `notify`; the overdue scan writes them set-based."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gridcare.errors import NotFound
from gridcare.models import Notification
from gridcare.models.types import utcnow

# What people read for each kind of message (the inbox's filter).
KIND_NAMES = {
    "dispatched": "派单",
    "warning": "即将超时",
    "breach": "已超时",
    "urged": "催办",
    "approval": "待审批",
    "approval_decided": "审批结果",
}
MAX_MESSAGE = 500


def notify(
    session: Session,
    *,
    user_id: int | None,
    kind: str,
    message: str,
    order_id: int | None = None,
    link: str | None = None,
    now: datetime | None = None,
) -> None:
    """A message to one user (none when there is nobody to tell)."""
    if not user_id:
        return
    session.add(
        Notification(
            user_id=user_id,
            order_id=order_id,
            kind=kind,
            message=message[:MAX_MESSAGE],
            link=link,
            created_at=now or utcnow(),
        )
    )


def target(note: Notification) -> str:
    """Where a message leads: its page, or its work order."""
    if note.link:
        return note.link
    return f"/orders/{note.order_id}" if note.order_id else "/inbox"


def unread_count(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def messages(
    session: Session,
    *,
    user_id: int,
    unread_only: bool = False,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Sequence[Notification]:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return session.scalars(stmt.order_by(Notification.id.desc()).offset(offset).limit(limit)).all()


def mark_read(
    session: Session, *, user_id: int, message_id: int, now: datetime | None = None
) -> Notification:
    """One of the user's own messages (another user's answers like a missing one) is read."""
    note = session.scalar(
        select(Notification).where(Notification.id == message_id, Notification.user_id == user_id)
    )
    if note is None:
        raise NotFound(f"消息 {message_id} 不存在")
    if note.read_at is None:
        note.read_at = now or utcnow()
        session.flush()
    return note


def mark_all_read(session: Session, *, user_id: int, now: datetime | None = None) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return max(getattr(result, "rowcount", 0) or 0, 0)
