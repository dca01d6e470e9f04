"""The widget's static files, compressed once and answered from memory.

Every page view of every embedding site fetches the loader (and the frame its
script and styles), so these answers are the volume: each file is read,
trimmed, gzipped and brotlied once per process and per change of the file,
and a request only picks the encoding its ``Accept-Encoding`` allows. The
strong ETag is the digest of the file as sent (the same for every encoding,
since the content is the same); ``If-None-Match`` answers 304. The answers are
``public``: a CDN or a caching proxy may keep them (README's nginx recipe).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import brotli
from flask import Request
from werkzeug.http import parse_accept_header, parse_etags

from widget_server import metrics

ASSETS = Path(__file__).resolve().parents[2] / "embed"
_TYPES = {"loader.js": "text/javascript", "frame.js": "text/javascript",
          "frame.css": "text/css", "loader.css": "text/css"}
CACHE_CONTROL = "public, max-age=86400, stale-while-revalidate=604800"


def compact_script(source: bytes) -> bytes:
    """The loader as sent: indentation and whole-line ``//`` comments dropped, so its
    source keeps its comments and it stays under 2,000 bytes gzipped. The loader has no
    multi-line string or template literal whose lines this could change."""
    lines = (line.strip() for line in source.decode().splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")).encode()


@dataclass(frozen=True)
class Asset:
    mimetype: str
    etag: str
    # Body by content coding: "identity", "gzip", "br".
    bodies: dict[str, bytes]
    modified: float

    @classmethod
    def read(cls, name: str) -> Asset:
        path = ASSETS / name
        modified = path.stat().st_mtime
        body = path.read_bytes()
        if name == "loader.js":
            body = compact_script(body)
        return cls(mimetype=_TYPES[name], etag=hashlib.sha256(body).hexdigest()[:32],
                   bodies=encodings(body), modified=modified)


def encodings(body: bytes) -> dict[str, bytes]:
    """``body`` in each content coding we send, compressed once for many answers."""
    return {"identity": body, "gzip": gzip.compress(body, 9, mtime=0),
            "br": brotli.compress(body, quality=11)}


def best_coding(request: Request) -> str:
    """The content coding to answer ``request`` in: br, else gzip, else none."""
    return preferred_coding(request.accept_encodings)


def preferred_coding(accepted) -> str:
    """Of an ``Accept-Encoding`` as werkzeug parses it: br, else gzip, else none."""
    for coding in ("br", "gzip"):
        if accepted[coding]:
            return coding
    return "identity"


_loaded: dict[str, Asset] = {}
_lock = threading.Lock()


def asset(name: str) -> Asset:
    """The file ``name`` of ``embed/``, read again only when it changed on disk."""
    current = _loaded.get(name)
    if current is None or (ASSETS / name).stat().st_mtime != current.modified:
        with _lock:
            current = _loaded[name] = Asset.read(name)
    return current


# The files every page view asks for, by path: answered before Flask (AssetServer).
SERVED = {"/embed/v1/loader.js": ("loader.js", "embed.loader"),
          "/embed/v1/loader.css": ("loader.css", "embed.loader_style"),
          "/embed/v1/frame.js": ("frame.js", "embed.frame_script"),
          "/embed/v1/frame.css": ("frame.css", "embed.frame_style")}


class AssetServer:
    """WSGI middleware answering the widget's static files from memory, before Flask.

    These are most of the requests an installation gets, and the answer is a few
    dictionary lookups: Flask's request context, its thirteen hooks and the
    limiter's walk cost more than the answer (benchmarks/README.md). The answer
    is public and the same for everyone: a strong ETag, 304s, the best encoding
    the client accepts. The blueprint only builds these URLs (embed/views.py);
    of what Flask's hooks add, these answers need the request count in the
    metrics, done here.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        served = SERVED.get(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD")
        if served is None or method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        name, endpoint = served
        found = asset(name)
        headers = [("Cache-Control", CACHE_CONTROL), ("ETag", f'"{found.etag}"'),
                   ("Vary", "Accept-Encoding"), ("Access-Control-Allow-Origin", "*")]
        if found.etag in parse_etags(environ.get("HTTP_IF_NONE_MATCH")):
            status, body = "304 NOT MODIFIED", b""
        else:
            coding = preferred_coding(parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING")))
            if coding != "identity":
                headers.append(("Content-Encoding", coding))
            body = found.bodies[coding]
            status = "200 OK"
            headers += [("Content-Type", f"{found.mimetype}; charset=utf-8"),
                        ("Content-Length", str(len(body)))]
        metrics.REQUESTS.labels(endpoint, method, status[:3]).inc()
        start_response(status, headers)
        return [] if method == "HEAD" else [body]
