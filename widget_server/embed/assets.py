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
from flask import Request, Response

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
    accepted = request.accept_encodings
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


def asset_response(name: str, request: Request) -> Response:
    """``name`` in the best encoding the client accepts, or 304 when it has it already."""
    found = asset(name)
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": f'"{found.etag}"',
               "Vary": "Accept-Encoding", "Access-Control-Allow-Origin": "*"}
    if found.etag in request.if_none_match:
        return Response(status=304, headers=headers)
    coding = best_coding(request)
    if coding != "identity":
        headers["Content-Encoding"] = coding
    return Response(found.bodies[coding], mimetype=found.mimetype, headers=headers)
