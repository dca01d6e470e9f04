"""Webhook endpoints: create, change, delete, rotate the secret, send a test event.

The API and the admin call these and nothing else to change an endpoint. An
endpoint belongs to one account and receives that account's calls only (not
those of accounts under it). Its URL is held to the provider base URLs'
address policy (security/outbound.py) when saved and on every connection.
The signing secret is returned once, by ``create_endpoint`` and
``rotate_secret``, and stored encrypted; nothing else hands it out.

Only owners (and API keys, which act as their account) manage endpoints: an
endpoint sends the account's visitors' numbers to a URL of its choosing.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from widget_server.extensions import db
from widget_server.models import User, WebhookDelivery, WebhookEndpoint, utcnow
from widget_server.security import outbound
from widget_server.security.keys import fernet
from widget_server.services.actors import Actor, acting_account, check_may_change
from widget_server.services.errors import ServiceError, invalid_fields
from widget_server.tenancy import in_subtree, subtree_ids
from widget_server.webhooks import EVENT_TYPES, TEST_EVENT
from widget_server.webhooks.delivery import new_message_id, new_secret, seal_secret
from widget_server.webhooks.payload import envelope, test_event_data

MAX_URL = 500
WHAT = "webhook endpoint"


def _check_owner(actor: Actor, account_id: int | None) -> None:
    check_may_change(actor, account_id, WHAT)
    if isinstance(actor, User) and actor.role != "owner":
        raise ServiceError("Only an owner may change webhook endpoints.", kind="forbidden")


def visible_endpoint(actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Endpoint ``endpoint_id`` if it is in the actor's subtree, else ``not_found``."""
    found = db.session.get(WebhookEndpoint, endpoint_id)
    if found is None or not in_subtree(acting_account(actor), found.account_id):
        raise ServiceError(f"There is no such {WHAT}.", kind="not_found")
    return found


def endpoints_select(actor: Actor, account_id: int | None = None):
    """The endpoints the actor sees (of one account of its subtree), oldest first."""
    statement = select(WebhookEndpoint).where(
        WebhookEndpoint.account_id.in_(subtree_ids(acting_account(actor))))
    if account_id is not None:
        statement = statement.where(WebhookEndpoint.account_id == account_id)
    return statement.order_by(WebhookEndpoint.id)


def deliveries_select(endpoint: WebhookEndpoint):
    """An endpoint's deliveries, newest first."""
    return (select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc()))


def _url_problem(url: object) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return "Give the address the events are sent to."
    if len(url.strip()) > MAX_URL:
        return f"Use at most {MAX_URL} characters."
    try:
        outbound.policy(current_app.config).check_url(url.strip())
    except outbound.RefusedURL as error:
        return str(error)
    return None


def _events_problem(events: object) -> str | None:
    if not isinstance(events, list | tuple) or not events:
        return "Choose at least one event."
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        return f"Unknown events {', '.join(map(str, unknown))}; use: {', '.join(EVENT_TYPES)}."
    return None


def check_fields(**fields: object) -> None:
    """Refuse, all at once, what is wrong among the given ``url`` and ``events``."""
    errors = {}
    if "url" in fields and (problem := _url_problem(fields["url"])):
        errors["url"] = problem
    if "events" in fields and (problem := _events_problem(fields["events"])):
        errors["events"] = problem
    if errors:
        raise invalid_fields(errors)


def _ordered(events) -> list[str]:
    return [name for name in EVENT_TYPES if name in set(events)]


def create_endpoint(actor: Actor, account_id: int | None, url: str,
                    events: list[str]) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of ``account_id`` (default: the actor's account), committed;
    with its signing secret, which is not shown again."""
    account_id = account_id or acting_account(actor).id
    _check_owner(actor, account_id)
    check_fields(url=url, events=events)
    secret = new_secret()
    endpoint = WebhookEndpoint(account_id=account_id, url=url.strip(), events=_ordered(events),
                               secret_encrypted=seal_secret(secret))
    db.session.add(endpoint)
    db.session.commit()
    return endpoint, secret


def update_endpoint(actor: Actor, endpoint: WebhookEndpoint, *, url: str | None = None,
                    events: list[str] | None = None,
                    enabled: bool | None = None) -> WebhookEndpoint:
    """Change what is given; enabling a disabled endpoint starts its failure count afresh."""
    _check_owner(actor, endpoint.account_id)
    given = {name: value for name, value in (("url", url), ("events", events))
             if value is not None}
    check_fields(**given)
    if url is not None:
        endpoint.url = url.strip()
    if events is not None:
        endpoint.events = _ordered(events)
    if enabled is not None and enabled != endpoint.enabled:
        endpoint.enabled = enabled
        endpoint.disabled_at = None if enabled else utcnow()
        endpoint.failing_since = None
    db.session.commit()
    return endpoint


def delete_endpoint(actor: Actor, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log; nothing more is sent to it."""
    _check_owner(actor, endpoint.account_id)
    db.session.delete(endpoint)
    db.session.commit()


def rotate_secret(actor: Actor, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, used from the next attempt on; the old one stops at once."""
    _check_owner(actor, endpoint.account_id)
    secret = new_secret()
    endpoint.secret_encrypted = seal_secret(secret)
    db.session.commit()
    return secret


def send_test_event(actor: Actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery to the endpoint, as a call's event would be sent."""
    _check_owner(actor, endpoint.account_id)
    if not endpoint.enabled:
        raise ServiceError("This endpoint is disabled: enable it before sending a test event.",
                           "enabled", kind="conflict")
    now = utcnow()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, message_id=new_message_id(),
                               type=TEST_EVENT,
                               payload=envelope(TEST_EVENT, now, test_event_data(endpoint)))
    db.session.add(delivery)
    db.session.commit()
    current_app.extensions["webhook_tasks"].queue([delivery.id])
    return delivery


def reencrypt_secrets() -> None:
    """Encrypt every signing secret again with the newest key (after a key rotation),
    so an older key can later be retired; committed."""
    keys = fernet(current_app.config)
    for endpoint in db.session.scalars(select(WebhookEndpoint)):
        endpoint.secret_encrypted = keys.rotate(endpoint.secret_encrypted.encode()).decode()
    db.session.commit()
