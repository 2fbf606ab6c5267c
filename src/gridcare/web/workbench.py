"""工作台: counts per step in the user's scope and the user's own queue, most urgent first; the open page
asks for them again every few seconds, so work dispatched to a station shows up without a reload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from gridcare.auth.http import SessionDep
from gridcare.auth.principal import Principal
from gridcare.models.enums import Role
from gridcare.models.types import utcnow
from gridcare.outages import approvals
from gridcare.web.base import WebPrincipalDep, load_labels, render
from gridcare.workorders import repository
from gridcare.workorders.defaults import OPEN_STEPS


@dataclass(frozen=True)
class Tile:
    label: str
    steps: tuple[str, ...]
    link: str


TILES = (
    Tile("待派单", ("pending_dispatch",), "/orders?step=pending_dispatch"),
    Tile("待接单", ("pending_accept",), "/orders?step=pending_accept"),
    Tile("处理中", ("pending_contact", "in_progress"), "/orders?step=in_progress"),
    Tile("待审核", ("pending_review",), "/orders?step=pending_review"),
    Tile("待回访", ("pending_callback",), "/callbacks"),
    Tile("待归档", ("pending_archive",), "/orders?step=pending_archive"),
)

# Whose queue holds which steps. Station staff see their own orders and those nobody holds yet.
QUEUES: tuple[tuple[Role, str, tuple[str, ...]], ...] = (
    (Role.agent, "派单、回访与归档", ("pending_dispatch", "pending_callback", "pending_archive")),
    (Role.dispatcher, "派单、审核与归档", ("pending_dispatch", "pending_review", "pending_archive")),
    (Role.station_staff, "接单与处理", ("pending_accept", "pending_contact", "in_progress")),
)

router = APIRouter(include_in_schema=False)
# How often an open workbench asks for its counts and queue (polling: docs/architecture.md, "Live pages").
POLL_SECONDS = 10


def _live(session: Session, principal: Principal) -> dict[str, Any]:
    """What the workbench shows and refreshes: step counts, the user's queue, approvals to give."""
    now = utcnow()
    counts = repository.step_counts(session, principal=principal, now=now)
    tiles = [(t, sum(counts.get(s, (0, 0))[0] for s in t.steps)) for t in TILES]
    overdue = sum(late for _, late in counts.values())
    steps: list[str] = []
    titles: list[str] = []
    for role, title, role_steps in QUEUES:
        if principal.has_any(role):
            titles.append(title)
            steps.extend(s for s in role_steps if s not in steps)
    station_only = principal.has_any(Role.station_staff) and not principal.has_any(
        Role.agent, Role.dispatcher
    )
    if steps:
        orders = repository.queue(
            session,
            principal=principal,
            steps=steps,
            now=now,
            handler_user_id=principal.user_id if station_only else None,
        )
        queue_title = "我的待办：" + "、".join(titles)
    elif principal.has_any(Role.manager, Role.auditor):
        orders = repository.queue(
            session, principal=principal, steps=OPEN_STEPS, now=now, attention_only=True
        )
        queue_title = "需关注：已超时或即将超时的工单"
    else:
        orders = []
        queue_title = ""
    return {
        "tiles": tiles,
        "overdue": overdue,
        "orders": orders,
        "queue_title": queue_title,
        "labels": load_labels(session),
        "approvals": approvals.pending_for(session, principal=principal)
        if principal.has_any(*approvals.APPROVER_ROLES)
        else [],
        "refreshed_at": now,
        "poll_seconds": POLL_SECONDS,
    }


@router.get("/workbench", response_class=HTMLResponse)
def workbench(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    return render(request, "workbench.html", _live(session, principal))


@router.get("/workbench/live", response_class=HTMLResponse)
def workbench_live(request: Request, session: SessionDep, principal: WebPrincipalDep) -> HTMLResponse:
    """The workbench's changing part, polled by the open page: new work shows up without a reload."""
    return render(request, "_workbench_live.html", _live(session, principal))
