"""An account's block list over the API, and the widget refusing what it lists."""

from __future__ import annotations

import pytest

from tests.api.conftest import make_widget
from tests.factories import call_body, post_call
from widget_server.extensions import db
from widget_server.models import Widget

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

PROBLEM = "application/problem+json"


def path(tenants, account: str) -> str:
    return f"/clients/{tenants.ids[account]}/blocked_numbers"


def visitor_call(app, client, widget: dict, phone: str):
    """The widget's frame asks for a call to ``phone``, as a visitor's browser does."""
    with app.app_context():
        row = db.session.query(Widget).filter_by(public_id=widget["id"]).one()
        db.session.expunge(row)
    return post_call(client, call_body(app, client, row, phone=phone))


def test_a_number_blocked_through_the_api_is_refused_by_the_widget(app, client, api, tenants):
    widget = make_widget(api, "client-a")
    assert visitor_call(app, client, widget, "+12025550123").status_code == 202
    added = api("POST", path(tenants, "client-a"), key="reseller",
                json={"number": "(202) 555-0123", "country": "US"})
    assert added.status_code == 201, added.get_json()
    body = added.get_json()
    assert body["e164"] == "+12025550123" and body["account_id"] == tenants.ids["client-a"]
    assert body["created_at"].endswith("Z")
    refused = visitor_call(app, client, widget, "202-555-0123")
    assert refused.status_code == 403 and refused.get_json()["error"] == "phone_blocked"
    assert visitor_call(app, client, widget, "+12025550124").status_code == 202


def test_the_list_is_the_accounts_own_newest_first_and_paged(api, tenants):
    numbers = ["+12025550101", "+442079460018", "+4915123456789"]
    for number in numbers:
        assert api("POST", path(tenants, "client-a"), key="client-a",
                   json={"number": number}).status_code == 201
    api("POST", path(tenants, "client-b"), key="client-b", json={"number": "+12025550199"})
    page = api("GET", path(tenants, "client-a") + "?per_page=2", key="client-a")
    listed = page.get_json()
    assert listed["total"] == 3 and [i["e164"] for i in listed["items"]] == numbers[:0:-1]
    assert 'rel="next"' in page.headers["Link"]
    rest = api("GET", listed["next"].removeprefix("/api/v1"), key="client-a").get_json()
    assert [i["e164"] for i in rest["items"]] == numbers[:1] and rest["next"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"number": "not a number", "country": "US"}, "number"),
    ({"number": "12", "country": "US"}, "number"),
    ({"number": "2025550123"}, "number"),                 # national, but no country
    ({"number": "2025550123", "country": "XX"}, "country"),
    ({"number": "+1 202 555 0123 " + "9" * 40}, "number"),
    ({"number": 12025550123}, "number"),
    ({}, "number"),
    ({"number": "+12025550123", "colour": "red"}, "colour"),
])
def test_invalid_input_is_a_422_naming_the_field(api, tenants, body, field):
    response = api("POST", path(tenants, "client-a"), key="client-a", json=body)
    assert response.status_code == 422 and response.content_type == PROBLEM
    problem = response.get_json()
    assert problem["type"] == "urn:widget-server:problem:invalid-input"
    assert field in problem["errors"], problem
    assert api("GET", path(tenants, "client-a"), key="client-a").get_json()["total"] == 0


def test_a_number_listed_already_is_a_409_however_it_is_written(api, tenants):
    first = api("POST", path(tenants, "client-a"), key="client-a",
                json={"number": "+12025550123"})
    assert first.status_code == 201
    again = api("POST", path(tenants, "client-a"), key="reseller",
                json={"number": "(202) 555-0123", "country": "us"})
    assert again.status_code == 409 and again.content_type == PROBLEM
    assert again.get_json()["type"] == "urn:widget-server:problem:conflict"
    assert "+12025550123" in again.get_json()["detail"]
    assert api("GET", path(tenants, "client-a"), key="client-a").get_json()["total"] == 1


def test_a_removed_number_is_called_back_again(app, client, api, tenants):
    widget = make_widget(api, "client-a")
    entry = api("POST", path(tenants, "client-a"), key="client-a",
                json={"number": "+12025550123"}).get_json()
    assert visitor_call(app, client, widget, "+12025550123").status_code == 403
    removed = api("DELETE", f"{path(tenants, 'client-a')}/{entry['id']}", key="client-a")
    assert removed.status_code == 204
    assert api("DELETE", f"{path(tenants, 'client-a')}/{entry['id']}",
               key="client-a").status_code == 404
    assert api("GET", path(tenants, "client-a"), key="client-a").get_json()["items"] == []
    assert visitor_call(app, client, widget, "+12025550123").status_code == 202


def test_a_block_applies_to_its_own_account_only(app, client, api, tenants):
    widget_a = make_widget(api, "client-a")
    widget_b = make_widget(api, "client-b")
    assert api("POST", path(tenants, "client-a"), key="client-a",
               json={"number": "+12025550123"}).status_code == 201
    assert visitor_call(app, client, widget_a, "+12025550123").status_code == 403
    assert visitor_call(app, client, widget_b, "+12025550123").status_code == 202


def test_another_tenants_list_is_not_found(api, tenants):
    entry = api("POST", path(tenants, "client-b"), key="client-b",
                json={"number": "+12025550123"}).get_json()
    for outsider in ("client-a", "other-reseller", "other-client"):
        for method, url, body in (
                ("GET", path(tenants, "client-b"), None),
                ("POST", path(tenants, "client-b"), {"number": "+12025550124"}),
                ("DELETE", f"{path(tenants, 'client-b')}/{entry['id']}", None),
                # Its entry through a list of one's own.
                ("DELETE", f"{path(tenants, outsider)}/{entry['id']}", None)):
            response = api(method, url, key=outsider, json=body) if body else api(
                method, url, key=outsider)
            assert response.status_code == 404, (outsider, method, url)
            assert response.content_type == PROBLEM
    listed = api("GET", path(tenants, "client-b"), key="reseller").get_json()
    assert [i["e164"] for i in listed["items"]] == ["+12025550123"]


def test_a_resellers_list_applies_to_all_its_clients_widgets(app, client, api, tenants):
    widgets = [make_widget(api, name) for name in ("client-a", "client-b", "other-client")]
    added = api("POST", path(tenants, "reseller"), key="reseller",
                json={"number": "+12025550123"})
    assert added.status_code == 201
    for widget in widgets[:2]:
        refused = visitor_call(app, client, widget, "+12025550123")
        assert refused.status_code == 403 and refused.get_json()["error"] == "phone_blocked"
    assert visitor_call(app, client, widgets[2], "+12025550123").status_code == 202
