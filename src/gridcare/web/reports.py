"""报表 (投诉监测): the monitoring report as a workspace page, with the same filters as the API and
downloads of the same document as HTML, Excel, PDF and JSON."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gridcare.analytics import render as files
from gridcare.analytics.service import REPORT_ROLES, monitoring_report
from gridcare.audit.service import record
from gridcare.auth.http import SessionDep, SettingsDep
from gridcare.calendar import BEIJING
from gridcare.errors import DomainError, InvalidInput, ServiceBusy
from gridcare.models.types import utcnow
from gridcare.org.repository import list_units
from gridcare.web.base import WebPrincipalDep, render
from gridcare.web.forms import optional_date

router = APIRouter(include_in_schema=False)

# The single-file HTML report embeds ECharts, its script and its data: inline only, nothing fetched.
STANDALONE_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
}


def last_month() -> tuple[date, date]:
    """The default period: the last whole month (the monthly bulletin's period)."""
    today = utcnow().astimezone(BEIJING).date()
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _params(request: Request) -> tuple[date, date, str | None, dict[str, str]]:
    query = request.query_params
    default_start, default_end = last_month()
    start = optional_date(query.get("from"), "起始日期") or default_start
    end = optional_date(query.get("to"), "截止日期") or default_end
    unit = query.get("unit") or None
    values = {"from": start.isoformat(), "to": end.isoformat(), "unit": unit or ""}
    return start, end, unit, values


@router.get("/reports", response_class=HTMLResponse)
def monitoring_page(
    request: Request, session: SessionDep, settings: SettingsDep, principal: WebPrincipalDep
) -> HTMLResponse:
    principal.require(*REPORT_ROLES, action="查看监测报表")
    start, end, unit, values = _params(request)
    error = None
    document = None
    try:
        document = monitoring_report(
            session, principal=principal, settings=settings, start=start, end=end, unit=unit
        )
    except InvalidInput as exc:
        error = exc.message
    query = urlencode({k: v for k, v in values.items() if v})
    return render(
        request,
        "reports.html",
        {
            "r": document,
            "values": values,
            "units": list_units(session, principal=principal),
            "downloads": {
                fmt: f"/reports/monitoring.{fmt}?{query}" for fmt in ("xlsx", "pdf", "html", "json")
            },
            "error": error,
        },
    )


@router.get("/reports/monitoring.{fmt}")
def monitoring_file(
    fmt: str, request: Request, session: SessionDep, settings: SettingsDep, principal: WebPrincipalDep
) -> Response:
    if fmt not in MEDIA_TYPES:
        raise InvalidInput(f"不支持的格式 {fmt}：可选 {'、'.join(MEDIA_TYPES)}")
    start, end, unit, _ = _params(request)
    document = monitoring_report(
        session, principal=principal, settings=settings, start=start, end=end, unit=unit
    )
    try:
        content = files.render_bytes(
            document, fmt, pdf_slots=settings.pdf_concurrency, pdf_wait_seconds=settings.pdf_wait_seconds
        )
    except files.PrinterBusy as exc:
        raise ServiceBusy(str(exc), retry_after=30) from exc
    except files.RenderError as exc:
        raise DomainError(str(exc)) from exc
    record(
        session,
        actor=principal,
        action="export",
        entity="report",
        detail={"report": "monitoring", "format": fmt, "from": str(start), "to": str(end), "unit": unit},
    )
    name = f"投诉监测通报_{document['unit']['name']}_{start}_{end}.{fmt}"
    disposition = "inline" if fmt in ("html", "json") else "attachment"
    headers = {"Content-Disposition": f"{disposition}; filename=report.{fmt}; filename*=UTF-8''{quote(name)}"}
    if fmt == "html":  # a standalone page: its charts and data are inline, nothing else may load
        headers["Content-Security-Policy"] = STANDALONE_CSP
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)
