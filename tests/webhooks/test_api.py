"""/api/v1/webhooks: what a reseller's program registers, reads, rotates and tests.

The secret is answered on create and rotation only; a test event reaches the
receiver signed with the current secret.
"""

from __future__ import annotations

import logging

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from widget_server.extensions import db
from widget_server.models import WebhookEndpoint


def create(api, receiver, key="reseller", **fields):
    body = {"url": receiver.url, "events": ["call.completed", "call.failed"]} | fields
    response = api("POST", "/webhooks", key=key, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_secret_is_shown_once_and_signs_the_test_event(app, api, receiver, caplog):
    with caplog.at_level(logging.DEBUG):
        made = create(api, receiver)
        secret = made["secret"]
        assert secret.startswith("whsec_")
        assert made["events"] == ["call.completed", "call.failed"] and made["enabled"]
        answers = [api("GET", "/webhooks"), api("GET", f"/webhooks/{made['id']}")]
        sent = api("POST", f"/webhooks/{made['id']}/test")
        assert sent.status_code == 202
        answers += [sent, api("GET", f"/webhooks/{made['id']}/deliveries")]
    for answer in answers:
        assert answer.status_code in (200, 202)
        assert secret not in answer.get_data(as_text=True)
        assert "secret" not in answer.get_data(as_text=True)
    assert secret not in caplog.text
    with app.app_context():
        assert secret not in db.session.get(WebhookEndpoint, made["id"]).secret_encrypted
    (received,) = receiver.accepted()
    assert Webhook(secret).verify(received.body, received.headers)["type"] == "webhook.test"
    (delivery,) = answers[-1].get_json()["items"]
    assert delivery["status"] == "delivered" and delivery["call_id"] is None
    assert delivery["message_id"] == received.headers["webhook-id"]


def test_a_rotated_secret_signs_from_then_on(api, receiver):
    made = create(api, receiver)
    rotated = api("POST", f"/webhooks/{made['id']}/rotate_secret")
    assert rotated.status_code == 200
    new = rotated.get_json()["secret"]
    assert new != made["secret"]
    api("POST", f"/webhooks/{made['id']}/test")
    (received,) = receiver.accepted()
    Webhook(new).verify(received.body, received.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(made["secret"]).verify(received.body, received.headers)


def test_update_disable_and_delete(api, receiver):
    made = create(api, receiver)
    path = f"/webhooks/{made['id']}"
    changed = api("PATCH", path, json={"events": ["call.requested"], "enabled": False})
    assert changed.status_code == 200
    assert changed.get_json()["events"] == ["call.requested"]
    assert changed.get_json()["disabled_at"] is not None
    refused = api("POST", f"{path}/test")
    assert refused.status_code == 409 and receiver.received == []
    assert api("PATCH", path, json={"enabled": True}).get_json()["disabled_at"] is None
    assert api("DELETE", path).status_code == 204
    assert api("GET", path).status_code == 404


def test_a_private_address_or_an_unknown_event_is_a_422_naming_the_field(api):
    private = api("POST", "/webhooks", json={"url": "http://10.0.0.7/hook",
                                             "events": ["call.failed"]})
    assert private.status_code == 422
    assert "private address" in private.get_json()["errors"]["url"]
    for events in (["call.answered"], []):
        response = api("POST", "/webhooks", json={"url": "https://hooks.example.com/x",
                                                  "events": events})
        assert response.status_code == 422 and set(response.get_json()["errors"]) == {"events"}
    assert api("GET", "/webhooks").get_json()["items"] == []


@pytest.mark.databases("sqlite", "postgresql")  # isolation is a query
def test_another_tenants_endpoint_is_not_found(api, receiver, tenants):
    theirs = create(api, receiver, key="other-reseller")
    for method, suffix in [("GET", ""), ("PATCH", ""), ("DELETE", ""),
                           ("POST", "/rotate_secret"), ("POST", "/test"),
                           ("GET", "/deliveries")]:
        kwargs = {"json": {"enabled": False}} if method == "PATCH" else {}
        response = api(method, f"/webhooks/{theirs['id']}{suffix}", **kwargs)
        assert response.status_code == 404, (method, suffix)
    assert api("GET", "/webhooks").get_json()["items"] == []
    outside = api("POST", "/webhooks", json={"account_id": tenants.ids["other-client"],
                                             "url": receiver.url, "events": ["call.failed"]})
    assert outside.status_code == 404
    assert receiver.received == []


def test_a_reseller_registers_one_for_its_client(api, receiver, tenants):
    made = create(api, receiver, account_id=tenants.ids["client-a"])
    assert made["account_id"] == tenants.ids["client-a"]
    listed = api("GET", "/webhooks", key="client-a").get_json()["items"]
    assert [w["id"] for w in listed] == [made["id"]]
    assert api("GET", "/webhooks", key="client-b").get_json()["items"] == []
