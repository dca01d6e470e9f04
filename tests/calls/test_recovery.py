"""Calls a lost worker left dialing are resolved by recovery, never dialled twice.

The calls are stored as a worker leaves them (claimed, then killed before or
after the provider answered), their events aged past ``STALL_SECONDS``.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import create_account, create_widget
from widget_server.calls.recovery import recover_stalled_calls
from widget_server.calls.status import public_status
from widget_server.extensions import db
from widget_server.models import CallEvent, CallRequest, ProviderAccount, Widget, utcnow
from widget_server.services.provider_accounts import encrypt_credentials

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

STALL = 60


@pytest.fixture
def stall_app(app):
    app.config.update(STALL_SECONDS=STALL)
    return app


def widget_on(kind: str) -> int:
    owner = create_account(name=f"owner-{kind}-{uuid.uuid4().hex[:8]}")
    account = ProviderAccount(account_id=owner.id, name="main", kind=kind,
                              base_url="http://127.0.0.1:9", options={"holdfile": "17"},
                              credentials_encrypted=encrypt_credentials({"uid": "u", "pin": "p"}))
    db.session.add(account)
    db.session.commit()
    return create_widget(account=owner, provider_account=account).id


def left_dialing(app, kind: str, *, after_claim=(), age: float = STALL + 5,
                 provider_call_id: str | None = None) -> int:
    """A call claimed by a worker that then died; ``after_claim`` events it recorded first."""
    with app.app_context():
        widget = db.session.get(Widget, widget_on(kind))
        call = CallRequest(widget_id=widget.id, account_id=widget.account_id,
                           visitor_number="+12025550123", visitor_country="US",
                           client_ip="203.0.113.9", page_origin="https://shop.example",
                           provider_kind=kind, status="dialing",
                           provider_call_id=provider_call_id)
        call.events = [CallEvent(status="queued"),
                       CallEvent(status="dialing"),
                       *[CallEvent(status=status, detail=detail)
                         for status, detail in after_claim]]
        db.session.add(call)
        db.session.commit()
        old = utcnow() - timedelta(seconds=age)
        db.session.execute(update(CallEvent).where(CallEvent.call_id == call.id).values(at=old))
        db.session.execute(update(CallRequest).where(CallRequest.id == call.id)
                           .values(updated_at=old))
        db.session.commit()
        call_id = call.id
        db.session.remove()
    return call_id


def recover(app) -> list[tuple[int, str]]:
    with app.app_context():
        return recover_stalled_calls()


def state(app, call_id: int) -> tuple[str, str | None, dict]:
    with app.app_context():
        call = db.session.get(CallRequest, call_id)
        result = call.status, call.reason, public_status(call)
        db.session.remove()
    return result


EXCHANGE_WITHOUT_ANSWER = ("dialing", {"exchange": {"method": "POST", "error": "ReadTimeout"}})


def test_a_call_lost_while_placing_with_a_deduplicating_provider_is_placed_again(stall_app):
    call_id = left_dialing(stall_app, "c2c-php", after_claim=[EXCHANGE_WITHOUT_ANSWER])
    assert recover(stall_app) == [(call_id, "place")]
    status, reason, _ = state(stall_app, call_id)
    assert (status, reason) == ("queued", "retrying")


def test_a_call_lost_while_placing_with_a_provider_that_may_ring_twice_fails_honestly(
        stall_app):
    call_id = left_dialing(stall_app, "dialogtech")
    assert recover(stall_app) == []
    status, reason, public = state(stall_app, call_id)
    assert (status, reason) == ("failed", "worker_lost")
    assert "lost track of your call" in public["message"]


def test_a_placed_call_whose_polling_was_lost_is_polled_again_and_stays_dialing(stall_app):
    call_id = left_dialing(stall_app, "c2c-php", provider_call_id="880001",
                           after_claim=[("dialing", {"leg": "business"})])
    assert recover(stall_app) == [(call_id, "poll")]
    assert state(stall_app, call_id)[:2] == ("dialing", None)
    # Resuming counts as a sign of life: the next pass leaves it to the poll.
    assert recover(stall_app) == []


def test_a_placed_call_waiting_for_a_provider_callback_is_left_alone(stall_app):
    call_id = left_dialing(stall_app, "calledin",
                           after_claim=[("dialing", {"leg": "business", "awaiting": "callback"})])
    assert recover(stall_app) == []
    assert state(stall_app, call_id)[:2] == ("dialing", None)


def test_a_callback_that_never_comes_ends_the_call_with_an_unknown_outcome(stall_app):
    stall_app.config.update(CALLBACK_WAIT_SECONDS=STALL * 10)
    waiting = [("dialing", {"leg": "business", "awaiting": "callback"})]
    recent = left_dialing(stall_app, "calledin", after_claim=waiting, age=STALL * 5)
    forgotten = left_dialing(stall_app, "calledin", after_claim=waiting, age=STALL * 11)
    assert recover(stall_app) == []
    assert state(stall_app, recent)[:2] == ("dialing", None)
    status, reason, public = state(stall_app, forgotten)
    assert (status, reason) == ("completed", "outcome_unknown")
    assert "cannot see how it ended" in public["message"]


def test_calls_waiting_for_callbacks_do_not_crowd_out_a_call_to_recover(stall_app,
                                                                        monkeypatch):
    monkeypatch.setattr("widget_server.calls.recovery.BATCH", 2)
    waiting = [("dialing", {"leg": "business", "awaiting": "callback"})]
    for _ in range(5):
        left_dialing(stall_app, "calledin", after_claim=waiting)
    lost = left_dialing(stall_app, "dialogtech")
    assert recover(stall_app) == []
    assert state(stall_app, lost)[:2] == ("failed", "worker_lost")


def test_a_call_with_recent_news_is_not_stalled(stall_app):
    call_id = left_dialing(stall_app, "dialogtech", age=STALL - 20)
    assert recover(stall_app) == []
    assert state(stall_app, call_id)[:2] == ("dialing", None)


def test_two_recoverers_at_once_act_on_each_call_only_once(stall_app):
    call_ids = [left_dialing(stall_app, "c2c-php") for _ in range(12)]
    start = threading.Barrier(2)
    found: list[list] = [[], []]

    def run(slot: int) -> None:
        with stall_app.app_context():
            start.wait()
            found[slot] = recover_stalled_calls()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(found[0] + found[1]) == [(call_id, "place") for call_id in call_ids]
    with stall_app.app_context():
        requeued = db.session.scalars(select(CallEvent.call_id).where(
            CallEvent.reason == "retrying")).all()
        db.session.remove()
    assert sorted(requeued) == call_ids


def left_queued(app, *, age: float, scheduled_in: float | None = None) -> int:
    """A call whose queue task was lost: still queued, untouched for ``age`` seconds."""
    call_id = left_dialing(app, "c2c-php", age=age)
    with app.app_context():
        scheduled = (utcnow() + timedelta(seconds=scheduled_in)
                     if scheduled_in is not None else None)
        db.session.execute(update(CallRequest).where(CallRequest.id == call_id).values(
            status="queued", scheduled_for=scheduled,
            updated_at=utcnow() - timedelta(seconds=age)))
        db.session.commit()
    return call_id


def test_a_due_call_stranded_in_queued_is_queued_again_once(stall_app):
    stranded = left_queued(stall_app, age=STALL + 5)
    fresh = left_queued(stall_app, age=1)
    later = left_queued(stall_app, age=STALL + 5, scheduled_in=3600)
    assert recover(stall_app) == [(stranded, "place")]
    assert recover(stall_app) == []
    assert state(stall_app, stranded)[0] == "queued"
    assert {state(stall_app, fresh)[0], state(stall_app, later)[0]} == {"queued"}
