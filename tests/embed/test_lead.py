"""The call request carries the host page's URL: stored on the call, never decisive."""

from __future__ import annotations

from tests.factories import PAGE_ORIGIN, call_body, post_call
from widget_server.extensions import db
from widget_server.models import CallRequest


def _stored(app, public_id: str) -> CallRequest:
    with app.app_context():
        return db.session.query(CallRequest).filter_by(public_id=public_id).one()


def test_the_page_and_its_campaign_are_stored_on_the_call(app, client, widget):
    body = call_body(app, client, widget, page_url=(
        f"{PAGE_ORIGIN}/boilers?utm_source=google&utm_campaign=winter&gclid=abc&token=s3cret"))
    response = post_call(client, body)
    assert response.status_code == 202, response.get_json()
    call = _stored(app, response.get_json()["call_id"])
    assert call.page_url == f"{PAGE_ORIGIN}/boilers"
    assert call.campaign == {"utm_source": "google", "utm_campaign": "winter", "gclid": "abc"}


def test_a_foreign_or_scripted_page_url_is_dropped_and_the_call_still_placed(
        app, client, widget):
    for n, page_url in enumerate(("https://attacker.example/?utm_source=spam",
                                  "javascript:alert(1)",
                                  f"{PAGE_ORIGIN}/?x={'a' * 5000}&utm_source=spam")):
        # One number each: a number is called at most once a minute.
        body = call_body(app, client, widget, page_url=page_url, phone=f"+1202555013{n}")
        response = post_call(client, body)
        assert response.status_code == 202, response.get_json()
        call = _stored(app, response.get_json()["call_id"])
        assert (call.page_url, call.campaign) == (None, {})


def test_a_request_without_a_page_url_is_stored_without_one(app, client, widget):
    response = post_call(client, call_body(app, client, widget))
    assert response.status_code == 202
    call = _stored(app, response.get_json()["call_id"])
    assert (call.page_url, call.campaign) == (None, {})
