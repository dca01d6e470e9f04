"""Harassment guard: a number that keeps not answering is not called for a day.

Calls go through the embed endpoint and the simulator (placed inline: the
queue runs immediately in tests), whose visitor numbers ending in 0003 do not
answer and 0002 are busy. Widgets belong to different tenants: the count is
the installation's.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import call_body, create_account, create_call, create_widget, post_call
from widget_server.abuse.cooldown import COOLED_UNTIL, note_unanswered
from widget_server.calls.placing import record
from widget_server.extensions import db
from widget_server.models import CallRequest, UnansweredNumber, utcnow

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

NO_ANSWER, BUSY, ANSWERS = "+12025550003", "+12025550002", "+12025550123"
DAY = 24 * 3600


def cooled_until(e164, now):
    """Until when ``e164`` rests after ``now``, as the call request and the worker read it."""
    return db.session.scalar(COOLED_UNTIL, {"e164": e164, "now": now})


@pytest.fixture
def roomy(app):
    """Caps out of the way: only the guard stops a number here."""
    app.config.update(CAP_PER_NUMBER_PER_MINUTE=1000, CEILING_PER_NUMBER=1000,
                      CAP_PER_NUMBER=1000, CEILING_PER_IP=1000, CAP_PER_IP=1000)
    return app


def widgets(app, count: int, **fields) -> list:
    with app.app_context():
        made = [create_widget(account=create_account(name=f"tenant-{uuid.uuid4().hex[:8]}"),
                              domains=["shop.example"], **fields) for n in range(count)]
        for widget in made:
            db.session.expunge(widget)
        return made


def ask(app, client, widget, phone: str):
    return post_call(client, call_body(app, client, widget, phone=phone))


def outcome(client, accepted) -> tuple[str, str | None]:
    shown = client.get(accepted.get_json()["status_url"],
                       headers={"X-Call-Token": accepted.get_json()["call_token"]}).get_json()
    return shown["status"], shown["reason"]


def test_n_unanswered_calls_over_several_widgets_cool_the_number_down_for_a_day(roomy, client):
    first, second, third = widgets(roomy, 3)
    german = widgets(roomy, 1, language="de")[0]
    for widget in (first, second, third):
        accepted = ask(roomy, client, widget, NO_ANSWER)
        assert accepted.status_code == 202, accepted.get_json()
        assert outcome(client, accepted) == ("failed", "no_answer")
    for widget in (first, german):
        refused = ask(roomy, client, widget, NO_ANSWER)
        assert refused.status_code == 429, refused.get_json()
        assert refused.get_json()["error"] == "number_cooling_down"
        assert DAY - 60 <= int(refused.headers["Retry-After"]) <= DAY
    assert refused.get_json()["message"].startswith("Diese Nummer hat mehrere Rückrufe")
    # Other numbers are not touched, and nothing was stored for the refused requests.
    assert ask(roomy, client, first, ANSWERS).status_code == 202
    with roomy.app_context():
        assert len(db.session.scalars(select(CallRequest).where(
            CallRequest.visitor_number == NO_ANSWER)).all()) == 3


def test_fewer_unanswered_calls_than_the_setting_leave_the_number_callable(roomy, client):
    roomy.config["UNANSWERED_BEFORE_COOLDOWN"] = 4
    widget = widgets(roomy, 1)[0]
    for _ in range(3):
        assert ask(roomy, client, widget, BUSY).status_code == 202
    assert ask(roomy, client, widget, BUSY).status_code == 202  # the fourth is placed
    refused = ask(roomy, client, widget, BUSY)
    assert refused.status_code == 429 and refused.get_json()["error"] == "number_cooling_down"


def stored_call(app, widget, number: str) -> int:
    with app.app_context():
        return create_call(widget=widget, number=number, status="ringing").id


@pytest.mark.parametrize("reason, counts", [
    ("busy", True), ("no_answer", True), ("visitor_not_reached", True),
    ("hung_up", True), ("ring_timeout", True), ("line_busy", True),  # called.in
    ("business_not_reached", False), ("business_no_answer", False), ("network_error", False),
    ("call_failed", False), ("congestion", False),
])
def test_only_an_unanswered_visitor_leg_counts(app, reason, counts):
    app.config["UNANSWERED_BEFORE_COOLDOWN"] = 1
    widget = widgets(app, 1)[0]
    call_id = stored_call(app, widget, NO_ANSWER)
    with app.app_context():
        record(call_id, "failed", reason)
        assert (cooled_until(NO_ANSWER, utcnow()) is not None) is counts


def test_an_answered_call_counts_nothing(app):
    app.config["UNANSWERED_BEFORE_COOLDOWN"] = 1
    widget = widgets(app, 1)[0]
    with app.app_context():
        record(stored_call(app, widget, NO_ANSWER), "completed")
        assert db.session.scalars(select(UnansweredNumber)).all() == []


def test_unanswered_calls_more_than_a_day_apart_do_not_add_up(app):
    start = utcnow()
    with app.app_context():
        for hours in (0, 1, 26):  # the third is past the first's day: the count starts again
            note_unanswered(NO_ANSWER, start + timedelta(hours=hours))
        db.session.commit()
        assert cooled_until(NO_ANSWER, start + timedelta(hours=26)) is None
        note_unanswered(NO_ANSWER, start + timedelta(hours=27))
        note_unanswered(NO_ANSWER, start + timedelta(hours=28))
        db.session.commit()
        until = cooled_until(NO_ANSWER, start + timedelta(hours=28))
        assert until == start + timedelta(hours=28 + 24)
        # Over after its day; the count started again at the cool-down.
        assert cooled_until(NO_ANSWER, until) is None
        row = db.session.get(UnansweredNumber, NO_ANSWER)
        assert row.count == 0


def test_the_guard_is_off_at_zero(roomy, client):
    roomy.config["UNANSWERED_BEFORE_COOLDOWN"] = 0
    widget = widgets(roomy, 1)[0]
    for _ in range(4):
        assert ask(roomy, client, widget, NO_ANSWER).status_code == 202
    with roomy.app_context():
        assert db.session.scalars(select(UnansweredNumber)).all() == []
