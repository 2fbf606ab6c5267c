"""/api/v1/notifications: the signed-in user's messages, their unread count, marking them read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import PrincipalDep, SessionDep
from gridcare.inbox import service
from gridcare.params import IdPath

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications 消息"], responses=ERROR_RESPONSES)


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int | None
    kind: str
    message: str
    link: str | None = None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int


@router.get("", response_model=list[NotificationRead], summary="我的消息（预警、超时、催办、派单、审批）")
def my_notifications(
    session: SessionDep,
    principal: PrincipalDep,
    unread_only: bool = False,
    kind: Annotated[
        str | None, Query(max_length=32, description="消息类别，如 warning、breach、urged")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[NotificationRead]:
    rows = service.messages(
        session, user_id=principal.user_id, unread_only=unread_only, kind=kind, offset=offset, limit=limit
    )
    return [NotificationRead.model_validate(n) for n in rows]


@router.get("/unread-count", response_model=UnreadCount, summary="未读消息数")
def unread_count(session: SessionDep, principal: PrincipalDep) -> UnreadCount:
    return UnreadCount(unread=service.unread_count(session, principal.user_id))


@router.post("/{message_id}/read", response_model=NotificationRead, summary="标为已读")
def read_one(message_id: IdPath, session: SessionDep, principal: PrincipalDep) -> NotificationRead:
    note = service.mark_read(session, user_id=principal.user_id, message_id=message_id)
    return NotificationRead.model_validate(note)


@router.post("/read-all", response_model=MarkedRead, summary="全部标为已读")
def read_all(session: SessionDep, principal: PrincipalDep) -> MarkedRead:
    return MarkedRead(marked=service.mark_all_read(session, user_id=principal.user_id))
