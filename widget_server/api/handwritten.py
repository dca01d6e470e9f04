"""The hand-written OpenAPI pieces of the resources not yet described by models.

Each resource's block goes as the resource moves to ``api/schemas/``;
``api/openapi.py`` lays them beside the generated ones.
"""

from __future__ import annotations

from widget_server.api.schemas.common import INT_MAX, PER_PAGE_MAX
from widget_server.api.widgets import DAYS, OUTSIDE_HOURS, POSITIONS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _null(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


def _obj(properties: dict, required=(), *, closed: bool = True) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _text(max_length: int) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def _page_of(name: str) -> dict:
    return _obj({"items": {"type": "array", "items": _ref(name)},
                 "page": {"type": "integer", "minimum": 1},
                 "per_page": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX},
                 "total": COUNT, "next": _null({"type": "string"})},
                ["items", "page", "per_page", "total", "next"])


def _problem(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": _ref("Problem")}}}


PROBLEMS = {
    "400": _problem("The body is not valid JSON."),
    "401": _problem("No API key, or one that is not valid or revoked."),
    "403": _problem("Not allowed for this key's account (e.g. its own allowance)."),
    "404": _problem("No such object in this key's subtree."),
    "409": _problem("The name or entry exists already."),
    "415": _problem("The body is not application/json."),
    "422": _problem("Some fields or filters are not valid; see errors."),
}


def _json(schema: str, description: str, headers: dict | None = None) -> dict:
    response = {"description": description,
                "content": {"application/json": {"schema": _ref(schema)}}}
    if headers:
        response["headers"] = headers
    return response


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _path(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _op(summary: str, ok: dict, *errors: str, body: str | None = None,
        params: list | None = None) -> dict:
    codes = {"401", "422", *errors} | ({"400", "415"} if body else set())
    operation = {"summary": summary, "responses": ok | {c: PROBLEMS[c] for c in sorted(codes)}}
    if body:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _ref(body)}}}
    if params:
        operation["parameters"] = params
    return operation


ID = {"type": "integer", "minimum": 1, "maximum": INT_MAX}
COUNT = {"type": "integer", "minimum": 0, "maximum": INT_MAX}
CAP = _null(COUNT)
TIME = {"type": "string", "format": "date-time"}
PUBLIC_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}
PAGING = [_query("page", {"type": "integer", "minimum": 1, "maximum": 100_000}),
          _query("per_page", {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX})]
LINK = {"Link": {"schema": {"type": "string"}, "description": 'rel="next" when more follow'}}
NO_CONTENT = {"204": {"description": "Done."}}


def _list(summary: str, page: str, params: list) -> dict:
    return _op(summary, {"200": _json(page, "One page.", LINK)}, params=params + PAGING)


SCHEMAS: dict[str, dict] = {}
PATHS: dict[str, dict] = {}

# Widgets and their domains.
OPENING_HOURS = {
    "type": "object", "additionalProperties": False,
    "properties": {day: {"type": "array", "maxItems": 6, "items": {
        "type": "array", "minItems": 2, "maxItems": 2, "items": {
            "type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}}}
        for day in DAYS},
}
OPTIONS = {"type": "object", "additionalProperties": {
    "type": ["string", "integer", "number", "boolean"]}}
WIDGET_SETTINGS = {
    "name": _text(120), "paused": {"type": "boolean"},
    "business_numbers": {"type": "array", "minItems": 1, "maxItems": 10,
                         "items": _text(32), "description": "E.164, rung in this order."},
    "home_country": {"type": "string", "pattern": "^[A-Z]{2}$"},
    "allowed_countries": {"type": "array", "maxItems": 50,
                          "items": {"type": "string", "pattern": "^[A-Z]{2}$"}},
    "language": {"type": "string", "pattern": "^[a-z]{2}(-[A-Z]{2})?$"},
    "button_label": _text(60),
    "button_colour": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
    "button_position": {"enum": list(POSITIONS)},
    "consent_text": _text(500),
    "time_zone": {**_text(64), "description": "IANA, e.g. Europe/London."},
    "opening_hours": OPENING_HOURS,
    "outside_hours": {"enum": list(OUTSIDE_HOURS)},
    "cap_per_ip": {**CAP, "description": "Calls a day from one visitor address, counted on "
                   "this widget; null: the installation's default. Above the installation's "
                   "ceiling (CEILING_PER_IP): 422."},
    "cap_per_number": {**CAP, "description": "Calls a day to one number, counted on this "
                       "widget; null: the installation's default. Above the installation's "
                       "ceiling (CEILING_PER_NUMBER): 422."},
    "cap_per_widget": CAP,
    "provider_account_id": _null(ID),
    "provider_options": OPTIONS,
}
WIDGET = _obj(WIDGET_SETTINGS | {
    "id": PUBLIC_ID, "account_id": ID, "domains": {"type": "array", "items": _ref("Domain")},
    "embed_snippet": {"type": "string"}, "created_at": TIME,
}, list(WIDGET_SETTINGS) + ["id", "account_id", "domains", "embed_snippet", "created_at"])
WIDGET["properties"]["business_numbers"] = {"type": "array", "items": {"type": "string"}}
WIDGET["properties"]["opening_hours"] = {"type": "object"}
WIDGET_ID, DOMAIN_ID = _path("widget_id", PUBLIC_ID), _path("domain_id", ID)
SCHEMAS |= {
    "Domain": _obj({"id": ID, "pattern": {"type": "string"}}, ["id", "pattern"]),
    "DomainPage": _page_of("Domain"),
    "DomainCreate": _obj({"pattern": {**_text(260), "examples": ["*.example.com"]}},
                         ["pattern"]),
    "Widget": WIDGET, "WidgetPage": _page_of("Widget"),
    "WidgetCreate": _obj(WIDGET_SETTINGS | {
        "account_id": ID, "domains": {"type": "array", "maxItems": 50, "items": _text(260)}},
        ["business_numbers"]),
    "WidgetUpdate": _obj(WIDGET_SETTINGS),
}
PATHS |= {
    "/widgets": {
        "get": _list("Widgets (not deleted)", "WidgetPage", [
            _query("account_id", ID), _query("paused", {"enum": ["true", "false"]})]),
        "post": _op("Create a widget", {"201": _json("Widget", "Created.")},
                    body="WidgetCreate"),
    },
    "/widgets/{widget_id}": {
        "parameters": [WIDGET_ID],
        "get": _op("One widget with its snippet", {"200": _json("Widget", "The widget.")},
                   "404"),
        "patch": _op("Change settings", {"200": _json("Widget", "Updated.")}, "404",
                     body="WidgetUpdate"),
        "delete": _op("Delete (calls are kept; the snippet stops working)", NO_CONTENT, "404"),
    },
    "/widgets/{widget_id}/rotate_token": {
        "parameters": [WIDGET_ID],
        "post": _op("New embed token; the old snippet stops working",
                    {"200": _json("Widget", "The widget with its new snippet.")}, "404"),
    },
    "/widgets/{widget_id}/domains": {
        "parameters": [WIDGET_ID],
        "get": _list("The widget's domain whitelist", "DomainPage", []) | {
            "responses": _list("", "DomainPage", [])["responses"] | {"404": PROBLEMS["404"]}},
        "post": _op("Whitelist a domain or *.wildcard", {"201": _json("Domain", "Added.")},
                    "404", "409", body="DomainCreate"),
    },
    "/widgets/{widget_id}/domains/{domain_id}": {
        "parameters": [WIDGET_ID, DOMAIN_ID],
        "delete": _op("Remove a whitelist entry", NO_CONTENT, "404"),
    },
}
