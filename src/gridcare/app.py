"""The ASGI application: API routers, web pages, and one error handler for every domain error."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridcare import __version__
from gridcare.analytics.api import router as reports_router
from gridcare.auth.api import router as auth_router
from gridcare.catalogs.api import router as catalogs_router
from gridcare.config import Settings, get_settings
from gridcare.customers.api import router as customers_router
from gridcare.db import make_engine, make_session_factory
from gridcare.errors import DomainError, TooManyAttempts
from gridcare.grid.api import router as grid_router
from gridcare.org.api import router as org_router
from gridcare.outages.api import router as outages_router
from gridcare.sla.api import router as sla_router
from gridcare.users.api import router as users_router
from gridcare.web.admin import router as web_admin_router
from gridcare.web.base import STATIC_DIR, LoginRequired, login_url, render
from gridcare.web.intake import router as web_intake_router
from gridcare.web.orders import router as web_orders_router
from gridcare.web.outages import router as web_outages_router
from gridcare.web.pages import router as web_router
from gridcare.web.reports import router as web_reports_router
from gridcare.web.workbench import router as web_workbench_router
from gridcare.workorders.api import router as workorders_router

_HTTP_CODES = {
    401: "authentication_failed",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
}
_HTTP_MESSAGES = {404: "请求的资源不存在", 405: "不支持该请求方法"}


def _error(status: int, code: str, message: str, details: list[Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


_PAGE_TITLES = {
    401: "请先登录",
    403: "没有权限",
    404: "找不到该页面或记录",
    409: "操作冲突",
    422: "输入有误",
    429: "操作过于频繁",
}


def _is_page(request: Request) -> bool:
    """Web pages get HTML errors; the API (and its docs) JSON."""
    return not request.url.path.startswith(("/api/", "/docs", "/openapi", "/static/"))


def _error_page(request: Request, status: int, message: str) -> Response:
    title = _PAGE_TITLES.get(status, "出错了")
    return render(request, "error.html", {"title": title, "detail": message}, status=status)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    target = login_url(exc.next_url)
    if request.headers.get("HX-Request"):  # htmx follows this header with a full page load
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if _is_page(request):
        return _error_page(request, exc.status, exc.message)
    response = _error(exc.status, exc.code, exc.message, exc.details)
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_page(request):
        fields = "、".join(str(e["loc"][-1]) for e in exc.errors())
        return _error_page(request, 422, f"请求参数有误（{fields}），请检查后重试")
    details = [
        {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "reason": err["msg"]}
        for err in exc.errors()
    ]
    first = details[0] if details else {"field": "", "reason": ""}
    return _error(422, "invalid_input", f"输入有误：{first['field']} {first['reason']}", details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_page(request):
        return _error_page(request, exc.status_code, _HTTP_MESSAGES.get(exc.status_code, str(exc.detail)))
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = _HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    return _error(exc.status_code, code, message)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="GridCare 95598 客户服务平台 API",
        version=__version__,
        description="工单、电网拓扑、客户与用户。所有接口（登录除外）需在 Authorization 头中携带 Bearer 令牌。",
    )
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for router in (
        auth_router,
        org_router,
        grid_router,
        customers_router,
        users_router,
        workorders_router,
        catalogs_router,
        sla_router,
        reports_router,
        outages_router,
        web_router,
        web_workbench_router,
        web_intake_router,
        web_orders_router,
        web_admin_router,
        web_reports_router,
        web_outages_router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
