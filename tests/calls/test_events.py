"""A call's news reaches subscribers (mail, webhooks) in order and once: named from its
stored steps, published by the worker, a callback or the sweep, never twice."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.embed.test_opening_hours import hours_closed_now, make_widget, make_widget_slot
from tests.factories import call_body, post_call
from widget_server.call_states import CallState
from widget_server.calls.events import name_events, publish_call_events, unpublished_calls
from widget_server.extensions import db
from widget_server.models import CallEvent, CallRequest, utcnow


@pytest.fixture
def received(app):
    """What a subscriber was handed, and what it did once the publication committed."""
    seen = {"events": [], "committed": []}

    def subscriber(call, events):
        seen["events"].extend((call.public_id, e.type) for e in events)
        return lambda: seen["committed"].extend(e.type for e in events)

    app.extensions["call_event_subscribers"].append(subscriber)
    return seen


def request_call(app, client, widget, phone="+12025550123", **overrides):
    response = post_call(client, call_body(app, client, widget, phone=phone, **overrides))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["call_id"]


@pytest.mark.parametrize("phone, events", [
    ("+12025550123", ["call.requested", "call.dialing", "call.connected", "call.completed"]),
    ("+12025550002", ["call.requested", "call.dialing", "call.failed"]),
    ("+12025550005", ["call.requested", "call.dialing", "call.rejected"]),
])
def test_each_call_tells_its_story_once_in_order(app, client, widget, received, phone, events):
    public_id = request_call(app, client, widget, phone)
    assert received["events"] == [(public_id, name) for name in events]
    assert received["committed"] == events
    with app.app_context():
        call_id = db.session.scalar(select(CallRequest.id))
        assert publish_call_events(call_id) == 0  # published already: nothing again
        assert unpublished_calls() == []
    assert len(received["events"]) == len(events)


def test_a_retry_or_a_provider_exchange_is_not_news():
    def step(status, reason=None, detail=None):
        return CallEvent(id=len(steps) + 1, status=status, reason=reason, detail=detail or {},
                         at=utcnow())

    steps = []
    for status, reason, detail in [
        (CallState.QUEUED, None, None), (CallState.DIALING, None, None),
        (CallState.DIALING, None, {"exchange": {"status": 500}}),
        (CallState.QUEUED, "retrying", None), (CallState.DIALING, None, None),
        (CallState.RINGING, None, None), (CallState.COMPLETED, "no_answer", None),
    ]:
        steps.append(step(status, reason, detail))
    assert [e.type for e in name_events(steps)] == [
        "call.requested", "call.dialing", "call.completed"]


@pytest.mark.parametrize("first_reason, first_event", [
    (None, "call.requested"), ("scheduled", "call.scheduled"),
    ("next_number", "call.redialed"), ("redial", "call.redialed"),
    ("call_now", "call.redialed"), ("callback", "call.scheduled"),
])
def test_an_attempt_tells_why_it_was_made_by_its_first_event(first_reason, first_event):
    """Each attempt at a request is a call of its own (calls/redial.py)."""
    steps = [CallEvent(id=1, status=CallState.QUEUED, reason=first_reason, detail={},
                       at=utcnow()),
             CallEvent(id=2, status=CallState.DIALING, detail={}, at=utcnow())]
    assert [e.type for e in name_events(steps)] == [first_event, "call.dialing"]


def test_a_call_booked_for_later_is_news_at_once(app, client, received):
    hours = hours_closed_now()
    widget = make_widget(app, opening_hours=hours, outside_hours="callback")
    request_call(app, client, widget, callback_at=make_widget_slot(hours))
    assert [name for _, name in received["events"]] == ["call.scheduled"]


def test_events_nobody_published_are_found_by_the_sweep(app, client, widget, received):
    received_subscriber = app.extensions["call_event_subscribers"].pop()
    request_call(app, client, widget)
    with app.app_context():
        # As if the publisher had crashed before its commit: the cursor never moved.
        call = db.session.scalar(select(CallRequest))
        call.published_event_id = None
        db.session.commit()
        assert unpublished_calls() == [call.id]
        app.extensions["call_event_subscribers"].append(received_subscriber)
        app.extensions["call_tasks"].publish_unpublished_events()
        assert unpublished_calls() == []
        old = db.session.scalar(select(CallRequest))
        old.updated_at = utcnow() - timedelta(days=3)
        old.published_event_id = None
        db.session.commit()
        assert unpublished_calls() == []  # beyond the horizon: left alone
    assert [name for _, name in received["events"]] == [
        "call.requested", "call.dialing", "call.connected", "call.completed"]


def test_two_publishers_at_once_hand_each_event_on_once(app, client, widget, received):
    request_call(app, client, widget)
    with app.app_context():
        call = db.session.scalar(select(CallRequest))
        call.published_event_id = None
        db.session.commit()
        call_id = call.id
    received["events"].clear()
    received["committed"].clear()
    start = threading.Barrier(4)
    counts = []

    def publisher():
        with app.app_context():
            start.wait()
            counts.append(publish_call_events(call_id))
            db.session.remove()

    threads = [threading.Thread(target=publisher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 0, 0, 4]
    assert received["committed"] == [
        "call.requested", "call.dialing", "call.connected", "call.completed"]
