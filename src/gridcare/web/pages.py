"""Server-rendered pages (zh-CN). The overview shows what the database holds and where to go next."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select, text

from gridcare import __version__
from gridcare.http import SessionDep
from gridcare.models import Customer, TransformerArea, Unit, User, Village

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep) -> HTMLResponse:
    counts = {
        "县公司": session.scalar(select(func.count()).where(Unit.kind == "county")),
        "供电所": session.scalar(select(func.count()).where(Unit.kind == "station")),
        "村/社区": session.scalar(select(func.count()).select_from(Village)),
        "台区": session.scalar(select(func.count()).select_from(TransformerArea)),
        "客户": session.scalar(select(func.count()).select_from(Customer)),
        "员工账号": session.scalar(select(func.count()).select_from(User)),
    }
    return templates.TemplateResponse(request, "overview.html", {"counts": counts, "version": __version__})


@router.get("/healthz", response_class=PlainTextResponse)
def healthz(session: SessionDep) -> str:
    session.execute(text("SELECT 1"))
    return "ok"
