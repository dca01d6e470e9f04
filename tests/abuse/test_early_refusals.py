"""An attack is mostly refusals: a replayed form and a full cap are refused before the
captcha is checked, from one read or none (what the process has just seen spent or
full); the write transaction's checks stay the authority."""

from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import update

from tests.factories import call_body, create_widget, post_call, statements_sent
from widget_server.abuse.caps import FULL_CAP_MEMORY_SECONDS, KnownFull
from widget_server.extensions import db
from widget_server.models import Account, UsageCounter, Widget

pytestmark = pytest.mark.databases("sqlite", "postgresql")

NOT_A_SOLUTION = "bm90IGEgc29sdXRpb24="


def test_a_replayed_form_is_refused_as_spent_before_its_captcha_is_looked_at(app, client, widget):
    body = call_body(app, client, widget)
    first = post_call(client, body)

    replay = post_call(client, body | {"captcha": NOT_A_SOLUTION})

    assert first.status_code == 202
    assert replay.status_code == 403 and replay.get_json()["error"] == "nonce_used"


def test_a_form_replayed_to_the_process_that_took_it_is_refused_without_reading_its_standing(
        app, client, widget):
    body = call_body(app, client, widget)
    first = post_call(client, body)
    with statements_sent(app) as statements:
        replays = [post_call(client, body) for _ in range(3)]

    assert first.status_code == 202
    assert [(r.status_code, r.get_json()["error"]) for r in replays] == [(403, "nonce_used")] * 3
    # Nothing is read: not the standing, which would ask for the nonce, nor the
    # settings version (a spent nonce is spent whatever the widget's settings). The
    # tests write the refusal counts at once; a server adds them up in memory.
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert reads == []


def test_a_form_spent_through_another_process_is_refused_by_the_read(make_app, widget):
    first_app, second_app = make_app(), make_app()
    body = call_body(first_app, first_app.test_client(), widget)
    admitted = post_call(first_app.test_client(), body)

    replayed = post_call(second_app.test_client(), body)
    again = post_call(second_app.test_client(), body)

    assert admitted.status_code == 202
    assert replayed.get_json()["error"] == again.get_json()["error"] == "nonce_used"


def test_a_request_against_a_full_cap_is_refused_before_its_captcha_is_looked_at(
        app, client, widget):
    app.config.update(CAP_PER_WIDGET=1)
    first = post_call(client, call_body(app, client, widget))

    over = post_call(client, call_body(app, client, widget, phone="+12025550142",
                                       captcha=NOT_A_SOLUTION))
    with_solution = post_call(client, call_body(app, client, widget, phone="+12025550143"))

    assert first.status_code == 202
    assert over.status_code == with_solution.status_code == 429
    assert over.get_json()["error"] == with_solution.get_json()["error"] == "cap_widget"


def test_with_room_under_the_caps_a_bad_captcha_is_still_refused(app, client, widget):
    refused = post_call(client, call_body(app, client, widget, captcha=NOT_A_SOLUTION))

    assert refused.status_code in (400, 403)
    assert refused.get_json()["error"].startswith("captcha")


def _remember_full_caps_for(app, seconds: float) -> None:
    """Hold caps found full longer than in service, for a test that needs the memory
    to last however slow the machine it runs on."""
    app.extensions["known_full_caps"] = KnownFull(ttl_seconds=seconds)


_LINES = itertools.count(150)


def _bodies(app, client, widget, count: int) -> list[dict]:
    """``count`` valid call requests, each for a number no other has, their captchas
    solved."""
    return [call_body(app, client, widget, phone=f"+1202555{next(_LINES):04d}")
            for _ in range(count)]


def test_a_cap_found_full_refuses_the_next_requests_without_a_read(app, client, widget):
    _remember_full_caps_for(app, 60)
    app.config.update(CAP_PER_WIDGET=1)
    first, found, *flood = _bodies(app, client, widget, 5)
    assert post_call(client, first).status_code == 202
    found_full = post_call(client, found)

    with statements_sent(app) as statements:
        refused = [post_call(client, body) for body in flood]

    assert found_full.status_code == 429
    assert [(r.status_code, r.get_json()["error"]) for r in refused] == [(429, "cap_widget")] * 3
    # Told to come back tomorrow, as the refusal from the read says.
    assert all(abs(int(r.headers["Retry-After"]) - int(found_full.headers["Retry-After"])) <= 2
               for r in refused)
    assert [s for s in statements if s.lstrip().upper().startswith("SELECT")] == []


def test_a_cap_raised_after_it_was_found_full_admits_at_once(app, client, widget):
    _remember_full_caps_for(app, 60)
    app.config.update(CAP_PER_WIDGET=1)
    first, found, after_raise = _bodies(app, client, widget, 3)
    assert post_call(client, first).status_code == 202
    assert post_call(client, found).status_code == 429

    app.config.update(CAP_PER_WIDGET=2)

    assert post_call(client, after_raise).status_code == 202


def test_a_call_given_back_is_admitted_within_the_memory_even_under_a_flood(
        app, client, widget):
    memory = 2
    _remember_full_caps_for(app, memory)
    app.config.update(CAP_PER_WIDGET=1)
    first, found, *flood = _bodies(app, client, widget, 40)
    assert post_call(client, first).status_code == 202
    assert post_call(client, found).status_code == 429
    with app.app_context():  # as a call the queue refused is given back
        db.session.execute(update(UsageCounter).where(UsageCounter.scope == "widget")
                           .values(count=0))
        db.session.commit()
    given_back_at = time.monotonic()

    statuses = []
    for body in flood:  # refusals from memory do not make it last longer
        statuses.append(post_call(client, body).status_code)
        if statuses[-1] != 429 or time.monotonic() > given_back_at + memory + 2:
            break
        time.sleep(0.1)
    admitted_after = time.monotonic() - given_back_at

    assert statuses[0] == 429  # still remembered full
    assert statuses[-1] == 202 and admitted_after < memory + 2, statuses


def test_at_a_cap_found_full_the_refusals_that_need_no_read_keep_their_order(
        app, client, widget):
    _remember_full_caps_for(app, 60)
    app.config.update(CAP_PER_WIDGET=1)
    first, found, without_consent, bad_number = _bodies(app, client, widget, 4)
    assert post_call(client, first).status_code == 202
    assert post_call(client, found).status_code == 429

    with statements_sent(app) as statements:  # from memory: nothing read
        no_consent = post_call(client, without_consent | {"consent": False})
    not_a_number = post_call(client, bad_number | {"phone": "12"})

    assert [s for s in statements if s.lstrip().upper().startswith("SELECT")] == []
    assert (no_consent.status_code, no_consent.get_json()["error"]) == (400, "consent_missing")
    assert not_a_number.get_json()["error"].startswith("phone_")


def _set_widget_cap(app, widget, cap: int) -> None:
    """As the admin does, in the database: a kept widget learns of it from the
    settings version."""
    with app.app_context():
        db.session.execute(update(Widget).where(Widget.id == widget.id)
                           .values(cap_per_widget=cap))
        db.session.commit()
        db.session.remove()


def test_a_cap_closed_then_opened_again_admits_once_the_memory_lapses(app, client, widget):
    first, closed, reopened = _bodies(app, client, widget, 3)
    assert post_call(client, first).status_code == 202  # the widget is now kept
    _set_widget_cap(app, widget, 0)
    refused = post_call(client, closed)
    _set_widget_cap(app, widget, 50)
    time.sleep(FULL_CAP_MEMORY_SECONDS)

    admitted = post_call(client, reopened)

    assert (refused.status_code, refused.get_json()["error"]) == (429, "cap_widget")
    assert admitted.status_code == 202, admitted.get_json()


def test_a_kept_widget_a_read_found_stale_is_not_refused_from_memory(app, client, widget):
    """Another widget of the account keeps the account's cap full and remembered; a
    read on its behalf sees the settings move, so the first widget, paused since
    it was kept, is read afresh and told so, not the cap from its stale copy."""
    _remember_full_caps_for(app, 60)
    with app.app_context():
        account = db.session.get(Account, widget.account_id)
        sibling = create_widget(account=account)
        db.session.expunge(sibling)
        db.session.execute(update(Account).where(Account.id == account.id)
                           .values(daily_call_cap=1))
        db.session.commit()
    first, = _bodies(app, client, widget, 1)
    flood = _bodies(app, client, sibling, 2)
    last, = _bodies(app, client, widget, 1)
    assert post_call(client, first).status_code == 202  # kept, the account now full
    assert post_call(client, flood[0]).get_json()["error"] == "cap_account"  # remembered
    with app.app_context():
        db.session.execute(update(Widget).where(Widget.id == widget.id).values(paused=True))
        db.session.commit()
    # The sibling's settings are read again (as when its memory lapses), seeing the edit.
    app.extensions["live_widgets"].cache.pop(sibling.public_id)
    assert post_call(client, flood[1]).get_json()["error"] == "cap_account"

    refused = post_call(client, last)

    assert refused.get_json()["error"] == "widget_paused"
