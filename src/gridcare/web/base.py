"""What every page shares: the signed-in user from the session cookie, CSRF tokens, the templates
with Beijing-time and label filters, and rendering with the navigation for the user's roles."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from gridcare.analytics.service import REPORT_ROLES
from gridcare.auth.http import SessionDep, SettingsDep, authenticated
from gridcare.auth.principal import Principal
from gridcare.catalogs.service import names_by_kind
from gridcare.errors import AuthenticationFailed, PermissionDenied
from gridcare.models.enums import Role
from gridcare.models.types import utcnow
from gridcare.org.repository import unit_names
from gridcare.templating import templates
from gridcare.workorders.process import PROCESS
from gridcare.workorders.service import CATEGORY_KIND, INTAKE_ROLES
from gridcare.workorders.steps import step_name

COOKIE = "gridcare_session"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """No valid session: the page handler redirects to the login page, then back to `next_url`."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def csrf_token(session_token: str, secret: str) -> str:
    """Bound to the session: a form from another site cannot know it."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()[:40]


def _next_url(request: Request) -> str:
    """Where to come back after signing in: the page itself — for a part of a page that htmx asked for
    (the header's count, the workbench's refresh), the page it sits on, never the bare fragment."""
    if request.headers.get("HX-Request"):
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if current.path.startswith("/") and (not current.netloc or current.netloc == request.url.netloc):
            return f"{current.path}?{current.query}" if current.query else current.path
        return "/workbench"
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url, safe='/')}"


def web_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired(_next_url(request))
    try:
        principal = authenticated(request, session, token, settings)
    except AuthenticationFailed as exc:
        raise LoginRequired(_next_url(request)) from exc
    request.state.principal = principal
    request.state.csrf = csrf_token(token, settings.resolved_secret_key())
    return principal


WebPrincipalDep = Annotated[Principal, Depends(web_principal)]


async def form_data(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The posted form as plain strings, after checking its CSRF token against the session."""
    form = await request.form()
    request.state.raw_form = form  # multi-valued fields (checkbox groups): request.state.raw_form.getlist
    token = request.cookies.get(COOKIE, "")
    sent = str(form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or "")
    if not token or not hmac.compare_digest(sent, csrf_token(token, settings.resolved_secret_key())):
        raise PermissionDenied("页面已过期或来源不明，请刷新页面后重试")
    return {k: str(v).strip() for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}


FormDep = Annotated[dict[str, str], Depends(form_data)]


@dataclass
class Labels:
    """Chinese names of catalogue codes and units, loaded once per page."""

    catalogs: dict[str, dict[str, str]] = field(default_factory=dict)
    units: dict[int, str] = field(default_factory=dict)

    def name(self, kind: str, code: str | None) -> str:
        if not code:
            return ""
        return self.catalogs.get(kind, {}).get(code, code)

    def category(self, business_type: str, code: str | None) -> str:
        kind = CATEGORY_KIND.get(business_type, (None, False))[0]
        return self.name(kind, code) if kind else ""

    def unit(self, unit_id: int | None) -> str:
        return self.units.get(unit_id, "") if unit_id is not None else ""


def load_labels(session: Session) -> Labels:
    return Labels(catalogs=names_by_kind(session), units=unit_names(session))


templates.env.globals["step_name"] = step_name
templates.env.globals["action_name"] = PROCESS.label_of


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    roles: tuple[Role, ...] = ()  # empty: everyone


NAV = (
    NavItem("/workbench", "工作台"),
    NavItem("/intake", "受理", INTAKE_ROLES),
    NavItem("/orders", "工单列表"),
    NavItem("/callbacks", "回访", (Role.agent,)),
    NavItem("/outages", "停电管理"),
    NavItem("/reports", "投诉监测", REPORT_ROLES),
    NavItem("/admin/users", "管理", (Role.admin,)),
)


def render(
    request: Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    principal: Principal | None = getattr(request.state, "principal", None)
    nav = [n for n in NAV if principal and (not n.roles or principal.has_any(*n.roles))]
    base = {
        "principal": principal,
        "csrf": getattr(request.state, "csrf", ""),
        "nav": nav,
        "path": request.url.path,
        "now": utcnow(),
    }
    return templates.TemplateResponse(request, template, {**base, **(context or {})}, status_code=status)
