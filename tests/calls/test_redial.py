"""A call the business missed is tried again: its next number at once, then redials inside
opening hours, then a call-back at the next opening slot (calls/redial.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import call_body, create_account, create_widget, post_call
from widget_server.calls.events import name_events
from widget_server.calls.hours import callback_slots
from widget_server.calls.redial import next_attempt
from widget_server.extensions import db
from widget_server.models import CallRequest, Widget, utcnow

FIRST, SECOND = "+12025550100", "+12025550111"


def make_widget(app, **fields) -> Widget:
    with app.app_context():
        made = create_widget(account=create_account(name="acme"), **fields)
        db.session.expunge(made)
        return made


def request_call(app, client, widget, phone: str) -> dict:
    response = post_call(client, call_body(app, client, widget, phone=phone))
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def attempts(app) -> list[CallRequest]:
    with app.app_context():
        rows = list(db.session.scalars(select(CallRequest).order_by(CallRequest.id)))
        for row in rows:
            row.named = [e.type for e in name_events(row.events)]
        db.session.expunge_all()
        return rows


def run_when_due(app, call_id: int) -> None:
    """The queue's place task for a booked attempt, as when its time comes."""
    with app.app_context():
        db.session.get(CallRequest, call_id).scheduled_for = utcnow()
        db.session.commit()
    app.extensions["call_tasks"].place_call(call_id, 0)


def test_a_business_that_never_answers_is_redialled_n_times_then_booked_for_the_next_slot(
        app, client):
    widget = make_widget(app, redial_attempts=2, redial_interval_minutes=15,
                         outside_hours="callback")
    request_call(app, client, widget, "+12025550006")
    first, redial = attempts(app)
    assert (first.status, first.reason) == ("failed", "business_not_reached")
    assert (redial.attempt, redial.attempt_reason, redial.redial_of_id) == (2, "redial", first.id)
    assert (redial.status, redial.business_number) == ("queued", FIRST)
    wait = redial.scheduled_for - first.updated_at
    assert timedelta(minutes=14) < wait < timedelta(minutes=16)
    assert redial.named == ["call.redialed"]

    run_when_due(app, redial.id)
    *_, second_redial = attempts(app)
    assert second_redial.attempt_reason == "redial"
    run_when_due(app, second_redial.id)
    *_, booked = attempts(app)
    assert (booked.attempt, booked.attempt_reason, booked.status) == (4, "callback", "queued")
    with app.app_context():
        slot = callback_slots(db.session.get(Widget, widget.id), utcnow())[0]
    assert abs(booked.scheduled_for - slot.replace(tzinfo=None)) < timedelta(minutes=31)
    assert booked.named == ["call.scheduled"]

    run_when_due(app, booked.id)  # the call-back is missed too: nothing more is tried
    rows = attempts(app)
    assert [row.attempt_reason for row in rows] == [None, "redial", "redial", "callback"]
    assert all(row.status == "failed" for row in rows)


def test_without_call_backs_the_redials_are_all(app, client):
    widget = make_widget(app, redial_attempts=1, outside_hours="hidden")
    request_call(app, client, widget, "+12025550006")
    _, redial = attempts(app)
    run_when_due(app, redial.id)
    assert len(attempts(app)) == 2


def test_redial_is_off_by_default(app, client):
    widget = make_widget(app, outside_hours="callback")
    request_call(app, client, widget, "+12025550006")
    [call] = attempts(app)
    assert (call.status, call.reason) == ("failed", "business_not_reached")


def test_the_next_number_answers_when_the_first_does_not(app, client):
    widget = make_widget(app, numbers=(FIRST, SECOND))
    accepted = request_call(app, client, widget, "+12025550007")
    first, second = attempts(app)
    assert (first.business_number, first.status, first.reason) == (
        FIRST, "failed", "business_not_reached")
    assert (second.business_number, second.attempt_reason, second.status) == (
        SECOND, "next_number", "completed")
    assert second.named == ["call.redialed", "call.dialing", "call.connected",
                            "call.completed"]
    # The visitor's frame follows the newest attempt under the request's id.
    status = client.get(accepted["status_url"],
                        headers={"X-Call-Token": accepted["call_token"]}).get_json()
    assert (status["call_id"], status["attempt"], status["status"]) == (
        accepted["call_id"], 2, "completed")


def test_a_visitor_who_does_not_answer_is_not_redialled(app, client):
    widget = make_widget(app, numbers=(FIRST, SECOND), redial_attempts=3)
    request_call(app, client, widget, "+12025550003")
    [call] = attempts(app)
    assert call.reason == "no_answer"


MONDAY = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize("missed_at, redial_at", [
    (MONDAY.replace(hour=10), MONDAY.replace(hour=10, minute=30)),
    # Half an hour after 16:50 the business is closed: the redial waits for its opening.
    (MONDAY.replace(hour=16, minute=50), MONDAY.replace(hour=9) + timedelta(days=1)),
    (MONDAY.replace(hour=20), MONDAY.replace(hour=9) + timedelta(days=1)),
])
def test_redials_fall_inside_opening_hours(missed_at, redial_at):
    widget = Widget(business_numbers=[FIRST], redial_attempts=1, redial_interval_minutes=30,
                    time_zone="UTC", outside_hours="hidden",
                    opening_hours={day: [["09:00", "17:00"]] for day in ("mon", "tue")})
    plan = next_attempt(widget, [CallRequest(business_number=FIRST, attempt=1)],
                        missed_at.replace(tzinfo=None))
    assert (plan.reason, plan.scheduled_for) == ("redial", redial_at.replace(tzinfo=None))
