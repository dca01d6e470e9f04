"""Placing a call in the worker: outcomes, never dialling twice, unusable credentials, and
a booked call whose number was blocked or cooled down before it fell due."""

import json
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from tests.factories import (
    RESELL_RIVAL,
    admin_post,
    call_body,
    create_tree,
    post_call,
    signed_in,
)
from tests.waiting import wait_until
from widget_server.abuse.cooldown import note_unanswered
from widget_server.call_states import CallState
from widget_server.calls.placing import place_call
from widget_server.calls.queue import start_in_process_consumer
from widget_server.extensions import db
from widget_server.models import Account, CallRequest, ProviderAccount, Widget
from widget_server.providers import PROVIDERS
from widget_server.providers.simulator import SimulatorProvider
from widget_server.security.keys import fernet
from widget_server.services.blocked_numbers import block_number

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there


def place(app, client, widget, phone="+12025550123"):
    response = post_call(client, call_body(app, client, widget, phone=phone))
    assert response.status_code == 202, response.get_json()
    accepted = response.get_json()
    return client.get(accepted["status_url"],
                      headers={"X-Call-Token": accepted["call_token"]}).get_json()


@pytest.mark.parametrize("phone, status, reason", [
    ("+12025550123", "completed", None),
    ("+12025550002", "failed", "busy"),
    ("+12025550003", "failed", "no_answer"),
    ("+12025550004", "failed", "network_error"),
    ("+12025550005", "rejected", "no_credit"),
])
def test_simulator_outcome_follows_the_documented_test_numbers(app, client, widget, phone,
                                                                status, reason):
    shown = place(app, client, widget, phone)
    assert (shown["status"], shown["reason"]) == (status, reason)
    assert shown["message"][-1] in ".!"


def test_states_are_stored_as_the_words_earlier_releases_stored(app, client, widget):
    # CallState is a StrEnum: its values, never its member names, reach the database,
    # so rows written before it existed read the same (no migration).
    shown = place(app, client, widget, "+12025550002")
    with app.app_context():
        stored = db.session.execute(text("SELECT status FROM call_requests")).scalars().all()
        steps = db.session.execute(text("SELECT status FROM call_events")).scalars().all()
    assert stored == [shown["status"]] == ["failed"]
    assert {"queued", "dialing", "ringing", "failed"} <= set(steps) <= set(CallState)


def test_busy_visitor_is_told_to_try_again(app, client, widget):
    shown = place(app, client, widget, "+12025550002")
    assert "busy" in shown["message"]


class CountingSimulator(SimulatorProvider):
    dials: ClassVar[list] = []

    def place_call(self, order, report):
        self.dials.append(order.call_id)
        super().place_call(order, report)


def test_running_the_task_again_never_dials_twice(app, client, widget, monkeypatch):
    monkeypatch.setitem(PROVIDERS, "simulator", CountingSimulator)
    CountingSimulator.dials = []
    shown = place(app, client, widget)
    with app.app_context():
        call = db.session.scalar(db.select(CallRequest))
        place_call(call.id)
        place_call(call.id)
    assert CountingSimulator.dials == [shown["call_id"]]


def test_a_credential_that_does_not_decrypt_stops_the_call(app, client, widget):
    with app.app_context():
        foreign_key = Fernet(Fernet.generate_key())
        account = ProviderAccount(account_id=widget.account_id, name="old", kind="simulator",
                                  credentials_encrypted=foreign_key.encrypt(b'{"pin": "1"}')
                                  .decode())
        db.session.add(account)
        db.session.get(Widget, widget.id).provider_account = account
        db.session.commit()
    shown = place(app, client, widget)
    assert (shown["status"], shown["reason"]) == ("failed", "provider_credentials")
    assert "connected" not in [event["status"] for event in shown["events"]]


def test_credentials_are_decrypted_for_the_provider(app, client, widget, monkeypatch):
    seen = []

    class Recording(SimulatorProvider):
        def place_call(self, order, report):
            seen.append(self.credentials)
            super().place_call(order, report)

    monkeypatch.setitem(PROVIDERS, "simulator", Recording)
    with app.app_context():
        account = ProviderAccount(account_id=widget.account_id, name="main", kind="simulator",
                                  credentials_encrypted=fernet(app.config).encrypt(
                                      json.dumps({"pin": "4242"}).encode()).decode())
        db.session.add(account)
        db.session.get(Widget, widget.id).provider_account = account
        db.session.commit()
    assert place(app, client, widget)["status"] == "completed"
    assert seen == [{"pin": "4242"}]


def test_business_is_rung_before_the_visitor(app, client, widget):
    shown = place(app, client, widget)
    with app.app_context():
        call = db.session.scalar(db.select(CallRequest))
        legs = [event.detail.get("leg") for event in call.events if event.detail]
    assert legs[0] == "business" and set(legs[1:]) == {"visitor"}
    assert shown["status"] == "completed"


# -- a call booked for later is looked at again when it falls due -------------------------

BOOKED = "+12025550177"


def book_for_later(app, widget_id: int, phone: str = BOOKED, *, in_seconds: int = 3600):
    """A visitor books a call-back on an always-open call-back widget; (call id, due, answer)."""
    with app.app_context():
        row = db.session.get(Widget, widget_id)
        row.outside_hours = "callback"
        db.session.commit()
        db.session.expunge(row)
    client = app.test_client()
    body = call_body(app, client, row, phone=phone)  # solving the captcha takes a while
    due = (datetime.now(UTC) + timedelta(seconds=in_seconds)).replace(microsecond=0)
    response = post_call(client, body | {"callback_at": due.isoformat()})
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        call = db.session.scalar(select(CallRequest).where(
            CallRequest.public_id == response.get_json()["call_id"]))
        assert (call.status, call.reason) == ("queued", "scheduled")
        return call.id, due.replace(tzinfo=None), response.get_json()


def assert_cancelled_not_dialled(app, call_id: int, reason: str) -> None:
    with app.app_context():
        call = db.session.get(CallRequest, call_id)
        assert (call.status, call.reason) == ("rejected", reason)
        assert [event.status for event in call.events] == ["queued", "rejected"]


def visitor_sees(client, accepted: dict) -> dict:
    return client.get(accepted["status_url"],
                      headers={"X-Call-Token": accepted["call_token"]}).get_json()


def test_a_booked_call_to_a_number_blocked_from_its_call_page_is_cancelled_not_dialled(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    call_id, due, accepted = book_for_later(app, tenants.widgets["client shop"])
    member = signed_in(app, "member@resell.example")
    blocked = admin_post(member, f"/admin/reports/calls/{accepted['call_id']}/block")
    assert blocked.status_code == 302
    with app.app_context():
        assert place_call(call_id, now=due) == "done"
    assert_cancelled_not_dialled(app, call_id, "phone_blocked")
    shown = visitor_sees(app.test_client(), accepted)
    assert (shown["status"], shown["reason"]) == ("rejected", "phone_blocked")
    assert shown["message"] == ("This number cannot be called from this site, so the "
                                "call-back you booked was cancelled.")


def test_a_booked_call_to_a_number_the_reseller_blocked_later_is_cancelled(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    call_id, due, _ = book_for_later(app, tenants.widgets["client shop"])
    added = admin_post(signed_in(app, "owner@resell.example"),
                       f"/admin/accounts/{tenants.ids['resell']}/blocked-numbers",
                       number=BOOKED, country="")
    assert added.status_code == 302
    with app.app_context():
        assert place_call(call_id, now=due - timedelta(seconds=1)) == "wait"
        assert db.session.get(CallRequest, call_id).status == "queued"
        assert place_call(call_id, now=due) == "done"
    assert_cancelled_not_dialled(app, call_id, "phone_blocked")


def test_a_booked_call_of_a_client_suspended_meanwhile_is_cancelled(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    call_id, due, accepted = book_for_later(app, tenants.widgets["client shop"])
    suspended = admin_post(signed_in(app, "owner@resell.example"),
                           f"/admin/accounts/{tenants.ids['client-a']}/suspend")
    assert suspended.status_code == 302
    with app.app_context():
        assert place_call(call_id, now=due) == "done"
    assert_cancelled_not_dialled(app, call_id, "account_suspended")
    shown = visitor_sees(app.test_client(), accepted)
    assert shown["message"] == "Call-backs are not available on this site at the moment."


def test_a_booked_call_under_a_reseller_suspended_meanwhile_is_cancelled(app):
    # A suspension reaches down: the worker reads the accounts above the call's too.
    tenants = create_tree(app, **RESELL_RIVAL)
    call_id, due, _ = book_for_later(app, tenants.widgets["client shop"])
    with app.app_context():
        db.session.get(Account, tenants.ids["resell"]).suspended_at = due
        db.session.commit()
        assert place_call(call_id, now=due) == "done"
    assert_cancelled_not_dialled(app, call_id, "account_suspended")


def test_a_booked_call_of_a_client_deleted_meanwhile_is_cancelled(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    call_id, due, _ = book_for_later(app, tenants.widgets["client shop"])
    deleted = admin_post(signed_in(app, "owner@resell.example"),
                         f"/admin/accounts/{tenants.ids['client-a']}/delete")
    assert deleted.status_code == 302
    with app.app_context():
        assert place_call(call_id, now=due) == "done"
    assert_cancelled_not_dialled(app, call_id, "widget_removed")


def test_a_booked_call_to_a_number_cooled_down_meanwhile_is_cancelled(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    call_id, due, accepted = book_for_later(app, tenants.widgets["client shop"])
    with app.app_context():
        for _ in range(app.config["UNANSWERED_BEFORE_COOLDOWN"]):
            note_unanswered(BOOKED, due - timedelta(hours=1))
        db.session.commit()
        assert place_call(call_id, now=due) == "done"
    assert_cancelled_not_dialled(app, call_id, "number_cooling_down")
    assert "booked was cancelled" in visitor_sees(app.test_client(), accepted)["message"]


def test_a_booked_call_blocked_only_by_an_unrelated_tenant_is_placed(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    call_id, due, _ = book_for_later(app, tenants.widgets["client shop"])
    with app.app_context():
        rival = db.session.get(Widget, tenants.widgets["rival shop"]).account
        block_number(rival, rival.id, BOOKED)
        assert place_call(call_id, now=due) == "done"
        assert db.session.get(CallRequest, call_id).status == "completed"


def test_a_real_consumer_cancels_a_booked_call_blocked_before_its_time(make_app):
    app = make_app(QUEUE_IMMEDIATE=False)
    tenants = create_tree(app, **RESELL_RIVAL)
    call_id, due, _ = book_for_later(app, tenants.widgets["client shop"], in_seconds=2)
    assert admin_post(signed_in(app, "member@resell.example"),
                      f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers",
                      number=BOOKED, country="").status_code == 302

    def status() -> str:
        with app.app_context():
            try:
                return db.session.get(CallRequest, call_id).status
            finally:
                db.session.remove()

    # Started once the number is blocked, so a slow machine cannot place the call first.
    consumer = start_in_process_consumer(app)
    try:
        wait_until(lambda: status() != "queued", what="the booked call to start", interval=0.1)
    finally:
        consumer.stop(graceful=False)
    assert datetime.now(UTC).replace(tzinfo=None) >= due
    assert_cancelled_not_dialled(app, call_id, "phone_blocked")
