"""A webhook receiver on loopback that answers as a test scripts it, and records what came."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.conftest import api, tenants  # noqa: F401  (fixtures)
from tests.conftest import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str
    answer: int | str  # the status sent, or "timeout"

    @property
    def type(self) -> str:
        return json.loads(self.body)["type"]


@dataclass
class Receiver:
    """Answers the scripted ``answers`` in turn (``"timeout"``: too late), then ``then``."""

    url: str
    answers: list = field(default_factory=list)
    then: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 2.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self, path: str | None = None) -> list[Received]:
        return [r for r in self.received if r.answer == 200 and path in (None, r.path)]

    def wait_for(self, count: int, seconds: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + seconds
        while len(self.accepted()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.accepted()


@pytest.fixture
def receiver():
    port = free_port()
    state = Receiver(url=f"http://127.0.0.1:{port}/hooks/calls")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            with state.lock:
                answer = state.answers.pop(0) if state.answers else state.then
                state.received.append(Received(self.path, dict(self.headers.items()), body,
                                               answer))
            if answer == "timeout":
                time.sleep(state.stall)
                answer = 200  # too late: the sender gave up waiting
            try:
                self.send_response(answer)
                for name, value in state.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
