"""The OpenAPI 3.1 document of /api/v1, written as data beside the code it describes.

Tests hold it to the code both ways: every API route is in it and nothing
else is (``app.url_map``), and a schemathesis run sends what it describes
and checks every answer against it.
"""

from __future__ import annotations

from flask import jsonify

from widget_server.api import blueprint
from widget_server.api.calls import STATES
from widget_server.api.clients import KINDS as CLIENT_KINDS
from widget_server.api.inputs import INT_MAX, PER_PAGE_MAX
from widget_server.api.problems import PROBLEM_TYPE
from widget_server.api.providers import KINDS as PROVIDER_KINDS
from widget_server.calls.hours import DAYS
from widget_server.reports import OUTCOMES
from widget_server.services.widgets import OUTSIDE_HOURS, POSITIONS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _null(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


def _obj(properties: dict, required=(), *, closed: bool = True) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


ID = {"type": "integer", "minimum": 1, "maximum": INT_MAX}
COUNT = {"type": "integer", "minimum": 0, "maximum": INT_MAX}
CAP = _null(COUNT)
TIME = {"type": "string", "format": "date-time"}
PUBLIC_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}


def _text(max_length: int) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


CLIENT = _obj({"id": ID, "name": _text(120), "kind": {"type": "string"},
               "parent_id": _null(ID), "daily_call_cap": CAP, "monthly_call_cap": CAP,
               "created_at": TIME},
              ["id", "name", "kind", "parent_id", "daily_call_cap", "monthly_call_cap",
               "created_at"])
CLIENT_WRITE = {"name": _text(120), "daily_call_cap": CAP, "monthly_call_cap": CAP}

OPENING_HOURS = {
    "type": "object", "additionalProperties": False,
    "properties": {day: {"type": "array", "maxItems": 6, "items": {
        "type": "array", "minItems": 2, "maxItems": 2, "items": {
            "type": "string", "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"}}}
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
DOMAIN = _obj({"id": ID, "pattern": {"type": "string"}}, ["id", "pattern"])
WIDGET = _obj(WIDGET_SETTINGS | {
    "id": PUBLIC_ID, "account_id": ID, "domains": {"type": "array", "items": _ref("Domain")},
    "embed_snippet": {"type": "string"}, "created_at": TIME,
}, list(WIDGET_SETTINGS) + ["id", "account_id", "domains", "embed_snippet", "created_at"])
WIDGET["properties"]["business_numbers"] = {"type": "array", "items": {"type": "string"}}
WIDGET["properties"]["opening_hours"] = {"type": "object"}

PROVIDER = _obj({"id": ID, "account_id": ID, "name": _text(120),
                 "kind": {"enum": list(PROVIDER_KINDS)}, "base_url": _null({"type": "string"}),
                 "options": {"type": "object"},
                 "has_credentials": {"type": "boolean"}, "created_at": TIME},
                ["id", "account_id", "name", "kind", "base_url", "options",
                 "has_credentials", "created_at"])
CREDENTIALS = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 500},
               "description": "Write-only: the provider's credential fields; never returned."}
# https (http in development) to a public host: the server checks the rest (422).
BASE_URL = _null({"type": "string", "maxLength": 500, "pattern": "^https?://"})

CALL_FIELDS = {
    "id": PUBLIC_ID, "widget_id": PUBLIC_ID, "account_id": ID,
    "status": {"type": "string"}, "reason": _null({"type": "string"}),
    "visitor_number": {"type": "string"}, "visitor_country": {"type": "string"},
    "page_origin": {"type": "string"}, "provider_kind": {"type": "string"},
    "scheduled_for": _null(TIME), "provider_report": _null({"type": "object"}),
    "created_at": TIME, "updated_at": TIME,
}
CALL = _obj(CALL_FIELDS, list(CALL_FIELDS))
EVENT = _obj({"at": TIME, "status": {"type": "string"}, "reason": _null({"type": "string"}),
              "kind": {"enum": ["state", "exchange"]}, "detail": {"type": "object"}},
             ["at", "status", "reason", "kind", "detail"])
CALL_DETAIL = _obj(CALL_FIELDS | {"events": {"type": "array", "items": _ref("CallEvent")}},
                   [*CALL_FIELDS, "events"])
USAGE_ROW = _obj({"account_id": ID, "name": {"type": "string"}, "kind": {"type": "string"},
                  "parent_id": _null(ID), "total": COUNT,
                  "by_outcome": _obj({o: COUNT for o in OUTCOMES}, OUTCOMES),
                  "answer_rate": _null({"type": "number", "minimum": 0, "maximum": 1})},
                 ["account_id", "name", "kind", "parent_id", "total", "by_outcome",
                  "answer_rate"])
USAGE = _obj({"since": TIME, "outcomes": {"type": "array", "items": {"enum": list(OUTCOMES)}},
              "accounts": {"type": "array", "items": _ref("AccountUsage")}},
             ["since", "outcomes", "accounts"])
BLOCKED_NUMBER = _obj({"id": ID, "account_id": ID,
                       "e164": {"type": "string", "pattern": r"^\+[1-9][0-9]{1,14}$"},
                       "created_at": TIME}, ["id", "account_id", "e164", "created_at"])
BLOCKED_NUMBER_CREATE = _obj({
    "number": {**_text(32), "examples": ["+12025550123", "(202) 555-0123"],
               "description": "Any valid number of any country: +country format, or national "
                              "with country."},
    "country": {"type": "string", "pattern": "^[A-Z]{2}$",
                "description": "Where a national number is read, e.g. US."}}, ["number"])
PROBLEM = _obj({"type": {"type": "string"}, "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "errors": {"type": "object", "additionalProperties": {"type": "string"}}},
               ["type", "title", "status", "detail"])


def _page_of(name: str) -> dict:
    return _obj({"items": {"type": "array", "items": _ref(name)},
                 "page": {"type": "integer", "minimum": 1},
                 "per_page": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX},
                 "total": COUNT, "next": _null({"type": "string"})},
                ["items", "page", "per_page", "total", "next"])


SCHEMAS = {
    "Problem": PROBLEM, "Client": CLIENT, "ClientPage": _page_of("Client"),
    "ClientCreate": _obj(CLIENT_WRITE | {"kind": {"enum": list(CLIENT_KINDS)},
                                         "parent_id": ID}, ["name"]),
    "ClientUpdate": _obj(CLIENT_WRITE),
    "Domain": DOMAIN, "DomainPage": _page_of("Domain"),
    "DomainCreate": _obj({"pattern": {**_text(260), "examples": ["*.example.com"]}},
                         ["pattern"]),
    "Widget": WIDGET, "WidgetPage": _page_of("Widget"),
    "WidgetCreate": _obj(WIDGET_SETTINGS | {
        "account_id": ID, "domains": {"type": "array", "maxItems": 50, "items": _text(260)}},
        ["business_numbers"]),
    "WidgetUpdate": _obj(WIDGET_SETTINGS),
    "ProviderAccount": PROVIDER, "ProviderAccountPage": _page_of("ProviderAccount"),
    "ProviderAccountCreate": _obj({"account_id": ID, "name": _text(120),
                                   "kind": {"enum": list(PROVIDER_KINDS)},
                                   "base_url": BASE_URL, "credentials": CREDENTIALS,
                                   "options": OPTIONS}, ["name", "kind", "credentials"]),
    "ProviderAccountUpdate": _obj({"name": _text(120), "base_url": BASE_URL,
                                   "credentials": CREDENTIALS, "options": OPTIONS}),
    "Call": CALL, "CallPage": _page_of("Call"), "CallEvent": EVENT, "CallDetail": CALL_DETAIL,
    "AccountUsage": USAGE_ROW, "Usage": USAGE,
    "BlockedNumber": BLOCKED_NUMBER, "BlockedNumberPage": _page_of("BlockedNumber"),
    "BlockedNumberCreate": BLOCKED_NUMBER_CREATE,
}


def _problem(description: str, headers: dict | None = None) -> dict:
    response = {"description": description,
                "content": {PROBLEM_TYPE: {"schema": _ref("Problem")}}}
    if headers:
        response["headers"] = headers
    return response


PROBLEMS = {
    "400": _problem("The body is not valid JSON."),
    "401": _problem("No API key, or one that is not valid or revoked.",
                    {"WWW-Authenticate": {"schema": {"type": "string"}}}),
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


def _query(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _path(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


PAGING = [_query("page", {"type": "integer", "minimum": 1, "maximum": 100_000}),
          _query("per_page", {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX})]
LINK = {"Link": {"schema": {"type": "string"}, "description": 'rel="next" when more follow'}}
# Report days are bounded (reports.FIRST_DAY..LAST_DAY): declared, so generated
# values stay inside and a value outside is a documented 422.
DAY = {"type": "string", "format": "date", "pattern": "^2[0-9]{3}-"}


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


def _list(summary: str, page: str, params: list) -> dict:
    return _op(summary, {"200": _json(page, "One page.", LINK)}, params=params + PAGING)


NO_CONTENT = {"204": {"description": "Done."}}
CLIENT_ID, WIDGET_ID = _path("client_id", ID), _path("widget_id", PUBLIC_ID)
PROVIDER_ID, DOMAIN_ID = _path("provider_account_id", ID), _path("domain_id", ID)
BLOCKED_NUMBER_ID = _path("blocked_number_id", ID)

PATHS = {
    "/clients": {
        "get": _list("Accounts under the key's account", "ClientPage", [
            _query("kind", {"enum": list(CLIENT_KINDS)}), _query("parent_id", ID)]),
        "post": _op("Create a client under the key's account (or parent_id)",
                    {"201": _json("Client", "Created.")}, "403", "409", body="ClientCreate"),
    },
    "/clients/{client_id}": {
        "parameters": [CLIENT_ID],
        "get": _op("One account", {"200": _json("Client", "The account.")}, "404"),
        "patch": _op("Rename, or set the allowance within the parent's",
                     {"200": _json("Client", "Updated.")}, "403", "404", "409",
                     body="ClientUpdate"),
    },
    "/clients/{client_id}/blocked_numbers": {
        "parameters": [CLIENT_ID],
        "get": _list("The account's blocked numbers, newest first", "BlockedNumberPage", []) | {
            "responses": _list("", "BlockedNumberPage", [])["responses"] | {
                "404": PROBLEMS["404"]}},
        "post": _op("Block a number: the account's widgets refuse to call it back",
                    {"201": _json("BlockedNumber", "Blocked.")}, "404", "409",
                    body="BlockedNumberCreate"),
    },
    "/clients/{client_id}/blocked_numbers/{blocked_number_id}": {
        "parameters": [CLIENT_ID, BLOCKED_NUMBER_ID],
        "delete": _op("Unblock a number", NO_CONTENT, "404"),
    },
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
    "/provider_accounts": {
        "get": _list("Provider accounts (credentials never shown)", "ProviderAccountPage", [
            _query("account_id", ID), _query("kind", {"enum": list(PROVIDER_KINDS)})]),
        "post": _op("Add a provider account", {"201": _json("ProviderAccount", "Created.")},
                    "409", body="ProviderAccountCreate"),
    },
    "/provider_accounts/{provider_account_id}": {
        "parameters": [PROVIDER_ID],
        "get": _op("One provider account", {"200": _json("ProviderAccount", "It.")}, "404"),
        "patch": _op("Change; credentials replace the stored ones (rotation)",
                     {"200": _json("ProviderAccount", "Updated.")}, "404", "409",
                     body="ProviderAccountUpdate"),
    },
    "/calls": {
        "get": _list("Calls, newest first", "CallPage", [
            _query("widget_id", PUBLIC_ID), _query("status", {"enum": list(STATES)}),
            _query("country", {"type": "string", "pattern": "^[A-Za-z]{2}$"}),
            _query("since", DAY, "First UTC day, included (from 2000-01-01)."),
            _query("until", DAY, "Last UTC day, included (up to 2999-12-31).")]),
    },
    "/calls/{call_id}": {
        "parameters": [_path("call_id", PUBLIC_ID)],
        "get": _op("One call with its events", {"200": _json("CallDetail", "The call.")}, "404"),
    },
    "/reports/usage": {
        "get": _op("Calls per account of the subtree since a moment",
                   {"200": _json("Usage", "Usage.")},
                   params=[_query("since", {"type": "string", "format": "date-time",
                                            "pattern": "^2[0-9]{3}-"},
                                  "From 2000-01-01 to 2999-12-31. Default: 30 days ago.")]),
    },
    "/openapi.json": {
        "get": {"summary": "This document", "security": [], "responses": {
            "200": {"description": "OpenAPI 3.1", "content": {
                "application/json": {"schema": {"type": "object"}}}}}},
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "widget-server management API", "version": "1",
             "description": "Accounts, widgets, domains, block lists, provider accounts, calls "
                            "and usage of the API key's account subtree."},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {"schemas": SCHEMAS, "securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "An API key: wsk_<prefix>_<secret>."}}},
}


@blueprint.get("/openapi.json")
def openapi_document():
    return jsonify(DOCUMENT)
