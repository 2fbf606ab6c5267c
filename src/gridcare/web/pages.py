"""Signing in and out, the front door, and the health check.

The sign-in form carries a CSRF token too: a random value in a short-lived cookie, and its signature
in the form, so another site cannot sign a browser in under an account of its choosing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import text

from gridcare.auth.http import FactoryDep, SessionDep, SettingsDep, client_address
from gridcare.auth.service import sign_in, sign_out
from gridcare.auth.tokens import device_mark, device_user, issue_token, read_token
from gridcare.errors import AuthenticationFailed, DomainError, InvalidInput
from gridcare.web import flash
from gridcare.web.base import COOKIE, FormDep, WebPrincipalDep, render

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "gridcare_login"
DEVICE_COOKIE = "gridcare_device"


def _safe_next(url: str | None) -> str:
    """Only a path on this site (never //host or a scheme)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/workbench"


def _login_csrf(nonce: str, secret: str) -> str:
    return hmac.new(secret.encode(), b"login:" + nonce.encode(), hashlib.sha256).hexdigest()[:40]


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
def login_page(
    request: Request, session: SessionDep, settings: SettingsDep, next: str | None = None
) -> HTMLResponse:
    nonce = request.cookies.get(LOGIN_COOKIE) or ""
    fresh = len(nonce) != 32
    if fresh:
        nonce = secrets.token_hex(16)
    refused = flash.take(session, request, user_id=None)
    error = refused.error if refused else None
    status = refused.status if refused else 200
    if refused is None and request.query_params.get("expired"):
        error, status = "登录页面已过期，请重新输入用户名和密码", 403
    response = render(
        request,
        "login.html",
        {
            "next": _safe_next(next),
            "username": (refused.values.get("username", "") if refused else ""),
            "login_csrf": _login_csrf(nonce, settings.resolved_secret_key()),
            "error": error,
        },
        status=status,
    )
    if refused and refused.retry_after:
        response.headers["Retry-After"] = str(refused.retry_after)
    if fresh:
        response.set_cookie(
            LOGIN_COOKIE,
            nonce,
            max_age=12 * 3600,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    factory: FactoryDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/workbench",
    csrf: Annotated[str, Form(alias="_csrf")] = "",
) -> Response:
    target = _safe_next(next)
    back = "/login?" + urlencode({"next": target})
    secret = settings.resolved_secret_key()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(csrf, _login_csrf(nonce, secret)):
        # Nothing is stored for a form that did not come from this site's page.
        return RedirectResponse(back + "&expired=1", status_code=303)
    try:
        if not username.strip() or not password:
            raise InvalidInput("请输入用户名和密码")
        signed = sign_in(
            factory,
            username=username,
            password=password,
            client_ip=client_address(request),
            settings=settings,
            kind="web",
            device_user_id=device_user(request.cookies.get(DEVICE_COOKIE), secret=secret),
        )
    except DomainError as exc:
        return flash.refused(session, user_id=None, error=exc, url=back, values={"username": username[:64]})
    token = issue_token(
        user_id=signed.user.id, session_id=signed.session_id, secret=secret, minutes=settings.token_minutes
    )
    redirect = RedirectResponse(target, status_code=303)
    secure = request.url.scheme == "https"
    redirect.set_cookie(
        COOKIE, token, max_age=settings.token_minutes * 60, httponly=True, samesite="lax", secure=secure
    )
    redirect.set_cookie(
        DEVICE_COOKIE,
        device_mark(user_id=signed.user.id, secret=secret, days=settings.login_trusted_days),
        max_age=settings.login_trusted_days * 86400,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return redirect


@router.post("/logout")
def logout(_: FormDep, session: SessionDep, principal: WebPrincipalDep) -> RedirectResponse:
    """Ends the session itself: the old cookie no longer signs anyone in."""
    sign_out(session, principal=principal)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/healthz", response_class=PlainTextResponse)
def healthz(session: SessionDep) -> str:
    session.execute(text("SELECT 1"))
    return "ok"
