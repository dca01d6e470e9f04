"""A loopback HTTP server for provider fakes: real sockets, a handler per test.

``FakeHttpServer(handle)`` serves on 127.0.0.1 (an ephemeral port) in a
thread; ``handle(request)`` gets a ``Request`` (method, path, query, form,
headers, body) and returns ``(status, headers, body)``. Every request is
recorded in ``server.requests`` so tests can assert exactly what was sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    body: bytes
    # Parameters from the query and a form body together, as PHP's $_REQUEST.
    params: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], tuple[int, dict, bytes | str]]


def _single(values: dict[str, list[str]]) -> dict[str, str]:
    return {key: items[-1] for key, items in values.items()}


class FakeHttpServer:
    def __init__(self, handle: Handler):
        self.handle = handle
        self.requests: list[Request] = []
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = _single(parse_qs(parts.query, keep_blank_values=True))
                form = {}
                if "application/x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
                    form = _single(parse_qs(body.decode(), keep_blank_values=True))
                request = Request(self.command, parts.path, query, form,
                                  dict(self.headers.items()), body, {**query, **form})
                fake.requests.append(request)
                try:
                    status, headers, payload = fake.handle(request)
                except ConnectionAbortedError:
                    self.close_connection = True
                    return
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeHttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
