"""A local HTTP gateway for tests: checks the signature, answers per message, remembers each id it
delivered (a repeat is acknowledged, not delivered again, as a gateway keyed by message id does)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gridcare.notify.channels import sign

SINK_SECRET = "sink-secret"  # a test gateway's signing secret


class Sink:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.delivered: dict[str, dict[str, Any]] = {}
        self.received: Counter[str] = Counter()  # every id seen, repeats included
        self.requests = 0
        self.fail_next = 0  # answer HTTP 500 to this many requests
        self.reject: set[str] = set()  # ids answered ok=false
        self.delay = 0.0
        self.bad_signatures = 0
        self.url = ""

    def handle(self, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        expected = sign(self.secret, headers.get("X-GridCare-Timestamp", ""), body)
        if headers.get("X-GridCare-Signature") != expected:
            with self.lock:
                self.bad_signatures += 1
            return 401, {"error": "bad signature"}
        if self.delay:
            time.sleep(self.delay)
        messages = json.loads(body)["messages"]
        with self.lock:
            self.requests += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, {"error": "try later"}
            results = []
            for m in messages:
                self.received[m["id"]] += 1
                if m["id"] in self.reject:
                    results.append({"id": m["id"], "ok": False, "error": "号码停机"})
                    continue
                self.delivered.setdefault(m["id"], m)
                results.append({"id": m["id"], "ok": True})
        return 200, {"results": results}


@contextmanager
def running_sink(secret: str = SINK_SECRET) -> Iterator[Sink]:
    sink = Sink(secret)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            status, answer = sink.handle(self.headers, self.rfile.read(length))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
