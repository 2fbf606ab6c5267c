"""The ASGI application: API routers, web pages, one error handler for every domain error, and the
middleware every request passes (security headers, body limit, an access log without query strings).

Every error reaches the client as the JSON error (API) or the Chinese error page (pages): domain
errors with their status, validation errors as 422 naming the field, a value the database cannot hold
as 422, a concurrent change as 409, and anything unexpected as 500 — never a plain-text traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridcare import __version__, wiring
from gridcare.analytics.api import router as reports_router
from gridcare.auth.api import router as auth_router
from gridcare.catalogs.api import router as catalogs_router
from gridcare.config import Settings, get_settings
from gridcare.customers.api import router as customers_router
from gridcare.db import make_engine, make_session_factory
from gridcare.errors import DomainError, TooManyAttempts
from gridcare.grid.api import router as grid_router
from gridcare.inbox.api import router as inbox_router
from gridcare.middleware import AccessLog, BodyLimit, SecurityHeaders, security_headers
from gridcare.org.api import router as org_router
from gridcare.outages.api import router as outages_router
from gridcare.ratelimit import RateLimiter
from gridcare.sla.api import router as sla_router
from gridcare.templating import STATIC_DIR, templates
from gridcare.users.api import router as users_router
from gridcare.validation import field_path, reason_zh
from gridcare.web.admin import router as web_admin_router
from gridcare.web.base import LoginRequired, login_url, render
from gridcare.web.inbox import router as web_inbox_router
from gridcare.web.intake import router as web_intake_router
from gridcare.web.orders import router as web_orders_router
from gridcare.web.outages import router as web_outages_router
from gridcare.web.pages import router as web_router
from gridcare.web.reports import router as web_reports_router
from gridcare.web.workbench import router as web_workbench_router
from gridcare.workorders.api import router as workorders_router

log = logging.getLogger("gridcare.errors")

_HTTP_CODES = {
    401: "authentication_failed",
    403: "permission_denied",
    404: "not_found",
    400: "bad_request",
    405: "method_not_allowed",
    413: "payload_too_large",
}
_HTTP_MESSAGES = {
    400: "请求格式有误",
    401: "请先登录",
    403: "没有权限",
    404: "请求的资源不存在",
    405: "不支持该请求方法",
    413: "请求内容过大",
    415: "不支持的内容类型",
}


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
    413: "请求内容过大",
    422: "输入有误",
    429: "操作过于频繁",
    500: "服务器内部错误",
    503: "服务繁忙",
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
        response = _error_page(request, exc.status, exc.message)
    else:
        response = _error(exc.status, exc.code, exc.message, exc.details)
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [{"field": field_path(err), "reason": reason_zh(err)} for err in exc.errors()]
    text = "；".join(f"{d['field']}：{d['reason']}" if d["field"] else d["reason"] for d in details[:5])
    if _is_page(request):
        return _error_page(request, 422, f"请求参数有误（{text}），请检查后重试")
    return _error(422, "invalid_input", f"输入有误：{text}", details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = _HTTP_MESSAGES.get(exc.status_code, "请求无法处理")
    if _is_page(request):
        response = _error_page(request, exc.status_code, message)
    else:
        response = _error(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), message)
    for name, value in (exc.headers or {}).items():  # e.g. Allow on 405
        response.headers[name] = value
    return response


async def _out_of_range(request: Request, exc: Exception) -> Response:
    """A number or time the database cannot hold (a bound a parameter type missed)."""
    log.warning("value out of range: %s at %s", type(exc).__name__, request.url.path)
    message = "输入的数值或时间超出允许范围"
    if _is_page(request):
        return _error_page(request, 422, message)
    return _error(422, "invalid_input", message)


async def _concurrent_change(request: Request, exc: Exception) -> Response:
    """Someone else's change won (a version check at write time, or a unique key taken meanwhile)."""
    log.warning("conflict: %s at %s", type(exc).__name__, request.url.path)
    message = "数据已被他人修改或已提交过，请刷新后重试"
    if _is_page(request):
        return _error_page(request, 409, message)
    return _error(409, "conflict", message)


async def _unexpected(request: Request, exc: Exception) -> Response:
    """Anything else: logged (without request data), answered as a 500 in the usual shape."""
    log.error("unexpected %s at %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    message = "服务器内部错误，请稍后重试；如多次出现请联系系统管理员"
    response = (
        _error_page(request, 500, message) if _is_page(request) else _error(500, "internal_error", message)
    )
    response.headers.update(security_headers(request.url.path))  # a 500 leaves outside SecurityHeaders
    return response


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    wiring.load()
    settings.resolved_secret_key()  # a missing or weak key stops the start, not every request
    # uvicorn's own access log writes query strings (searches carry phone numbers): GridCare keeps its
    # own (AccessLog), also when the app is served by `uvicorn gridcare.asgi:app` directly.
    logging.getLogger("uvicorn.access").disabled = True
    app = FastAPI(
        title="GridCare 95598 客户服务平台 API",
        version=__version__,
        description="工单、电网拓扑、客户与用户。所有接口（登录除外）需在 Authorization 头中携带 Bearer 令牌。",
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.rate_limiter = RateLimiter(settings.api_rate_per_minute, settings.api_rate_burst)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(StaleDataError, _concurrent_change)
    app.add_exception_handler(IntegrityError, _concurrent_change)
    app.add_exception_handler(Exception, _unexpected)

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Swagger UI from the package's own copy (no CDN)."""
        return HTMLResponse(templates.env.get_template("api_docs.html").render())

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
        inbox_router,
        web_inbox_router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    return app
