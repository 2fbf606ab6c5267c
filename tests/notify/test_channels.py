"""The WeChat template channel and SMTP, each against a local server."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy

from gridcare.config import Settings
from gridcare.notify.channels import Outgoing, SmtpChannel, WeChatChannel
from tests.notify.sink import running_sink

MESSAGE = Outgoing(
    1, "o1:announce:0:x:c1", "", "计划停电通知", "【供电公司】东山村12月11日09:00至17:00停电。95598"
)


def test_wechat_template_messages_are_signed_batches() -> None:
    with running_sink() as sink:
        channel = WeChatChannel("wechat", sink.url.replace("/sms/send", "/wechat/template"), "sink-secret")
        outcome = channel.send([Outgoing(1, "k1", "330100000777", MESSAGE.subject, MESSAGE.body)])
        channel.close()
    assert set(outcome) == {"k1"}
    assert outcome["k1"].ok
    sent = sink.delivered["k1"]
    assert sent["touser"] == "330100000777"
    assert sent["template_id"] == "outage_notice"
    assert sent["data"]["remark"]["value"] == MESSAGE.body
    assert sink.bad_signatures == 0


@contextmanager
def smtp_sink() -> Iterator[tuple[int, list[bytes]]]:
    """Just enough SMTP to take mail: HELO/EHLO, MAIL, RCPT, DATA, QUIT."""
    received: list[bytes] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 sink ready\r\n")
            while line := self.rfile.readline():
                verb = line.strip().split(b" ")[0].upper()
                if verb == b"DATA":
                    self.wfile.write(b"354 go on\r\n")
                    body = b""
                    while (part := self.rfile.readline()) not in (b".\r\n", b""):
                        body += part
                    received.append(body)
                    self.wfile.write(b"250 queued\r\n")
                elif verb == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


def test_smtp_sends_each_message_as_utf8_mail() -> None:
    with smtp_sink() as (port, received):
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="notice@gridcare.example")
        outcome = SmtpChannel(settings).send(
            [
                Outgoing(
                    1,
                    "o1:announce:0:liaison:v3",
                    "liaison@example.cn",
                    "东山村计划停电通知（村所对接）",
                    MESSAGE.body,
                )
            ]
        )
    assert outcome["o1:announce:0:liaison:v3"].ok
    assert len(received) == 1
    mail = message_from_bytes(received[0], policy=policy.default)
    assert mail["To"] == "liaison@example.cn"
    assert mail["Subject"] == "东山村计划停电通知（村所对接）"
    assert MESSAGE.body in mail.get_content()


def test_an_unreachable_smtp_server_fails_every_message() -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=1)
    outcome = SmtpChannel(settings).send([MESSAGE])
    assert not outcome[MESSAGE.key].ok
    assert "邮件服务器连接失败" in (outcome[MESSAGE.key].error or "")
