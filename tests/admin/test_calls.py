""""Call now" and "Cancel" on a call's page in the admin: owners and members, with CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.embed.test_opening_hours import hours_closed_now, make_widget_slot
from tests.factories import (
    admin_post,
    call_body,
    create_account,
    create_user,
    create_widget,
    post_call,
    signed_in,
)
from widget_server.extensions import db
from widget_server.models import CallRequest


@pytest.fixture
def app(make_app):
    """Call now follows a visitor's request within the minute: the per-minute guard apart."""
    return make_app(CAP_PER_NUMBER_PER_MINUTE=10)


@pytest.fixture
def widget(app):
    """A widget of acme's, closed today and offering call-backs; a user of each role at acme
    and an owner at another tenant."""
    with app.app_context():
        acme, other = create_account(name="acme"), create_account(name="other")
        for role in ("owner", "member", "read-only"):
            create_user(account=acme, role=role)
        create_user(account=other)
        made = create_widget(account=acme, opening_hours=hours_closed_now(),
                             outside_hours="callback")
        db.session.expunge(made)
        return made


def book_call_back(app, widget) -> str:
    visitor = app.test_client()
    response = post_call(visitor, call_body(app, visitor, widget,
                                            callback_at=make_widget_slot(widget.opening_hours)))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["call_id"]


def page_of(client, public_id: str):
    return client.get(f"/admin/reports/calls/{public_id}")


def press(client, public_id: str, action: str):
    """Press a button of the call's page, as the browser does (with the CSRF token)."""
    return admin_post(client, f"/admin/reports/calls/{public_id}/{action}")


def stored(app, public_id: str) -> CallRequest:
    with app.app_context():
        call = db.session.scalar(select(CallRequest).where(CallRequest.public_id == public_id))
        db.session.expunge(call)
        return call


def test_cancel_ends_a_booked_call_back_and_the_button_goes(app, widget):
    call_id = book_call_back(app, widget)
    owner = signed_in(app, "owner@acme.example")
    html = page_of(owner, call_id).get_data(as_text=True)
    assert ">Cancel</button>" in html and ">Call now</button>" in html
    response = press(owner, call_id, "cancel")
    assert response.status_code == 302
    assert (stored(app, call_id).status, stored(app, call_id).reason) == (
        "rejected", "cancelled")
    html = page_of(owner, call_id).get_data(as_text=True)
    assert "is cancelled" in html and ">Cancel</button>" not in html


def test_call_now_places_a_booked_call_back_at_once(app, widget):
    call_id = book_call_back(app, widget)
    member = signed_in(app, "member@acme.example")
    response = press(member, call_id, "call-now")
    assert response.status_code == 302
    attempt_id = response.headers["Location"].rsplit("/", 1)[1]
    attempt = stored(app, attempt_id)
    assert (attempt.attempt_reason, attempt.status) == ("call_now", "completed")
    assert stored(app, call_id).reason == "cancelled"
    html = page_of(member, attempt_id).get_data(as_text=True)
    assert "Calling +12025550123 again now (attempt 2)" in html and "call_now" in html


@pytest.mark.databases("sqlite", "postgresql")  # the cap is counted in SQL
def test_call_now_refused_by_a_cap_says_why(app, widget):
    with app.app_context():
        db.session.merge(widget).cap_per_number = 1
        db.session.commit()
    call_id = book_call_back(app, widget)
    owner = signed_in(app, "owner@acme.example")
    press(owner, call_id, "call-now")
    html = page_of(owner, call_id).get_data(as_text=True)
    assert "The call was not placed: This number has had as many call-backs" in html
    assert stored(app, call_id).status == "queued"  # the booking stands


def test_a_read_only_user_may_not_and_another_tenant_finds_nothing(app, widget):
    call_id = book_call_back(app, widget)
    reader = signed_in(app, "read-only@acme.example")
    assert ">Cancel</button>" not in page_of(reader, call_id).get_data(as_text=True)
    other = signed_in(app, "owner@other.example")
    assert page_of(other, call_id).status_code == 404
    for client, status in ((reader, 403), (other, 404)):
        for action in ("cancel", "call-now"):
            assert press(client, call_id, action).status_code == status
    assert stored(app, call_id).status == "queued"


def test_without_the_csrf_token_nothing_is_cancelled(app, widget):
    call_id = book_call_back(app, widget)
    owner = signed_in(app, "owner@acme.example")
    page_of(owner, call_id)
    assert owner.post(f"/admin/reports/calls/{call_id}/cancel").status_code == 400
    assert stored(app, call_id).status == "queued"
