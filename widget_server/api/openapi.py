"""The OpenAPI 3.1 document of /api/v1, generated from the routes and their models.

Each API view declares its models with ``@operation`` (``api/endpoint.py``);
this module walks the app's routes, turns each declaration into an
operation and the models into ``components.schemas`` with pydantic's own
JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), so the document
cannot describe a route or a field the code does not have. Tests hold it to
``app.url_map``, and schemathesis sends what it describes.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from flask import Flask, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import Operation
from widget_server.api.problems import PREFIX, PROBLEM_TYPE
from widget_server.api.schemas.common import Page, Problem
from widget_server.providers import PROVIDERS
from widget_server.services.provider_accounts import options_schema

REF = "#/components/schemas/{model}"
_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_METHODS = ("get", "post", "patch", "put", "delete")


def _ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _problem(description: str, headers: dict | None = None) -> dict:
    response = {"description": description,
                "content": {PROBLEM_TYPE: {"schema": _ref("Problem")}}}
    if headers:
        response["headers"] = headers
    return response


PROBLEMS = {
    400: _problem("The body is not valid JSON."),
    401: _problem("No API key, or one that is not valid or revoked.",
                  {"WWW-Authenticate": {"schema": {"type": "string"}}}),
    403: _problem("Not allowed for this key's account (e.g. its own allowance)."),
    404: _problem("No such object in this key's subtree."),
    409: _problem("The name or entry exists already, or the object's state does not allow it."),
    413: _problem("The body is larger than this operation takes."),
    415: _problem("The body is not application/json."),
    422: _problem("Some fields or filters are not valid; see errors."),
    429: _problem("A daily cap is reached; try again later."),
}
LINK = {"Link": {"schema": {"type": "string"}, "description": 'rel="next" when more follow'}}
THIS_DOCUMENT = {"get": {"summary": "This document", "security": [], "responses": {
    "200": {"description": "OpenAPI 3.1", "content": {
        "application/json": {"schema": {"type": "object"}}}}}}}


def _plain(schema: dict) -> dict:
    """A parameter's schema: not null (an absent parameter is the null), no title."""
    options = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    if len(options) == 1:
        schema = {k: v for k, v in schema.items() if k != "anyOf"} | options[0]
    return {k: v for k, v in schema.items() if k not in ("title", "default")}


def _parameters(op: Operation, names: list[str]) -> list[dict]:
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": _plain(op.path[name].json_schema())} for name in names]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        for name, field in schema["properties"].items():
            parameter = {"name": name, "in": "query",
                         "required": name in schema.get("required", ()),
                         "schema": _plain(field)}
            if "description" in field:
                parameter["description"] = field["description"]
            parameters.append(parameter)
    return parameters


def _operation(op: Operation, names: list[str], refs: dict) -> dict:
    if op.answer is None:
        ok: dict[str, Any] = {"description": HTTPStatus(op.status).phrase}
    else:
        ok = {"description": HTTPStatus(op.status).phrase,
              "content": {"application/json": {"schema": refs[op.answer, "serialization"]}}}
        if issubclass(op.answer, Page):
            ok["headers"] = LINK
    codes = {401, 422, *op.errors} | ({400, 415} if op.body else set())
    operation = {"summary": op.summary,
                 "responses": {str(op.status): ok} | {str(c): PROBLEMS[c] for c in sorted(codes)}}
    if parameters := _parameters(op, names):
        operation["parameters"] = parameters
    if op.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[op.body, "validation"]}}}
    return operation


def _declared(app: Flask):
    """(path, method, operation, path variable names) of every route of the API."""
    for rule in app.url_map.iter_rules():
        op = getattr(app.view_functions.get(rule.endpoint), "operation", None)
        if op is None or not rule.rule.startswith(PREFIX + "/"):
            continue
        path = _VARIABLE.sub(r"{\1}", rule.rule.removeprefix(PREFIX))
        names = _VARIABLE.findall(rule.rule)
        for method in sorted(m.lower() for m in rule.methods or () if m.lower() in _METHODS):
            yield path, method, op, names


def build(app: Flask) -> dict:
    declared = list(_declared(app))
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
    for *_, op, _names in declared:
        models += [(op.body, "validation")] if op.body else []
        models += [(op.answer, "serialization")] if op.answer else []
    refs, schemas = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    paths: dict[str, dict] = {}
    for path, method, op, names in declared:
        paths.setdefault(path, {})[method] = _operation(op, names, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{app.config['PRODUCT_NAME']} management API", "version": "1",
                 "description": "Accounts, brands, widgets, domains, block lists, provider "
                                "accounts, calls and usage of the API key's account subtree."},
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "paths": paths | {"/openapi.json": THIS_DOCUMENT},
        "components": {
            "schemas": (defs := schemas.get("$defs", {})) | _provider_options(defs),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API key: wsk_<prefix>_<secret>."}},
        },
    }


def _provider_options(schemas: dict) -> dict:
    """Each provider kind's typed options as a schema of its own, from the adapter's
    declaration (services/provider_accounts.py), named from the bodies' ``options``.

    ``options`` itself stays an object: which schema applies depends on the account's
    ``kind``, and the server names every mistyped option (422, ``options.<name>``).
    """
    by_kind = {kind: f"ProviderOptions-{kind}" for kind in sorted(PROVIDERS)}
    for body in ("ProviderAccountCreate", "ProviderAccountUpdate"):
        options = schemas.get(body, {}).get("properties", {}).get("options")
        if options is not None:
            options["x-options-by-kind"] = {kind: REF.format(model=name)
                                            for kind, name in by_kind.items()}
    return {name: options_schema(kind) for kind, name in by_kind.items()}


def document(app: Flask) -> dict:
    """The document, built once per app (its routes do not change once it serves)."""
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build(app)
    return app.extensions["openapi"]


@blueprint.get("/openapi.json")
def openapi_document():
    return jsonify(document(current_app))
