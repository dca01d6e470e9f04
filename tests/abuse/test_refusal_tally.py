"""A process adds refusals up in memory and writes them together: a flood of refused
requests costs the database one write a second, not one a request."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tests.factories import call_body, create_widget, post_call, statements_sent
from tests.waiting import wait_until
from widget_server.extensions import db
from widget_server.models import Account, RefusalCount

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the upsert differs there

REFUSED = 25


def stored(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(RefusalCount.reason, RefusalCount.count)).all()
        db.session.remove()
    return dict(rows)


def test_a_flood_of_refusals_is_counted_whole_in_one_write_after_the_interval(
        make_app, widget):
    app = make_app(REFUSAL_FLUSH_SECONDS=0.5)
    client = app.test_client()
    with statements_sent(app) as statements:
        answers = [post_call(client, call_body(app, client, widget, consent=False))
                   for _ in range(REFUSED)]
        answers.append(post_call(client, call_body(app, client, widget, phone="112")))
        wait_until(lambda: stored(app) == {"consent": REFUSED, "emergency": 1},
                   timeout=10, what="the refusals to be written")
    writes = [s for s in statements
              if s.lstrip().upper().startswith("INSERT INTO REFUSAL_COUNTS")]

    assert all(answer.status_code == 400 for answer in answers)
    # One statement for both reasons, unless the timer fired while the requests came.
    assert 1 <= len(writes) <= 3, writes


def test_what_a_process_holds_is_written_when_it_stops(make_app, widget):
    app = make_app(REFUSAL_FLUSH_SECONDS=3600)
    client = app.test_client()
    post_call(client, call_body(app, client, widget, consent=False))
    assert stored(app) == {}

    app.extensions["refusal_tally"].flush()  # what atexit runs in a stopping worker

    assert stored(app) == {"consent": 1}


def test_counts_a_failed_write_could_not_store_are_written_at_the_next_try(make_app, widget):
    app = make_app(REFUSAL_FLUSH_SECONDS=3600)
    client = app.test_client()
    post_call(client, call_body(app, client, widget, consent=False))
    tally = app.extensions["refusal_tally"]
    with app.app_context():  # the figures' table out of reach: every write fails
        db.session.execute(text("ALTER TABLE refusal_counts RENAME TO refusal_counts_away"))
        db.session.commit()
    tally.flush()
    with app.app_context():
        db.session.execute(text("ALTER TABLE refusal_counts_away RENAME TO refusal_counts"))
        db.session.commit()
    post_call(client, call_body(app, client, widget, consent=False))

    tally.flush()

    assert stored(app) == {"consent": 2}


def test_counts_of_a_widget_deleted_meanwhile_are_dropped_and_the_rest_written(
        make_app, widget, caplog):
    app = make_app(REFUSAL_FLUSH_SECONDS=3600)
    client = app.test_client()
    with app.app_context():
        doomed = create_widget(account=db.session.get(Account, widget.account_id),
                               domains=["shop.example", "localhost:5000"])
        db.session.expunge(doomed)
    for refused in (widget, doomed):
        post_call(client, call_body(app, client, refused, consent=False))
    tally = app.extensions["refusal_tally"]
    with app.app_context():  # gone in SQL between the refusal and the write
        db.session.execute(text("DELETE FROM allowed_domains WHERE widget_id = :id"),
                           {"id": doomed.id})
        db.session.execute(text("DELETE FROM widgets WHERE id = :id"), {"id": doomed.id})
        db.session.commit()

    tally.flush()  # refused on the gone widget's key: the other count is kept
    tally.flush()

    assert stored(app) == {"consent": 1}
    assert not tally.counts
    assert "1 refusals not counted: their widget is gone" in caplog.text
