"""Delivery channels for outbox messages. Each takes a batch and says, per message, whether it went.

- `sms`: an HTTP SMS gateway. One POST carries up to `HTTP_BATCH` messages as JSON
  (`{"messages": [{"id", "phone", "text"}]}`), signed with HMAC-SHA256 over "timestamp.body" in
  `X-GridCare-Signature` (hex) with `X-GridCare-Timestamp`. The gateway answers 2xx, optionally
  with `{"results": [{"id", "ok", "error"}]}`; anything else fails the whole request.
- `wechat`: template messages through an HTTP endpoint of the official account's platform, same
  transport: `{"messages": [{"id", "touser", "template_id": "outage_notice", "data": {...}}]}`;
  `touser` is the customer's 户号, which the platform maps to the bound WeChat user.
- `email`: SMTP (optionally STARTTLS and login), one connection per batch.
- `file`: JSON lines appended to a file (the demo and a console-like record), fsynced per batch.

The message `id` is the outbox key: a gateway that keeps the ids it has seen drops a repeat, which is
what makes a delivery whose result a crashed worker never recorded safe to send again.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from gridcare.config import Settings
from gridcare.files import private

HTTP_BATCH = 200
HTTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Outgoing:
    id: int
    key: str
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None


class Channel(Protocol):
    name: str

    def send(self, messages: list[Outgoing]) -> dict[str, Outcome]: ...

    def close(self) -> None: ...


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class HttpJsonChannel:
    """POSTs batches of messages as signed JSON over one kept-alive connection."""

    def __init__(self, name: str, url: str, secret: str | None) -> None:
        self.name = name
        self.url = url
        self.secret = secret or ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"渠道 {name} 的地址无效：{url}")
        self._parts = parts
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            kind = (
                http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
            )
            self._conn = kind(self._parts.hostname or "", self._parts.port, timeout=HTTP_TIMEOUT)
        return self._conn

    def payload(self, message: Outgoing) -> dict[str, Any]:
        return {"id": message.key, "phone": message.recipient, "text": message.body}

    def send(self, messages: list[Outgoing]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        for start in range(0, len(messages), HTTP_BATCH):
            outcomes.update(self._post(messages[start : start + HTTP_BATCH]))
        return outcomes

    def _post(self, batch: list[Outgoing]) -> dict[str, Outcome]:
        body = json.dumps({"messages": [self.payload(m) for m in batch]}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GridCare-Timestamp": timestamp,
            "X-GridCare-Signature": sign(self.secret, timestamp, body),
        }
        path = self._parts.path or "/"
        if self._parts.query:
            path += "?" + self._parts.query
        try:
            conn = self._connection()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return {m.key: Outcome(False, f"{self.name} 网关连接失败：{exc}"[:500]) for m in batch}
        if not 200 <= response.status < 300:
            return {m.key: Outcome(False, f"{self.name} 网关返回 HTTP {response.status}") for m in batch}
        results: dict[str, Outcome] = {m.key: Outcome(True) for m in batch}
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {}
        for item in answer.get("results", []) if isinstance(answer, dict) else []:
            key = str(item.get("id", ""))
            if key in results and not item.get("ok", True):
                results[key] = Outcome(False, str(item.get("error") or "网关拒收")[:500])
        return results

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class WeChatChannel(HttpJsonChannel):
    def payload(self, message: Outgoing) -> dict[str, Any]:
        return {
            "id": message.key,
            "touser": message.recipient,
            "template_id": "outage_notice",
            "data": {"first": {"value": message.subject}, "remark": {"value": message.body}},
        }


class SmtpChannel:
    name = "email"

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("未配置 GRIDCARE_SMTP_HOST")
        self.settings = settings

    def send(self, messages: list[Outgoing]) -> dict[str, Outcome]:
        s = self.settings
        try:
            smtp = smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=HTTP_TIMEOUT)
        except OSError as exc:
            return {m.key: Outcome(False, f"邮件服务器连接失败：{exc}"[:500]) for m in messages}
        outcomes: dict[str, Outcome] = {}
        try:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            for m in messages:
                mail = EmailMessage()
                mail["From"] = s.smtp_from
                mail["To"] = m.recipient
                mail["Subject"] = m.subject
                mail["Message-ID"] = f"<{m.key.replace(':', '.')}@gridcare>"
                mail.set_content(m.body)
                try:
                    smtp.send_message(mail)
                    outcomes[m.key] = Outcome(True)
                except smtplib.SMTPException as exc:
                    outcomes[m.key] = Outcome(False, f"邮件发送失败：{exc}"[:500])
        except (OSError, smtplib.SMTPException) as exc:
            for m in messages:
                outcomes.setdefault(m.key, Outcome(False, f"邮件服务器错误：{exc}"[:500]))
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        return outcomes

    def close(self) -> None:
        return None


class FileChannel:
    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, messages: list[Outgoing]) -> dict[str, Outcome]:
        private(self.path)
        lines = "".join(
            json.dumps(
                {"id": m.key, "to": m.recipient, "subject": m.subject, "text": m.body}, ensure_ascii=False
            )
            + "\n"
            for m in messages
        )
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())
        return {m.key: Outcome(True) for m in messages}

    def close(self) -> None:
        return None


def open_channel(name: str, settings: Settings) -> Channel:
    """The channel `name` as configured; a ValueError says what is missing."""
    if name == "sms":
        if not settings.sms_url:
            raise ValueError("未配置短信网关 GRIDCARE_SMS_URL")
        return HttpJsonChannel("sms", settings.sms_url, settings.sms_secret)
    if name == "wechat":
        if not settings.wechat_url:
            raise ValueError("未配置微信模板消息接口 GRIDCARE_WECHAT_URL")
        return WeChatChannel("wechat", settings.wechat_url, settings.wechat_secret)
    if name == "email":
        return SmtpChannel(settings)
    if name == "file":
        return FileChannel(settings.notice_file)
    raise ValueError(f"未知渠道：{name}")
