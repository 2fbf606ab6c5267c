"""Post/redirect/get for refused forms: what went wrong and what the user typed are kept for a few
minutes under a random token; the browser is sent (303) to the page, which shows them. Reloading
that page shows the same again; it never sends the form a second time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gridcare.errors import DomainError, TooManyAttempts
from gridcare.models import FormFlash
from gridcare.models.types import utcnow

KEEP = timedelta(minutes=10)
PARAM = "f"
# Never kept: secrets and the CSRF token.
_DROPPED = frozenset({"password", "_csrf"})


@dataclass
class Flash:
    error: str
    status: int
    values: dict[str, Any] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)
    retry_after: int | None = None


def _with_param(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in (PARAM, "done")]
    query.append((PARAM, token))
    return urlunsplit(parts._replace(query=urlencode(query)))


def save(session: Session, *, user_id: int | None, flash: Flash) -> str:
    now = utcnow()
    session.execute(delete(FormFlash).where(FormFlash.created_at < now - KEEP))
    token = secrets.token_hex(16)
    session.add(
        FormFlash(
            token=token,
            user_id=user_id,
            created_at=now,
            payload={
                "error": flash.error,
                "status": flash.status,
                "values": {k: v for k, v in flash.values.items() if k not in _DROPPED},
                "details": flash.details,
                "retry_after": flash.retry_after,
            },
        )
    )
    session.flush()
    return token


def refused(
    session: Session,
    *,
    user_id: int | None,
    error: DomainError,
    url: str,
    values: dict[str, Any] | None = None,
) -> RedirectResponse:
    """Discard the request's writes, keep the error and the typed values, and send the browser to `url`."""
    session.rollback()
    flash = Flash(
        error=error.message,
        status=error.status,
        values=dict(values or {}),
        details=list(error.details),
        retry_after=error.retry_after if isinstance(error, TooManyAttempts) else None,
    )
    token = save(session, user_id=user_id, flash=flash)
    return RedirectResponse(_with_param(url, token), status_code=303)


def take(session: Session, request: Request, *, user_id: int | None) -> Flash | None:
    """The flash the page was sent with (only its own user's, and only while fresh)."""
    token = request.query_params.get(PARAM)
    if not token or len(token) != 32:
        return None
    row = session.scalar(
        select(FormFlash).where(FormFlash.token == token, FormFlash.created_at >= utcnow() - KEEP)
    )
    if row is None or row.user_id != user_id:
        return None
    payload = row.payload
    return Flash(
        error=str(payload.get("error", "")),
        status=int(payload.get("status", 400)),
        values=dict(payload.get("values") or {}),
        details=list(payload.get("details") or []),
        retry_after=payload.get("retry_after"),
    )


def purge(session: Session) -> int:
    """Forget refused forms older than KEEP (they may hold what a caller said: not kept longer)."""
    result = session.execute(delete(FormFlash).where(FormFlash.created_at < utcnow() - KEEP))
    return max(getattr(result, "rowcount", 0) or 0, 0)
