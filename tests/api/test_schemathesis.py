"""Schemathesis sends what the OpenAPI document describes; no 5xx, no answer off the schema.

Runs on both databases with a reseller's key over a seeded tree (a client,
a widget, a provider account, a call, a blocked number, a webhook endpoint), few examples per
operation to stay around a minute in all.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api.conftest import make_provider, make_widget
from tests.factories import call_body, post_call
from widget_server.extensions import db
from widget_server.models import Widget

EXAMPLES = 10


@pytest.fixture
def seeded(app, client, api, tenants):
    """A client with a widget, a placed call, a blocked number and a webhook endpoint, a
    provider account, the reseller's brand; the reseller's key."""
    widget = make_widget(api, "client-a")
    make_provider(api, "reseller")
    assert api("PUT", f"/clients/{tenants.ids['reseller']}/brand",
               json={"product_name": "North Calls"}).status_code == 200
    assert api("POST", f"/clients/{tenants.ids['client-a']}/blocked_numbers",
               json={"number": "+12025550188"}).status_code == 201
    assert api("POST", "/webhooks", json={"account_id": tenants.ids["client-a"],
                                          "url": "http://127.0.0.1:9/hook",
                                          "events": ["call.completed"]}).status_code == 201
    with app.app_context():
        row = db.session.query(Widget).filter_by(public_id=widget["id"]).one()
        db.session.expunge(row)
    assert post_call(client, call_body(app, client, row)).status_code == 202
    return tenants.keys["reseller"]


def test_the_api_answers_as_its_document_says(app, seeded):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Identity: the WSGI transport reads bodies as sent, and Flask-Compress would brotli them.
    headers = {"Authorization": f"Bearer {seeded}", "Accept-Encoding": "identity"}
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 44

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            case.call_and_validate(headers=headers, checks=checks)

        answers_as_documented()


def test_query_values_outside_the_document_are_refused_not_failed(app, seeded):
    """Negative mode: each GET's query parameters get values the document rules out."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {seeded}", "Accept-Encoding": "identity"}
    operations = [result.ok() for result in schema.get_all_operations()]
    with_query = [op for op in operations if op.method.upper() == "GET" and op.query]
    assert len(with_query) == 11

    for operation in with_query:
        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def refused_not_failed(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        refused_not_failed()
