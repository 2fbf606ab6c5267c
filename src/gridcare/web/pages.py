"""Signing in and out, the front door, and the health check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import text

from gridcare.auth.service import authenticate
from gridcare.auth.tokens import issue_token, read_token
from gridcare.errors import AuthenticationFailed, TooManyAttempts
from gridcare.http import SessionDep, SettingsDep
from gridcare.web.base import COOKIE, FormDep, render

router = APIRouter(include_in_schema=False)


def _safe_next(url: str | None) -> str:
    """Only a path on this site (never //host or a scheme)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/workbench"


@router.get("/", response_class=RedirectResponse)
def front_door(request: Request, settings: SettingsDep) -> RedirectResponse:
    token = request.cookies.get(COOKIE)
    if token:
        try:
            read_token(token, secret=settings.resolved_secret_key())
            return RedirectResponse("/workbench", status_code=303)
        except AuthenticationFailed:
            pass
    return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "username": ""})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/workbench",
) -> Response:
    context = {"next": _safe_next(next), "username": username}
    if not username.strip() or not password:
        return render(request, "login.html", {**context, "error": "请输入用户名和密码"}, status=422)
    client_ip = request.client.host if request.client else None
    try:
        user = authenticate(
            session, username=username.strip(), password=password, client_ip=client_ip, settings=settings
        )
    except TooManyAttempts as exc:
        response = render(request, "login.html", {**context, "error": exc.message}, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if user is None:
        session.commit()  # the failure counts towards the limit
        return render(request, "login.html", {**context, "error": "用户名或密码错误"}, status=401)
    token = issue_token(
        user_id=user.id, secret=settings.resolved_secret_key(), minutes=settings.token_minutes
    )
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    redirect.set_cookie(
        COOKIE,
        token,
        max_age=settings.token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return redirect


@router.post("/logout")
def logout(_: FormDep) -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/healthz", response_class=PlainTextResponse)
def healthz(session: SessionDep) -> str:
    session.execute(text("SELECT 1"))
    return "ok"
