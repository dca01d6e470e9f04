"""A loopback server speaking hCaptcha's and Cloudflare Turnstile's siteverify protocol.

Both vendors take a form-encoded POST (``secret``, ``response``, ``remoteip``,
and ``sitekey`` for hCaptcha) and answer JSON ``{"success", "hostname",
"challenge_ts", "error-codes"}``. The fake issues tokens for a hostname,
answers each once (like the vendors), and records every request so a test
can see what our server sent. ``mode`` makes it fail the ways a vendor can:
``"error"`` (HTTP 500), ``"hang"`` (no answer until stopped), ``"garbage"``
(a 200 that is not JSON).
"""

from __future__ import annotations

import json
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest


@dataclass
class SiteverifyServer:
    secret: str
    url: str = ""
    mode: str = "normal"
    # True: a token may be verified again (to test our own single-use store).
    accept_repeats: bool = False
    requests: list[dict[str, str]] = field(default_factory=list)
    _issued: dict[str, str] = field(default_factory=dict)
    _spent: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def issue(self, hostname: str) -> str:
        """A token as the vendor's widget would hand the browser on ``hostname``."""
        token = "P1_" + secrets.token_urlsafe(48)
        with self._lock:
            self._issued[token] = hostname
        return token

    def answer(self, form: dict[str, str]) -> dict:
        with self._lock:
            self.requests.append(form)
            if form.get("secret") != self.secret:
                return {"success": False, "error-codes": ["invalid-input-secret"]}
            token = form.get("response", "")
            if not token:
                return {"success": False, "error-codes": ["missing-input-response"]}
            if token not in self._issued:
                return {"success": False, "error-codes": ["invalid-input-response"]}
            if token in self._spent and not self.accept_repeats:
                return {"success": False, "error-codes": ["timeout-or-duplicate"]}
            self._spent.add(token)
            return {
                "success": True,
                "hostname": self._issued[token],
                "challenge_ts": datetime.now(UTC).isoformat(timespec="seconds"),
                "error-codes": [],
            }


def _handler(fake: SiteverifyServer):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {key: values[-1] for key, values in parse_qs(raw).items()}
            if fake.mode == "hang":
                fake.requests.append(form)
                fake._stopping.wait()
                return
            if fake.mode == "error":
                fake.requests.append(form)
                self._send(500, b"internal error", "text/plain")
                return
            if fake.mode == "garbage":
                fake.requests.append(form)
                self._send(200, b"<html>not json</html>", "text/html")
                return
            self._send(200, json.dumps(fake.answer(form)).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return Handler


@contextmanager
def running_siteverify():
    """A fake siteverify on 127.0.0.1 with secret ``fake-secret-…``, stopped on exit."""
    fake = SiteverifyServer(secret="fake-secret-" + secrets.token_hex(16))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/siteverify"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def siteverify():
    with running_siteverify() as fake:
        yield fake
