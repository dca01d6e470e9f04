"""/admin/webhooks: an owner registers an endpoint, copies its secret once, reads deliveries,
tests, rotates and deletes with a confirmation; other roles and tenants cannot."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from tests.factories import ROLES, admin_post, create_account, create_user, signed_in
from widget_server.extensions import db
from widget_server.models import Account, WebhookEndpoint
from widget_server.services.webhooks import create_endpoint

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture
def accounts(app):
    with app.app_context():
        shop = create_account(name="shop")
        other = create_account(name="other")
        for role in ROLES:
            create_user(account=shop, role=role)  # role@shop.example
        return {"shop": shop.id, "other": other.id}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def create(client, account_id, url, events=("call.completed", "call.failed")):
    return admin_post(client, "/admin/webhooks", account_id=account_id, url=url,
                      events=list(events))


def test_an_owner_creates_an_endpoint_and_sees_its_secret_once(app, accounts, receiver):
    owner = signed_in(app, "owner@shop.example")
    created = create(owner, accounts["shop"], receiver.url)
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    (secret,) = SECRET.findall(text(created))
    listed = owner.get("/admin/webhooks")
    assert receiver.url in text(listed) and "whsec_" not in text(listed)
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
        assert endpoint.events == ["call.completed", "call.failed"]
    detail_path = f"/admin/webhooks/{endpoint.id}"
    assert admin_post(owner, f"{detail_path}/test").status_code == 302
    (received,) = receiver.accepted()
    assert Webhook(secret).verify(received.body, received.headers)["type"] == "webhook.test"
    detail = text(owner.get(detail_path))
    assert "webhook.test" in detail and "delivered" in detail and "whsec_" not in detail


def test_a_refused_url_is_named_on_the_form(app, accounts):
    owner = signed_in(app, "owner@shop.example")
    refused = create(owner, accounts["shop"], "http://10.0.0.7/hook")
    assert refused.status_code == 400 and "private address" in text(refused)
    with app.app_context():
        assert db.session.scalar(select(WebhookEndpoint)) is None


def endpoint_of(app, account_id: int, url: str) -> tuple[int, str]:
    with app.app_context():
        account = db.session.get(Account, account_id)
        endpoint, secret = create_endpoint(account, account.id, url, ["call.completed"])
        return endpoint.id, secret


def test_rotate_disable_and_delete_ask_first_saying_what_happens(app, accounts, receiver):
    endpoint_id, old = endpoint_of(app, accounts["shop"], receiver.url)
    owner = signed_in(app, "owner@shop.example")
    path = f"/admin/webhooks/{endpoint_id}"
    asked = text(owner.get(f"{path}/rotate"))
    assert "stops signing at once" in asked and f'action="{path}/rotate"' in asked
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).enabled
    rotated = admin_post(owner, f"{path}/rotate")
    (new,) = SECRET.findall(text(rotated))
    assert new != old and rotated.headers["Cache-Control"] == "no-store"
    assert "No event is sent to it from now on" in text(owner.get(f"{path}/disable"))
    assert admin_post(owner, f"{path}/disable").status_code == 302
    assert "disabled since" in text(owner.get(path))
    assert "delivery log is deleted" in text(owner.get(f"{path}/delete"))
    assert owner.get(path).status_code == 200  # asking changed nothing
    deleted = admin_post(owner, f"{path}/delete")
    assert deleted.status_code == 302
    assert owner.get(path).status_code == 404


def test_a_disabled_endpoint_is_enabled_again(app, accounts, receiver):
    endpoint_id, _ = endpoint_of(app, accounts["shop"], receiver.url)
    owner = signed_in(app, "owner@shop.example")
    path = f"/admin/webhooks/{endpoint_id}"
    admin_post(owner, f"{path}/enabled", enabled="no")
    assert "disabled since" in text(owner.get(path))
    admin_post(owner, f"{path}/enabled", enabled="yes")
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).enabled


@pytest.mark.parametrize("role", ["member", "read-only"])
def test_only_owners_change_endpoints(app, accounts, receiver, role):
    endpoint_id, _ = endpoint_of(app, accounts["shop"], receiver.url)
    user = signed_in(app, f"{role}@shop.example")
    path = f"/admin/webhooks/{endpoint_id}"
    assert user.get(path).status_code == 200
    assert create(user, accounts["shop"], receiver.url).status_code == 403
    for action in ("test", "rotate", "delete", "enabled"):
        response = admin_post(user, f"{path}/{action}", confirm="yes", enabled="no")
        assert response.status_code == 403, action
    assert receiver.received == []


def test_another_tenants_endpoint_is_not_found(app, accounts, receiver):
    endpoint_id, _ = endpoint_of(app, accounts["other"], receiver.url)
    owner = signed_in(app, "owner@shop.example")
    path = f"/admin/webhooks/{endpoint_id}"
    assert owner.get(path).status_code == 404
    for action in ("test", "rotate", "delete", "enabled"):
        response = admin_post(owner, f"{path}/{action}", confirm="yes")
        assert response.status_code == 404, action
    assert receiver.url not in text(owner.get("/admin/webhooks"))
    assert create(owner, accounts["other"], receiver.url).status_code == 404
