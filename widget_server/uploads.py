"""Views that take a larger body than ``MAX_CONTENT_LENGTH`` (16 KB) say so with ``@takes_upload``.

The limit must be raised before anything reads the body, and CSRF protection
reads the form in a ``before_request`` hook; URL value preprocessors run
before those hooks, so the limit is set there, for the marked view only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request

V = TypeVar("V", bound=Callable)


def takes_upload(max_bytes: int) -> Callable[[V], V]:
    """Let the decorated view read a request body of up to ``max_bytes`` (else 413).

    Put it right under the route decorator, so it marks the function the route calls.
    """

    def mark(view: V) -> V:
        view.max_content_length = max_bytes  # type: ignore[attr-defined]
        return view

    return mark


def _raise_limit(endpoint: str | None, _values: dict | None) -> None:
    view = current_app.view_functions.get(endpoint or "")
    limit = getattr(view, "max_content_length", None)
    if limit is not None:
        request.max_content_length = limit


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_raise_limit)
