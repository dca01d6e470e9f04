"""Every admin page a GET reaches, fed hostile query strings and path values: never a 5xx.

The admin is not in the OpenAPI document, so schemathesis never sees it; this
walks the app's URL map instead, so a new admin page is fuzzed as it lands.
Signed in as the operator's owner, who sees every row, with a call on record.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from tests.admin.test_reports import make_call, make_widget
from tests.factories import (
    NORTH_SOUTH,
    create_tree,
    csrf_token,
    signed_in,
)
from tests.fuzz_values import EDGES, hostile_query, hostile_text

# Every query parameter an admin page reads, and a few it does not.
READ = {"page", "widget", "date_from", "date_to", "status", "country", "kind"}
PARAMETERS = READ | {"next", "per_page", "id"}
EXAMPLES = 25


def _routes(app) -> list:
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("admin.") and "GET" in rule.methods),
                  key=lambda rule: rule.rule)


def _path(rule, values: dict) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: quote(str(values[m.group(1)]), safe=""),
                  rule.rule)


@pytest.fixture
def seeded(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    widget_id = make_widget(app, ids["north-a"], "fuzz widget")
    call_id = make_call(app, widget_id)
    return ids, widget_id, call_id


def test_no_admin_get_answers_a_server_error(app, seeded):
    ids, widget_id, call_id = seeded
    client = signed_in(app, "owner@operator.example")
    known = {"int": st.sampled_from([ids["north-a"], widget_id, 1]),
             "str": st.sampled_from([call_id, "x"])}
    routes = _routes(app)
    assert len(routes) >= 15  # the walk reaches the pages, not an empty map

    for rule in routes:
        path_values = st.fixed_dictionaries({
            name: st.one_of(known["int" if isinstance(rule._converters[name],
                                                      IntegerConverter) else "str"],
                            st.integers(min_value=0, max_value=10**25), hostile_text()
                            .filter(lambda text: text not in ("", ".", "..")))
            for name in rule.arguments})

        @given(values=path_values, query=hostile_query(PARAMETERS))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def never_a_server_error(values, query):
            # Called at once, inside this turn of the loop: `rule` is this turn's.
            response = client.get(_path(rule, values), query_string=query)  # noqa: B023
            assert response.status_code < 500, (rule.rule, values, query)  # noqa: B023

        never_a_server_error()
        # And each edge in each parameter alone, so no other parameter's 400 hides it.
        values = {name: ids["north-a"] if isinstance(rule._converters[name], IntegerConverter)
                  else call_id for name in rule.arguments}
        for name in READ:
            for value in EDGES:
                response = client.get(_path(rule, values), query_string={name: value})
                assert response.status_code < 500, (rule.rule, name, value)


HUGE_IDS = (2**31, 2**63, 10**20, 10**25)


def test_no_admin_post_answers_a_server_error_for_an_out_of_range_path_id(app, seeded):
    """POST pages too: a signed-in owner with a valid CSRF token, ids past every integer."""
    ids, _widget_id, call_id = seeded
    client = signed_in(app, "owner@operator.example")
    token = csrf_token(client)
    rules = sorted((rule for rule in app.url_map.iter_rules()
                    if rule.endpoint.startswith("admin.") and "POST" in rule.methods
                    and any(isinstance(c, IntegerConverter) for c in rule._converters.values())),
                   key=lambda rule: rule.rule)
    assert len(rules) >= 10  # the walk reaches the forms, not an empty map
    for rule in rules:
        for huge in HUGE_IDS:
            for name, converter in rule._converters.items():
                if not isinstance(converter, IntegerConverter):
                    continue
                values = {other: ids["north-a"] if isinstance(c, IntegerConverter) else call_id
                          for other, c in rule._converters.items()} | {name: huge}
                response = client.post(_path(rule, values), data={"csrf_token": token})
                # Refused by the converter (some path is another rule's), not by CSRF.
                assert response.status_code in (404, 405), (rule.rule, values)


def test_every_integer_in_an_admin_or_api_path_has_a_maximum(app):
    """Werkzeug's int converter takes any length; past 64 bits the database raises."""
    unbounded = [rule.rule for rule in app.url_map.iter_rules()
                 for converter in rule._converters.values()
                 if isinstance(converter, IntegerConverter) and converter.max is None]
    assert unbounded == []
