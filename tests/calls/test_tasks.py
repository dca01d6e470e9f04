"""Placing a call in the worker: outcomes, never dialling twice, unusable credentials."""

import json

import pytest
from cryptography.fernet import Fernet

from tests.factories import call_body, post_call
from widget_server.calls.tasks import place_call
from widget_server.extensions import db
from widget_server.models import CallRequest, ProviderAccount, Widget
from widget_server.providers import PROVIDERS
from widget_server.providers.simulator import SimulatorProvider
from widget_server.security.keys import fernet


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


def test_busy_visitor_is_told_to_try_again(app, client, widget):
    shown = place(app, client, widget, "+12025550002")
    assert "busy" in shown["message"]


class CountingSimulator(SimulatorProvider):
    dials: list = []

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
