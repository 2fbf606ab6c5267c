"""消息 (the inbox page) and the header's unread count, which the page polls (every 10 s): warnings,
breaches, urgings, dispatches and approvals reach staff without a reload."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gridcare.auth.http import SessionDep
from gridcare.inbox import service
from gridcare.params import IdPath
from gridcare.web.base import FormDep, WebPrincipalDep, render

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: SessionDep,
    principal: WebPrincipalDep,
    unread: str = "",
    kind: str = "",
    page: int = 1,
) -> HTMLResponse:
    page = min(max(page, 1), 10_000)
    kind = kind if kind in service.KIND_NAMES else ""
    rows = service.messages(
        session,
        user_id=principal.user_id,
        unread_only=unread == "1",
        kind=kind or None,
        offset=(page - 1) * PAGE,
        limit=PAGE + 1,
    )
    return render(
        request,
        "inbox.html",
        {
            "rows": rows[:PAGE],
            "more": len(rows) > PAGE,
            "page": page,
            "unread_only": unread == "1",
            "kind": kind,
            "kinds": service.KIND_NAMES,
            "unread": service.unread_count(session, principal.user_id),
            "target": service.target,
        },
    )


@router.get("/inbox/badge", response_class=HTMLResponse)
def badge(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    """The header's count (polled by every page)."""
    return render(request, "_inbox_badge.html", {"unread": service.unread_count(session, principal.user_id)})


@router.get("/inbox/{message_id}")
def open_message(message_id: IdPath, session: SessionDep, principal: WebPrincipalDep) -> Response:
    """Following a message marks it read and goes to what it is about."""
    note = service.mark_read(session, user_id=principal.user_id, message_id=message_id)
    return RedirectResponse(service.target(note), status_code=303)


@router.post("/inbox/read-all")
def read_all(session: SessionDep, principal: WebPrincipalDep, form: FormDep) -> Response:
    service.mark_all_read(session, user_id=principal.user_id)
    return RedirectResponse("/inbox", status_code=303)
