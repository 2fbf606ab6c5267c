"""ASGI middleware around the whole application: security headers, a request body limit, and an access
log that never records query strings (searches carry phone and ID numbers).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridcare.redact import LONG_DIGITS

access_log = logging.getLogger("gridcare.access")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def _is_api(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return path.startswith(("/api/", "/openapi"))


def security_headers(path: str) -> dict[str, str]:
    """The headers every answer carries (also set by hand on a 500, which leaves outside this middleware)."""
    headers = {"content-security-policy": CONTENT_SECURITY_POLICY}
    headers.update({name.decode(): value.decode() for name, value in SECURITY_HEADERS})
    if not path.startswith("/static/"):
        headers["cache-control"] = "no-store"
    return headers


class SecurityHeaders:
    """CSP (scripts only from this site), no framing, no MIME sniffing, referrers kept on this site;
    pages and API answers are not stored by browsers or proxies (they hold personal data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if not static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


_NUL_MESSAGE = "请求中含有不允许的空字符（NUL）"


def _has_nul(data: bytes) -> bool:
    return b"\x00" in data or b"%00" in data or b"\\u0000" in data


def _has_nul_text(body: bytes, *, multipart: bool) -> bool:
    """NUL in a text body — or, of a multipart form, in its fields (an uploaded file may be binary)."""
    if not multipart:
        return _has_nul(body.lower())
    for part in body.split(b"\r\n--"):
        head, _, value = part.partition(b"\r\n\r\n")
        if b"filename=" not in head.lower() and b"\x00" in value:
            return True
    return False


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, and NUL characters anywhere in the request
    with 422 (no text field may hold one: PostgreSQL cannot store it, SQLite's full-text search cannot
    read it). Both answers are given here, before the application parses anything.

    Text bodies (JSON, forms, multipart forms, CSV) are read whole first — they are limited in size —
    and checked (a multipart form's fields, not its files); other bodies stream through, counted, and
    are cut off with 413 when they grow too large."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, self._message(), 413, "payload_too_large")
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        if _has_nul(scope.get("query_string", b"").lower()) or _has_nul(raw_path.lower()):
            await _refuse(scope, send, _NUL_MESSAGE, 422, "invalid_input")
            return
        kind = headers.get(b"content-type", b"").lower()
        media = kind.split(b";")[0].strip()
        if media.startswith((b"application/x-www-form-urlencoded", b"text/", b"multipart/form-data")) or (
            media == b"application/json" or media.endswith(b"+json")
        ):
            await self._whole(scope, receive, send, multipart=media == b"multipart/form-data")
        else:
            await self._streamed(scope, receive, send)

    async def _whole(self, scope: Scope, receive: Receive, send: Send, *, multipart: bool) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await _refuse(scope, send, self._message(), 413, "payload_too_large")
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = b"".join(chunks)
        if _has_nul_text(whole, multipart=multipart):
            await _refuse(scope, send, _NUL_MESSAGE, 422, "invalid_input")
            return
        await self.app(scope, _replay([{"type": "http.request", "body": whole, "more_body": False}]), send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0
        cut = False

        async def counted() -> Message:
            nonlocal seen, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    cut = True
                    await _refuse(scope, send, self._message(), 413, "payload_too_large")
                    return {"type": "http.disconnect"}
            return message

        async def unless_cut(message: Message) -> None:
            if not cut:  # the 413 has been sent: whatever the application answers is dropped
                await send(message)

        await self.app(scope, counted, unless_cut)

    def _message(self) -> str:
        return f"请求内容过大（上限 {self.max_bytes // 1024} KB）"


def _replay(messages: list[Message]) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        return {"type": "http.disconnect"}

    return receive


async def _refuse(scope: Scope, send: Send, message: str, status: int, code: str) -> None:
    if _is_api(scope):
        body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
        kind = b"application/json"
    else:
        body = (
            '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>请求有误</title>'
            f"<h1>请求有误</h1><p>{message}</p></html>"
        ).encode()
        kind = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AccessLog:
    """One line per request: method, path (without its query string; long digit runs masked),
    status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s %.1fms",
                    scope.get("method", ""),
                    LONG_DIGITS.sub(lambda m: "*" * len(m.group()), scope.get("path", "")),
                    status["code"],
                    (time.perf_counter() - started) * 1000,
                )
