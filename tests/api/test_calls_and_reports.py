"""Calls with their events, filters and pagination; usage per client for the reseller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.api.conftest import make_widget
from tests.embed.test_opening_hours import hours_closed_now, make_widget_slot
from tests.factories import call_body, post_call
from widget_server.api.problems import PROBLEM_TYPE
from widget_server.extensions import db
from widget_server.models import CallRequest, Widget, utcnow

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there


@pytest.fixture
def app(make_app):
    """Call now follows a visitor's request within the minute: the per-minute guard apart."""
    return make_app(CAP_PER_NUMBER_PER_MINUTE=10)


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


def test_calls_carry_their_page_and_campaign_and_filter_by_it(app, client, api):
    widget = make_widget(api, "client-a", cap_per_ip=10)
    with app.app_context():
        row = db.session.query(Widget).filter_by(public_id=widget["id"]).one()
        db.session.expunge(row)
    for n, query in enumerate(("utm_source=google&utm_medium=cpc&utm_campaign=winter",
                               "utm_source=newsletter", "")):
        body = call_body(app, client, row, phone=f"+1202555015{n}",
                         page_url=f"https://shop.example/boilers?{query}")
        assert post_call(client, body).status_code == 202
    google = api("GET", "/calls?utm_source=google").get_json()
    assert google["total"] == 1
    [call] = google["items"]
    assert call["page_url"] == "https://shop.example/boilers"
    assert call["campaign"] == {"utm_source": "google", "utm_medium": "cpc",
                                "utm_campaign": "winter"}
    assert api("GET", "/calls?utm_campaign=winter&utm_medium=cpc").get_json()["total"] == 1
    assert api("GET", "/calls?utm_source=newsletter").get_json()["total"] == 1
    assert api("GET", "/calls?utm_source=bing").get_json()["total"] == 0
    assert api("GET", "/calls").get_json()["total"] == 3


def test_an_overlong_or_unprintable_campaign_filter_is_refused_with_its_field_named(api):
    for value in ("x" * 101, "%00"):
        response = api("GET", "/calls?utm_source=" + value)
        assert response.status_code == 422
        assert "utm_source" in response.get_json()["errors"]


def _request(app, client, api, phone: str, **fields) -> tuple[dict, str]:
    """A widget of client A (``fields``), and a visitor's call to ``phone`` through it."""
    widget = make_widget(api, "client-a", **fields)
    with app.app_context():
        row = db.session.query(Widget).filter_by(public_id=widget["id"]).one()
        db.session.expunge(row)
    extra = {"callback_at": make_widget_slot(fields["opening_hours"])} \
        if "opening_hours" in fields else {}
    response = post_call(client, call_body(app, client, row, phone=phone, **extra))
    assert response.status_code == 202, response.get_json()
    return widget, response.get_json()["call_id"]


def test_call_now_places_a_missed_call_again_and_counts_against_the_caps(app, client, api):
    _, call_id = _request(app, client, api, "+12025550006", cap_per_number=2)
    answer = api("POST", f"/calls/{call_id}/redial")
    assert answer.status_code == 201, answer.get_json()
    attempt = answer.get_json()
    assert (attempt["attempt"], attempt["attempt_reason"], attempt["redial_of_id"]) == (
        2, "call_now", call_id)
    placed = api("GET", f"/calls/{attempt['id']}").get_json()
    assert (placed["status"], placed["reason"]) == ("failed", "business_not_reached")
    # The widget's cap of 2 calls a day to the number: the request and this one.
    refused = api("POST", f"/calls/{attempt['id']}/redial")
    assert refused.status_code == 429 and refused.content_type == PROBLEM_TYPE
    assert "call-backs as we allow today" in refused.get_json()["detail"]
    assert api("GET", "/calls").get_json()["total"] == 2


def test_call_now_is_only_for_calls_of_the_last_24_hours(app, client, api):
    _, call_id = _request(app, client, api, "+12025550006")
    with app.app_context():
        call = db.session.scalar(select(CallRequest))
        call.created_at = utcnow() - timedelta(hours=24, minutes=1)
        db.session.commit()
    refused = api("POST", f"/calls/{call_id}/redial")
    assert refused.status_code == 409
    assert "last 24 hours" in refused.get_json()["detail"]


def test_a_call_in_progress_is_not_placed_twice(app, client, api):
    _, call_id = _request(app, client, api, "+12025550006")
    with app.app_context():
        db.session.scalar(select(CallRequest)).status = "ringing"
        db.session.commit()
    refused = api("POST", f"/calls/{call_id}/redial")
    assert refused.status_code == 409 and "in progress" in refused.get_json()["detail"]
    assert api("GET", "/calls").get_json()["total"] == 1


def test_another_tenants_call_is_not_found(app, client, api):
    _, call_id = _request(app, client, api, "+12025550006")
    for action in ("redial", "cancel"):
        assert api("POST", f"/calls/{call_id}/{action}", key="other-reseller"
                   ).status_code == 404
        assert api("POST", f"/calls/{call_id}/{action}", key="client-b").status_code == 404


def test_a_booked_call_back_is_cancelled_once(app, client, api):
    _, call_id = _request(app, client, api, "+12025550123", opening_hours=hours_closed_now(),
                          outside_hours="callback")
    cancelled = api("POST", f"/calls/{call_id}/cancel")
    assert cancelled.status_code == 200, cancelled.get_json()
    assert (cancelled.get_json()["status"], cancelled.get_json()["reason"]) == (
        "rejected", "cancelled")
    again = api("POST", f"/calls/{call_id}/cancel")
    assert again.status_code == 409 and "booked call-back" in again.get_json()["detail"]


def test_a_finished_call_has_no_call_back_to_cancel(app, client, api):
    _, call_id = _request(app, client, api, "+12025550123")
    assert api("POST", f"/calls/{call_id}/cancel").status_code == 409


def test_call_now_on_a_booked_call_back_places_it_instead(app, client, api):
    _, call_id = _request(app, client, api, "+12025550123", opening_hours=hours_closed_now(),
                          outside_hours="callback")
    answer = api("POST", f"/calls/{call_id}/redial")
    assert answer.status_code == 201, answer.get_json()
    placed = api("GET", f"/calls/{answer.get_json()['id']}").get_json()
    assert placed["status"] == "completed"
    booked = api("GET", f"/calls/{call_id}").get_json()
    assert (booked["status"], booked["reason"]) == ("rejected", "cancelled")
