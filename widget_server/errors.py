"""Refusals the public endpoints answer with: a code, a sentence, a status.

Every refusal is a ``Refusal`` raised anywhere on the request path; one
handler turns it into ``{"error": code, "message": sentence}`` so no bad input
reaches a 500. Sentences are written in English and translated into the
visitor's language as they are sent (``widget_server.i18n``): a sentence with
variable parts is a ``%(name)s`` template and its ``params``.
"""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from widget_server import metrics
from widget_server.abuse.refusals import count_refusal
from widget_server.extensions import db
from widget_server.i18n import N_, translate

# What a visitor is told when a part we depend on (database, limiter, queue) is down.
UNAVAILABLE = N_("We cannot take requests just now; please try again in a few minutes.")


class Refusal(Exception):
    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None,
                 retry_after: int | None = None, params: dict | None = None):
        self.code = code
        self.template, self.params = message, params or {}
        # In English, for logs and tests; the visitor reads it translated.
        self.message = message % self.params if params else message
        super().__init__(f"{code}: {self.message}")
        if status is not None:
            self.status = status
        self.retry_after = retry_after


def error_response(code: str, message: str, status: int, retry_after: int | None = None,
                   params: dict | None = None):
    """The JSON refusal, its sentence (an English template) in the visitor's language."""
    metrics.REFUSALS.labels(code).inc()
    response = jsonify(error=code, message=translate(message, **(params or {})))
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


_HTTP_CODES = {
    404: ("not_found", N_("There is nothing at this address.")),
    405: ("method_not_allowed", N_("This address does not accept that method.")),
    413: ("body_too_large", N_("The request body is too large.")),
    415: ("unsupported_media_type", N_("Send the request as application/json.")),
    500: ("internal_error", N_("Something went wrong on our side; please try again later.")),
}


def _in_admin() -> bool:
    """People in the admin get pages; unmatched /admin/ addresses have no blueprint."""
    return request.blueprint == "admin" or request.path.startswith("/admin/")


def _admin_page(error: HTTPException):
    return render_template("admin/error.html", error=error), error.code or 400


# No request body of ours nests deeper than a few levels (a widget's opening hours: 4).
MAX_JSON_DEPTH = 32


def _depth(value) -> int:
    """How deeply ``value`` nests lists and objects, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class BoundedJSONProvider(DefaultJSONProvider):
    """Request bodies nested past ``MAX_JSON_DEPTH`` read as invalid JSON (a 400), never a 500.

    The parser itself gives up on a few thousand levels with a RecursionError, which
    is no ValueError, so ``request.get_json`` would let it through as a 500.
    """

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _depth(value) > MAX_JSON_DEPTH:
            raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
        return value


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)

    @app.errorhandler(Refusal)
    def refusal(error: Refusal):
        g.refusal_retry_after = error.retry_after
        count_refusal(error.code)
        return error_response(error.code, error.template, error.status, error.retry_after,
                              params=error.params)

    def keep_refusal_retry_after(response):
        """Restore a cap's Retry-After (seconds to midnight) over Flask-Limiter's rewrite.

        Flask-Limiter re-derives Retry-After on every response from its own clock
        and rounds down, telling a visitor to retry before the cap has reset; it
        also adds one to every rate-limited answer, 202s included, where it
        reads as "slow down". Only a 429, or a refusal that chose a delay, keeps
        one. Inserted first, this hook runs last (after-request hooks run in reverse).
        """
        retry_after = g.get("refusal_retry_after")
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        elif response.status_code != 429:
            response.headers.pop("Retry-After", None)
        return response

    app.after_request_funcs.setdefault(None, []).insert(0, keep_refusal_retry_after)

    @app.errorhandler(429)
    def rate_limited(error):
        if _in_admin():
            return _admin_page(error)
        response = error_response(
            "rate_limited", N_("Too many requests from your address; please wait a moment."), 429
        )
        # Flask-Limiter adds Retry-After and the RateLimit headers afterwards.
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error):
        """A database that is down or locked refuses the request; nothing half-done is kept."""
        app.logger.error("database unavailable: %s", type(error.orig or error).__name__)
        db.session.rollback()
        g.refusal_retry_after = 30
        return error_response("service_unavailable", UNAVAILABLE, 503, retry_after=30)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _in_admin():
            return _admin_page(error)
        code, message = _HTTP_CODES.get(
            error.code or 400, ("bad_request", error.description or "Bad request.")
        )
        return error_response(code, message, error.code or 400)
