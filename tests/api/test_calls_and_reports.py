"""Calls with their events, filters and pagination; usage per client for the reseller."""

from __future__ import annotations

import pytest

from tests.api.conftest import make_widget
from tests.factories import call_body, post_call
from widget_server.extensions import db
from widget_server.models import Widget

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there


def _place_calls(app, client, api, count: int) -> dict:
    widget = make_widget(api, "client-a", cap_per_ip=10, cap_per_number=5)
    with app.app_context():
        row = db.session.query(Widget).filter_by(public_id=widget["id"]).one()
        db.session.expunge(row)
    for n in range(count):  # one number each: a number is called at most once a minute
        body = call_body(app, client, row, phone=f"+1202555014{n}")
        assert post_call(client, body).status_code == 202
    return widget


def test_a_call_is_listed_and_read_with_its_event_timeline(app, client, api):
    widget = _place_calls(app, client, api, 1)
    listed = api("GET", f"/calls?widget_id={widget['id']}&country=US").get_json()
    assert listed["total"] == 1
    call = api("GET", f"/calls/{listed['items'][0]['id']}").get_json()
    assert call["widget_id"] == widget["id"] and call["status"] == "completed"
    assert next(e["status"] for e in call["events"] if e["kind"] == "state") == "queued"
    assert call["events"][-1]["status"] == "completed"
    assert api("GET", "/calls?status=failed").get_json()["total"] == 0
    assert api("GET", "/calls?country=GB").get_json()["total"] == 0
    assert api("GET", "/calls?until=2000-01-01").get_json()["total"] == 0


def test_lists_page_with_a_next_link_until_the_last_page(app, client, api):
    _place_calls(app, client, api, 3)
    first = api("GET", "/calls?per_page=2")
    body = first.get_json()
    assert (len(body["items"]), body["total"], body["page"]) == (2, 3, 1)
    assert first.headers["Link"] == f'<{body["next"]}>; rel="next"'
    second = api("GET", body["next"].removeprefix("/api/v1")).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert {c["id"] for c in body["items"]}.isdisjoint(c["id"] for c in second["items"])


def test_usage_counts_each_clients_calls_for_the_reseller_only(app, client, api, tenants):
    _place_calls(app, client, api, 2)
    usage = api("GET", "/reports/usage?since=2000-01-01").get_json()
    totals = {row["name"]: row["total"] for row in usage["accounts"]}
    assert totals == {"reseller": 0, "client-a": 2, "client-b": 0}
    other = api("GET", "/reports/usage", key="other-reseller").get_json()
    assert {row["name"] for row in other["accounts"]} == {"other-reseller", "other-client"}
