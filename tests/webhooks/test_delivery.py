"""A call's events reach the account's endpoints signed, once each, in order, through failures.

The receiver is a real HTTP server on loopback; each body it accepted is
verified with the ``standardwebhooks`` package, as a receiver would.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask.cli import ScriptInfo
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.factories import call_body, create_account, create_user, create_widget, post_call
from widget_server.calls.queue import start_in_process_consumer
from widget_server.cli import main
from widget_server.extensions import db
from widget_server.models import (
    Account,
    MailDelivery,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from widget_server.services.errors import ServiceError
from widget_server.services.webhooks import create_endpoint
from widget_server.webhooks import EVENT_TYPES
from widget_server.webhooks.delivery import attempt, backoff

ANSWERED = ["call.requested", "call.dialing", "call.connected", "call.completed"]


def add_endpoint(app, account_id: int, url: str, events=EVENT_TYPES) -> tuple[int, str]:
    """An endpoint of the account, as its owner registers it: (id, signing secret)."""
    with app.app_context():
        account = db.session.get(Account, account_id)
        endpoint, secret = create_endpoint(account, account.id, url, list(events))
        return endpoint.id, secret


def place_call(app, widget, phone: str = "+12025550123", **fields) -> str:
    client = app.test_client()
    response = post_call(client, call_body(app, client, widget, phone=phone, **fields))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["call_id"]


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        db.session.expunge_all()
        return list(rows)


def verified(secret: str, received) -> dict:
    return Webhook(secret).verify(received.body, received.headers)


def test_every_event_arrives_once_in_order_through_a_timeout_and_two_500s(make_app, receiver):
    app = make_app(QUEUE_IMMEDIATE=False, WEBHOOK_TIMEOUT=0.5, WEBHOOK_RETRY_BASE=0.2)
    receiver.answers = ["timeout", 500, 500]
    with app.app_context():
        widget = create_widget(account=create_account(name="shop"))
        db.session.expunge(widget)
    _, secret = add_endpoint(app, widget.account_id, receiver.url)
    public_id = place_call(app, widget)
    consumer = start_in_process_consumer(app)
    try:
        accepted = receiver.wait_for(len(ANSWERED))
        time.sleep(0.5)  # a duplicate, were one coming, would arrive now
    finally:
        consumer.stop(graceful=False)
    accepted = receiver.accepted()
    assert [r.type for r in accepted] == ANSWERED
    bodies = [verified(secret, r) for r in accepted]
    assert {body["data"]["id"] for body in bodies} == {public_id}
    assert [body["data"]["state"] for body in bodies] == [
        "queued", "dialing", "connected", "completed"]
    assert len({r.headers["webhook-id"] for r in accepted}) == len(ANSWERED)
    # The first event took four attempts, under one webhook-id; the others waited their turn.
    assert [r.answer for r in receiver.received] == ["timeout", 500, 500] + [200] * 4
    assert {r.headers["webhook-id"] for r in receiver.received[:4]} == {
        accepted[0].headers["webhook-id"]}
    rows = deliveries(app)
    assert [(d.status, d.attempts) for d in rows] == [("delivered", 4)] + [("delivered", 1)] * 3


def test_a_tampered_body_or_another_secret_does_not_verify(app, widget, receiver):
    _, secret = add_endpoint(app, widget.account_id, receiver.url)
    _, other_secret = add_endpoint(app, widget.account_id, receiver.url + "/other")
    place_call(app, widget)
    first = receiver.accepted("/hooks/calls")[0]
    assert verified(secret, first)["type"] == "call.requested"
    with pytest.raises(WebhookVerificationError):
        Webhook(other_secret).verify(first.body, first.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(first.body.replace("queued", "dialing"), first.headers)


@pytest.mark.parametrize("status, retried", [
    (400, False), (401, False), (404, False), (410, False), (302, False),
    (408, True), (429, True), (500, True), (503, True),
])
def test_only_timeouts_5xx_408_and_429_are_tried_again(app, widget, receiver, status, retried):
    receiver.answers = [status]
    add_endpoint(app, widget.account_id, receiver.url, events=["call.requested",
                                                               "call.completed"])
    place_call(app, widget)
    first, second = deliveries(app)
    assert first.last_status_code == status and first.attempts == 1
    if retried:
        assert first.status == "pending" and first.next_attempt_at > utcnow()
        assert second.status == "pending" and second.attempts == 0  # waits its turn
    else:
        assert first.status == "failed" and first.next_attempt_at is None
        assert second.status == "delivered"  # the turn passed on
    assert len(receiver.received) == (1 if retried else 2)


def test_retry_after_is_honoured(app, widget, receiver):
    receiver.answers = [429]
    receiver.headers = {"Retry-After": "120"}
    add_endpoint(app, widget.account_id, receiver.url, events=["call.requested"])
    place_call(app, widget)
    (delivery,) = deliveries(app)
    assert delivery.status == "pending"
    assert delivery.next_attempt_at - delivery.last_attempt_at >= timedelta(seconds=119)


def test_backoff_doubles_from_ten_seconds_to_two_hours_with_jitter(app):
    spans = [10 * 2 ** n for n in range(10)] + [7200] * 5
    for attempts, span in enumerate(spans, start=1):
        for _ in range(20):
            assert span / 2 <= backoff(attempts, app.config) <= span
    assert len({backoff(3, app.config) for _ in range(10)}) > 1  # jittered


@pytest.mark.parametrize("age_hours, given_up", [(25, False), (26.1, True)])
def test_a_delivery_is_retried_for_26_hours_then_given_up(app, widget, receiver, age_hours,
                                                          given_up):
    receiver.then = 500
    add_endpoint(app, widget.account_id, receiver.url, events=["call.requested"])
    place_call(app, widget)
    with app.app_context():
        delivery = db.session.scalar(select(WebhookDelivery))
        delivery.created_at = utcnow() - timedelta(hours=age_hours)
        delivery.next_attempt_at = utcnow()
        db.session.commit()
        attempt(delivery.id)
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.attempts == 2
        assert delivery.status == ("failed" if given_up else "pending")


@pytest.mark.parametrize("failing_days, disabled", [(2.9, False), (3, True)])
def test_an_endpoint_failing_for_three_days_is_disabled_and_its_owners_mailed(
        app, widget, receiver, failing_days, disabled):
    receiver.then = 503
    endpoint_id, _ = add_endpoint(app, widget.account_id, receiver.url)
    with app.app_context():
        account = db.session.get(Account, widget.account_id)
        create_user(account=account, email="owner@shop.example")
        create_user(account=account, email="member@shop.example", role="member")
        db.session.get(WebhookEndpoint, endpoint_id).failing_since = (
            utcnow() - timedelta(days=failing_days))
        db.session.commit()
    place_call(app, widget)
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint.enabled is not disabled
        assert (endpoint.disabled_at is not None) is disabled
        mails = db.session.scalars(select(MailDelivery).where(
            MailDelivery.kind == "webhook_disabled")).all()
        assert [mail.recipient for mail in mails] == (["owner@shop.example"] if disabled
                                                      else [])
        if disabled:
            assert receiver.url in mails[0].text and mails[0].status == "logged"
    statuses = {d.status for d in deliveries(app)}
    assert statuses == ({"failed"} if disabled else {"pending"})
    receiver.received.clear()
    place_call(app, widget, phone="+12025550124")  # a disabled endpoint is sent nothing more
    assert bool(receiver.received) is not disabled


def test_a_success_ends_the_failure_window(app, widget, receiver):
    endpoint_id, _ = add_endpoint(app, widget.account_id, receiver.url)
    with app.app_context():
        db.session.get(WebhookEndpoint, endpoint_id).failing_since = utcnow() - timedelta(days=2)
        db.session.commit()
    place_call(app, widget)
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).failing_since is None


@pytest.mark.databases("sqlite", "postgresql")  # isolation is a query
def test_only_the_calls_own_account_is_told(app, receiver):
    with app.app_context():
        reseller = create_account(name="north", kind="reseller")
        shop = create_account(name="shop", parent_id=reseller.id)
        other = create_account(name="other")
        widget = create_widget(account=shop)
        db.session.expunge(widget)
        ids = {"reseller": reseller.id, "shop": shop.id, "other": other.id}
    for name, account_id in ids.items():
        add_endpoint(app, account_id, f"{receiver.url}/{name}")
    place_call(app, widget)
    assert {r.path for r in receiver.received} == {"/hooks/calls/shop"}
    assert len(receiver.received) == len(ANSWERED)


def test_only_the_chosen_events_are_sent(app, widget, receiver):
    add_endpoint(app, widget.account_id, receiver.url, events=["call.failed",
                                                               "call.completed"])
    place_call(app, widget)
    place_call(app, widget, phone="+12025550002")  # busy: failed
    assert [r.type for r in receiver.accepted()] == ["call.completed", "call.failed"]


@pytest.mark.parametrize("url, overrides, words", [
    ("http://127.0.0.1:9/hook", {"PROVIDER_PRIVATE_HOSTS": []}, "127.0.0.1 is a loopback"),
    ("http://10.1.2.3/hook", {}, "10.1.2.3 is a private address"),
    ("http://169.254.169.254/latest", {}, "link-local"),
    ("http://hooks.example.com/x", {"DEVELOPMENT": False}, "Start the address with https://"),
])
def test_a_private_or_plain_http_address_is_refused(make_app, url, overrides, words):
    app = make_app(**overrides)
    with app.app_context():
        account = create_account(name="shop")
        with pytest.raises(ExceptionGroup) as refused:
            create_endpoint(account, account.id, url, ["call.completed"])
        (error,) = refused.value.exceptions
        assert isinstance(error, ServiceError) and error.field == "url"
        assert words in error.message
        assert db.session.scalar(select(WebhookEndpoint)) is None


def test_an_address_refused_on_connecting_is_not_sent_to(make_app, receiver):
    app = make_app()
    with app.app_context():
        widget = create_widget(account=create_account(name="shop"))
        db.session.expunge(widget)
    add_endpoint(app, widget.account_id, receiver.url, events=["call.requested"])
    # The operator took loopback off the allowed hosts after the endpoint was saved.
    strict = make_app(PROVIDER_PRIVATE_HOSTS=[])
    place_call(strict, widget)
    assert receiver.received == []
    (delivery,) = deliveries(strict)
    assert delivery.status == "failed" and "refused" in delivery.last_error


def test_the_body_carries_the_call_and_no_credential(app, widget, receiver):
    add_endpoint(app, widget.account_id, receiver.url, events=["call.completed"])
    public_id = place_call(app, widget, page_url=(
        "https://shop.example/offer?utm_source=news&utm_campaign=winter&email=a@b.example"))
    (received,) = receiver.accepted()
    body = json.loads(received.body)
    assert body["type"] == "call.completed"
    data = body["data"]
    assert data["id"] == public_id and data["visitor_number"] == "+12025550123"
    assert data["widget"]["id"] == widget.public_id
    assert data["account"]["id"] == widget.account_id
    assert data["state"] == "completed" and data["occurred_at"].endswith("Z")
    assert data["page_origin"] == "https://shop.example"
    assert data["page_url"] == "https://shop.example/offer"  # the rest of the query stays out
    assert data["campaign"] == {"utm_source": "news", "utm_campaign": "winter"}
    assert "client_ip" not in received.body and "provider" not in received.body


def test_keys_rotate_reencrypts_the_secret_and_it_still_signs(app, widget, receiver):
    endpoint_id, secret = add_endpoint(app, widget.account_id, receiver.url,
                                       events=["call.requested"])
    result = CliRunner().invoke(main, ["keys", "rotate"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    with app.app_context():
        stored = db.session.get(WebhookEndpoint, endpoint_id).secret_encrypted
    newest = Fernet(app.config["ENCRYPTION_KEYS"][0])
    assert newest.decrypt(stored.encode()).decode() == secret  # the new key alone opens it
    place_call(app, widget)
    (received,) = receiver.accepted()
    assert verified(secret, received)["type"] == "call.requested"
