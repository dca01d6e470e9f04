"""Reading API input: JSON bodies field by field, query filters, pagination.

Every value is checked for type, range and length before it reaches the
database, so odd input (a NUL byte, an integer past 32 bits, a 10 kB name)
is a 422 with a sentence per field, never a database error.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flask import g, jsonify, request, url_for
from sqlalchemy import func, select
from werkzeug.exceptions import BadRequest

from widget_server.api.problems import Problem, invalid, problem_response
from widget_server.errors import MAX_JSON_DEPTH
from widget_server.extensions import db
from widget_server.reports import day_problem

MISSING = object()
INT_MAX = 2**31 - 1
PER_PAGE_DEFAULT, PER_PAGE_MAX = 25, 100
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def json_body() -> dict:
    """The request's JSON object; 415 when it is not JSON, 400 when it does not parse,
    422 when it parses to something else (``null`` too)."""
    if not request.is_json:
        raise Problem(415)
    try:
        data = request.get_json()
    except BadRequest:
        raise Problem(400, "The request body is not valid JSON, or is nested more than "
                           f"{MAX_JSON_DEPTH} levels deep.") from None
    if not isinstance(data, dict):
        raise invalid({"body": "The request body must be a JSON object."})
    return data


def _clean_text(value: str) -> bool:
    return all(ch.isprintable() or ch in "\n\t" for ch in value)


class Fields:
    """One JSON object read field by field; ``done()`` raises 422 listing every bad field.

    Absent fields read as ``MISSING`` unless required, so PATCH changes only
    what it names.
    """

    def __init__(self, body: dict, allowed: set[str]):
        self.body = body
        self.errors: dict[str, str] = {
            name: "This field is not known." for name in body if name not in allowed}

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def _get(self, name: str, required: bool):
        if name not in self.body:
            if required:
                self.error(name, "This field is required.")
            return MISSING
        return self.body[name]

    def text(self, name: str, *, max_length: int, required: bool = False,
             nullable: bool = False):
        value = self._get(name, required)
        if value is MISSING or (value is None and nullable):
            return value
        if not isinstance(value, str) or not value.strip():
            self.error(name, "Enter some text.")
        elif len(value) > max_length:
            self.error(name, f"Use at most {max_length} characters.")
        elif not _clean_text(value):
            self.error(name, "Use printable characters only.")
        else:
            return value.strip()
        return MISSING

    def integer(self, name: str, *, required: bool = False, nullable: bool = True,
                minimum: int = 0, maximum: int = INT_MAX):
        value = self._get(name, required)
        if value is MISSING or (value is None and nullable):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(name, "Use a whole number" + (" or null." if nullable else "."))
        elif not minimum <= value <= maximum:
            self.error(name, f"Use a number from {minimum} to {maximum}.")
        else:
            return value
        return MISSING

    def boolean(self, name: str):
        value = self._get(name, False)
        if value is MISSING or isinstance(value, bool):
            return value
        self.error(name, "Use true or false.")
        return MISSING

    def choice(self, name: str, choices, *, required: bool = False):
        value = self._get(name, required)
        if value is MISSING or (isinstance(value, str) and value in choices):
            return value
        self.error(name, "Use one of: " + ", ".join(choices) + ".")
        return MISSING

    def text_list(self, name: str, *, max_items: int, max_length: int,
                  required: bool = False):
        value = self._get(name, required)
        if value is MISSING:
            return value
        if not isinstance(value, list) or not all(
                isinstance(item, str) and 0 < len(item) <= max_length and "\x00" not in item
                for item in value):
            self.error(name, f"Use a list of texts of at most {max_length} characters.")
        elif len(value) > max_items:
            self.error(name, f"Use at most {max_items} entries.")
        else:
            return value
        return MISSING

    def mapping(self, name: str, *, required: bool = False):
        value = self._get(name, required)
        if value is MISSING or isinstance(value, dict):
            return value
        self.error(name, "Use a JSON object.")
        return MISSING

    def done(self) -> None:
        if self.errors:
            raise invalid(self.errors)


class Query:
    """Filters from the query string, checked like body fields; an unknown one is refused,
    as an unknown body field is, rather than ignored (a misspelt filter would list all)."""

    def __init__(self, allowed: set[str]):
        self.allowed = allowed | {"page", "per_page"}
        g.api_query_read = True
        self.errors: dict[str, str] = {
            name: "This parameter is not known." for name in request.args
            if name not in self.allowed}

    def _raw(self, name: str) -> str | None:
        value = request.args.get(name)
        if value is not None and ("\x00" in value or len(value) > 100):
            self.errors[name] = "This value is not valid."
            return None
        return value

    def text(self, name: str, pattern: re.Pattern | None = None) -> str | None:
        value = self._raw(name)
        if value is not None and pattern is not None and not pattern.fullmatch(value):
            self.errors[name] = "This value is not valid."
            return None
        return value

    def choice(self, name: str, choices) -> str | None:
        value = self._raw(name)
        if value is not None and value not in choices:
            self.errors[name] = "Use one of: " + ", ".join(choices) + "."
            return None
        return value

    def integer(self, name: str, *, default: int | None = None, minimum: int = 0,
                maximum: int = INT_MAX) -> int | None:
        value = self._raw(name)
        if value is None:
            return default
        if not value.isascii() or not value.isdigit() or not minimum <= int(value) <= maximum:
            self.errors[name] = f"Use a whole number from {minimum} to {maximum}."
            return default
        return int(value)

    def moment(self, name: str) -> datetime | None:
        """A date (midnight UTC) or an ISO 8601 date-time, kept naive in UTC."""
        value = self._raw(name)
        if value is None:
            return None
        try:
            if len(value) == 10:
                moment = datetime.combine(date.fromisoformat(value), datetime.min.time())
            else:
                moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC).replace(tzinfo=None)
        except ValueError:
            self.errors[name] = "Use a date (2025-01-31) or a date-time (2025-01-31T09:00:00Z)."
            return None
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            moment = datetime.min
        if problem := day_problem(moment):
            self.errors[name] = problem
            return None
        return moment

    def page(self) -> tuple[int, int]:
        return (self.integer("page", default=1, minimum=1, maximum=100_000),
                self.integer("per_page", default=PER_PAGE_DEFAULT, minimum=1,
                             maximum=PER_PAGE_MAX))

    def done(self) -> None:
        if self.errors:
            raise invalid(self.errors)


def refuse_unread_query(response):
    """After a request that read no ``Query`` (one object, a change): any query parameter
    is unknown. A change refuses before it acts (``refuse_query_on_change``); a read has
    nothing to undo, so its answer is replaced."""
    if request.args and not g.get("api_query_read") and response.status_code < 400:
        return problem_response(unknown_parameters(request.args))
    return response


def refuse_query_on_change() -> None:
    """Before a change: no write of the API takes query parameters."""
    if request.args and request.method not in ("GET", "HEAD", "OPTIONS"):
        raise unknown_parameters(request.args)


def unknown_parameters(names) -> Problem:
    return invalid({name: "This parameter is not known." for name in names})


def paginated(query: Query, statement, serialise):
    """One page of ``statement`` as ``{items, page, per_page, total, next}``, and a Link header."""
    page, per_page = query.page()
    query.done()
    total = db.session.scalar(select(func.count()).select_from(
        statement.order_by(None).subquery()))
    rows = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    next_url = None
    if page * per_page < total:
        args = request.args.to_dict() | {"page": page + 1, "per_page": per_page}
        next_url = url_for(request.endpoint, **(request.view_args or {}), **args)
    response = jsonify(items=[serialise(row) for row in rows], page=page, per_page=per_page,
                       total=total, next=next_url)
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


def timestamp(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time as RFC 3339."""
    return None if moment is None else moment.isoformat() + "Z"
