"""The one way an API view reads its input and writes its answer: through its models.

``@operation(...)`` declares what a view takes and answers; it validates the
path, query string and body against those models before the view runs
(passing ``query=`` and ``body=`` as model instances), serialises a returned
model, and keeps the declaration for the OpenAPI document (``api/openapi.py``).
A value that does not fit is a 422 problem with one sentence per field; a
malformed id in the path is a 404, as for an absent object. A view whose
business rules live in the services names them as ``rules``: when the body
does not fit, the rules' refusals of the fields that do join the same 422.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, get_type_hints

from flask import jsonify, request, url_for
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import func, select
from werkzeug.exceptions import BadRequest

from widget_server.api.problems import Problem, invalid
from widget_server.api.schemas.common import Page, PageQuery
from widget_server.errors import MAX_JSON_DEPTH
from widget_server.extensions import db
from widget_server.services.errors import ServiceError, refusals

M = TypeVar("M", bound=BaseModel)

# Pydantic's error types, said as the rest of the product says them.
_SENTENCES = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not known.",
    "string_type": "Enter some text.",
    "string_too_short": "Enter some text.",
    "string_too_long": "Use at most {max_length} characters.",
    "int_type": "Use a whole number.",
    "int_parsing": "Use a whole number.",
    "int_from_float": "Use a whole number.",
    "greater_than_equal": "Use a number of at least {ge}.",
    "less_than_equal": "Use a number of at most {le}.",
    "bool_type": "Use true or false.",
    "bool_parsing": "Use true or false.",
    "dict_type": "Use a JSON object.",
    "model_type": "Send a JSON object.",
    "list_type": "Use a list.",
    "too_short": "Too few entries: give at least {min_length}.",
    "too_long": "Use at most {max_length} entries.",
    "literal_error": "Use one of: {expected}.",
}


def field_errors(error: ValidationError) -> dict[str, str]:
    """One sentence per top-level field (the first found); the whole body is ``body``."""
    errors: dict[str, str] = {}
    for item in error.errors(include_url=False):
        name = str(item["loc"][0]) if item["loc"] else "body"
        sentence = _SENTENCES.get(item["type"])
        errors.setdefault(name, sentence.format(**item.get("ctx", {})) if sentence
                          else item["msg"])
    return errors


def read_body(model: type[M], rules: Callable[[M], None] | None = None) -> M:
    """The JSON body as ``model``: 415 when not JSON, 400 when unreadable, 422 when unfit,
    naming beside the unfit fields what ``rules`` refuse of the rest."""
    if not request.is_json:
        raise Problem(415)
    try:
        data = request.get_json()
    except BadRequest:
        raise Problem(400, "The request body is not valid JSON, or is nested more than "
                           f"{MAX_JSON_DEPTH} levels deep.") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = field_errors(error)
    if rules is not None and isinstance(data, dict):
        _add_refusals(errors, model, {k: v for k, v in data.items() if k not in errors}, rules)
    raise invalid(errors)


def _add_refusals(errors: dict[str, str], model: type[M], fitting: dict,
                  rules: Callable[[M], None]) -> None:
    """Add to ``errors`` what ``rules`` refuse of the ``fitting`` fields, when those make a
    body by themselves (not when a required field is the one unfit)."""
    try:
        body = model.model_validate(fitting)
    except ValidationError:
        return
    try:
        rules(body)
    except (ServiceError, ExceptionGroup) as error:
        for each in refusals(error):
            if each.kind == "invalid":
                errors.setdefault(each.field or "body", each.message)


def read_query(model: type[M]) -> M:
    """The query string as ``model``; a parameter given twice counts once (the first)."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise invalid(field_errors(error)) from None


@dataclass(frozen=True)
class Operation:
    """What one view takes and answers, for the document."""

    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    answer: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    path: dict[str, TypeAdapter]


def operation(summary: str, *, body: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, answer: type[BaseModel] | None = None,
              status: int = 200, errors: tuple[int, ...] = (),
              rules: Callable | None = None) -> Callable:
    """Declare a view's models; ``errors`` are its statuses beyond 401 and 422 (and 400 and
    415 with a body). Path variables are checked against the view's annotations.

    ``rules(**path, body=...)`` raises the services' refusals of a body (``ServiceError``
    or a group of them); it runs only when the body does not fit, to name both at once.
    """

    def decorate(view: Callable) -> Callable:
        hints = get_type_hints(view, include_extras=True)
        path = {name: TypeAdapter(hint) for name, hint in hints.items()
                if name not in ("body", "query", "return")}

        @wraps(view)
        def run(**values):
            for name, adapter in path.items():
                try:
                    values[name] = adapter.validate_python(values[name])
                except ValidationError:
                    raise Problem(404) from None
            if query is not None:
                values["query"] = read_query(query)
            elif request.args:  # unknown query parameters are refused, like unknown fields
                raise invalid(dict.fromkeys(request.args, _SENTENCES["extra_forbidden"]))
            if body is not None:
                values["body"] = read_body(body, rules and (
                    lambda fitting: rules(**values, body=fitting)))
            result = view(**values)
            if isinstance(result, BaseModel):
                return jsonify(result.model_dump(mode="json")), status
            return ("", 204) if result is None else result

        # The document reads it back from the view (openapi._declared).
        run.operation = Operation(  # type: ignore[attr-defined]
            summary, body, query, answer, status, errors, path)
        return run

    return decorate


def paginated(query: PageQuery, statement, page: type[Page], context: dict | None = None,
              extra: dict | None = None):
    """One page of ``statement``'s rows as ``page``, and a ``Link: rel="next"`` header;
    ``context`` reaches the models' validators (what a row alone cannot tell); ``extra``
    fills the fields ``page`` has beyond a page's."""
    total = db.session.execute(select(func.count()).select_from(
        statement.order_by(None).subquery())).scalar_one()
    rows = db.session.scalars(
        statement.limit(query.per_page).offset((query.page - 1) * query.per_page)).all()
    next_url = None
    if query.page * query.per_page < total:
        args: dict[str, Any] = request.args.to_dict() | {"page": query.page + 1,
                                                         "per_page": query.per_page}
        # A page answers a view's request, which matched an endpoint.
        next_url = url_for(request.endpoint or "", **(request.view_args or {}), **args)
    answer = page.model_validate({"items": rows, "page": query.page,
                                  "per_page": query.per_page, "total": total,
                                  "next": next_url, **(extra or {})}, context=context)
    response = jsonify(answer.model_dump(mode="json"))
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response
