"""Structured logs: one JSON object per line, each carrying the request id.

The request id comes from a well-formed incoming ``X-Request-ID`` (a proxy's)
or is made here; it is returned in the response header and stored with the
call, so the worker's lines about that call carry the same id. Every log
record gets ``request_id`` when it is made, whichever handler prints it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,64}")
# The request id of the call a worker is working on (no request context there).
_task_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_id"}


def current_request_id() -> str | None:
    if has_request_context() and "request_id" in g:
        return g.request_id
    return _task_request_id.get()


@contextmanager
def bound_request_id(request_id: str | None):
    """Lines logged inside carry ``request_id`` (a worker's, taken from the stored call)."""
    token = _task_request_id.set(request_id)
    try:
        yield
    finally:
        _task_request_id.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname, "logger": record.name,
                "message": record.getMessage(),
                "request_id": getattr(record, "request_id", None)}
        line |= {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _stamp_records() -> None:
    """Give every record its request id once, at creation (wrapping the factory once)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "stamps_request_id", False):
        return

    def stamped(*args, **kwargs):
        record = factory(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    stamped.stamps_request_id = True  # type: ignore[attr-defined]  # a marker, read above
    logging.setLogRecordFactory(stamped)


def _json_to_stderr() -> None:
    """One JSON handler on the root logger, replaced (not added again) per app."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "widget_server", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.widget_server = True  # type: ignore[attr-defined]  # a marker, read above
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    _stamp_records()
    if app.config["LOG_JSON"]:
        _json_to_stderr()
        app.logger.setLevel(logging.INFO)

    @app.before_request
    def take_request_id():
        given = request.headers.get(HEADER, "")
        g.request_id = given if _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def return_request_id(response):
        if "request_id" in g:
            response.headers[HEADER] = g.request_id
        return response
