"""Every query parameter the OpenAPI document declares, fed hostile values: never a 5xx.

Schemathesis (test_schemathesis.py) sends values the document allows, a few per
operation; out-of-range days and digits past 64 bits are allowed by ``format:
date`` and rare in its draws, so it never sent ``until=9999-12-31``. Here every
declared query parameter gets the edges of tests/fuzz_values.py, one at a time,
and hypothesis' mixes of them; a refusal must be a problem document.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from werkzeug.routing import IntegerConverter

from tests.api.conftest import make_provider, make_widget
from tests.fuzz_values import EDGES, hostile_query
from widget_server.api.openapi import document
from widget_server.api.problems import PROBLEM_TYPE

EXAMPLES = 25


def _operations(app) -> list[tuple[str, list[str], list[str]]]:
    """(path, its path parameters, its query parameters) of every GET that takes a query."""
    found = []
    for path, item in document(app)["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        parameters = item.get("parameters", []) + operation.get("parameters", [])
        query = [p["name"] for p in parameters if p["in"] == "query"]
        if query:
            found.append((path, [p["name"] for p in parameters if p["in"] == "path"], query))
    return found


@pytest.fixture
def path_values(api, tenants):
    widget = make_widget(api, "client-a")
    make_provider(api, "reseller")
    webhook = api("POST", "/webhooks", json={"url": "http://127.0.0.1:9/hook",
                                             "events": ["call.completed"]}).get_json()
    return {"client_id": tenants.ids["client-a"], "widget_id": widget["id"],
            "webhook_id": webhook["id"]}


def _check(response, where) -> None:
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert response.content_type == PROBLEM_TYPE, where


def test_no_declared_query_parameter_makes_a_server_error(app, api, path_values):
    operations = _operations(app)
    assert len(operations) == 11

    for template, path_names, names in operations:
        path = template.format(**{name: path_values[name] for name in path_names})
        for name in names:
            for value in EDGES:
                _check(api("GET", path, query_string={name: value}), (path, name, value))

        @given(query=hostile_query(names))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def never_a_server_error(query):
            # Called at once, inside this turn of the loop: `path` is this turn's.
            _check(api("GET", path, query_string=query), (path, query))  # noqa: B023

        never_a_server_error()


def test_no_path_id_past_every_integer_makes_a_server_error(app, api, path_values):
    """Every method of every API path with an integer id: a problem 404, never a 5xx."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
             and any(isinstance(c, IntegerConverter) for c in rule._converters.values())]
    assert len(rules) >= 5
    for rule in rules:
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            for huge in (2**31, 2**63, 10**20):
                path = rule.rule.removeprefix("/api/v1")
                path = re.sub(r"<[^>]*>", str(huge), path)
                response = api(method, path, key="operator", json={})
                _check(response, (method, rule.rule, huge))
                assert response.status_code in (404, 405), (method, rule.rule, huge)
