"""Errors of the management API as ``application/problem+json`` (RFC 9457).

The visitor's path answers ``{"error", "message"}``; programs calling the
API get problem documents instead: ``type``, ``title``, ``status``,
``detail``, and ``errors`` (one sentence per field) when input is invalid.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import current_app, request
from flask.sansio.app import App
from werkzeug.exceptions import HTTPException, MethodNotAllowed, TooManyRequests

from widget_server.api.schemas.common import Problem as ProblemDocument
from widget_server.services.errors import ServiceError, refusals

PREFIX = "/api/v1"
PROBLEM_TYPE = "application/problem+json"
# Problems that need more than their HTTP status say what they are by type.
INVALID = "urn:widget-server:problem:invalid-input"
CONFLICT = "urn:widget-server:problem:conflict"
UNAUTHENTICATED = "urn:widget-server:problem:unauthenticated"
ACCOUNT_SUSPENDED = "urn:widget-server:problem:account-suspended"

_DETAILS = {
    400: "The request could not be read.",
    401: "Send a valid API key as 'Authorization: Bearer wsk_...'.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request body is too large.",
    415: "Send the request body as application/json.",
    500: "Something went wrong on our side; please try again later.",
}


class Problem(Exception):
    """Raised anywhere in an API request; answered as a problem document."""

    def __init__(self, status: int, detail: str | None = None, *, type_: str = "about:blank",
                 errors: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail or _DETAILS.get(status, ""))
        self.status = status
        self.detail = detail or _DETAILS.get(status) or HTTPStatus(status).phrase
        self.type = type_
        self.errors = errors
        self.headers = headers or {}


def invalid(errors: dict[str, str]) -> Problem:
    return Problem(422, "Some fields are not valid; see errors.", type_=INVALID, errors=errors)


_SERVICE_STATUS = {"conflict": 409, "forbidden": 403, "not_found": 404, "limited": 429}


def service_problem(error: ServiceError | ExceptionGroup):
    """A refusal of the services as a problem: invalid fields 422 (every one), else its status.

    A group holding anything but ``ServiceError`` is a fault, not a refusal: re-raised.
    """
    errors = refusals(error)
    refusal = next((each for each in errors if each.kind != "invalid"), None)
    if refusal is not None:
        return problem_response(Problem(
            _SERVICE_STATUS[refusal.kind], refusal.message,
            type_=CONFLICT if refusal.kind == "conflict" else "about:blank"))
    fields: dict[str, str] = {}
    for each in errors:
        fields.setdefault(each.field or "body", each.message)
    return problem_response(invalid(fields))


def problem_response(problem: Problem):
    body = ProblemDocument(type=problem.type, title=HTTPStatus(problem.status).phrase,
                           status=problem.status, detail=problem.detail,
                           errors=problem.errors or None)
    response = current_app.response_class(body.model_dump_json(exclude_none=True),
                                          status=problem.status, mimetype=PROBLEM_TYPE)
    response.headers.update(problem.headers)
    return response


def in_api() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def from_http_exception(error: HTTPException):
    status = error.code or 500
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem_response(Problem(status, headers=headers))


def install(app: App) -> None:
    """Answer every HTTP error under /api/v1 as a problem, routed or not.

    An unknown path under /api/v1 matches no route of the API blueprint, so
    only the app's own handler sees it; that handler is wrapped here rather
    than edited, and keeps answering everything outside /api/v1.
    """
    handlers = app.error_handler_spec[None][None]
    fallback = handlers.get(HTTPException)

    def http_error(error: HTTPException):
        if in_api() or fallback is None:
            return from_http_exception(error)
        return fallback(error)

    handlers[HTTPException] = http_error
    # The app answers 429 itself (a code-specific handler wins over the
    # HTTPException one): under /api/v1 a burst limit is a problem too.
    by_code = app.error_handler_spec[None].setdefault(429, {})
    rate_limited = by_code.get(TooManyRequests)

    def too_many_requests(error: TooManyRequests):
        if in_api() or rate_limited is None:
            return from_http_exception(error)
        return rate_limited(error)

    by_code[TooManyRequests] = too_many_requests
    app.register_error_handler(Problem, problem_response)
