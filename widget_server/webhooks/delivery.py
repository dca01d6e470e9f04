"""Sending one delivery: signed by Standard Webhooks, in order per call, retried with backoff.

Signing (https://www.standardwebhooks.com/): the secret reads ``whsec_`` and
base64 bytes; each attempt sends ``webhook-id`` (the delivery's message id,
the same on every attempt), ``webhook-timestamp`` (seconds, this attempt)
and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.

Order: a delivery waits while an earlier one of the same call and endpoint
is pending; whatever ends a delivery (delivered, or given up) hands the turn
to the next (``Outcome.next_id``). An attempt is claimed by moving
``next_attempt_at`` ahead in one guarded UPDATE, so two tasks for one
delivery (a retry and the sweep) never both send it.

Retries: timeouts, connection errors, 5xx, 408 and 429 (``Retry-After``
honoured), after ``WEBHOOK_RETRY_BASE`` seconds doubling with jitter up to
``WEBHOOK_RETRY_CAP``, until ``WEBHOOK_RETRY_FOR`` after the event. Any other
answer is final. The URL is held to the provider base URLs' address policy
(security/outbound.py) on every connection, redirects are not followed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import cast

import requests
from flask import current_app
from markupsafe import escape
from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult

from widget_server.extensions import db
from widget_server.mail.notifications import admin_link, brand_signature
from widget_server.mail.outbox import add_mail, send_later
from widget_server.models import User, WebhookDelivery, WebhookEndpoint, utcnow
from widget_server.security import outbound
from widget_server.security.keys import fernet
from widget_server.services.brands import brand_for_account

log = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
SECRET_PREFIX = "whsec_"
RETRIED_STATUSES = frozenset({408, 429})


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes it: ``whsec_`` and 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def seal_secret(secret: str) -> str:
    """The secret as stored: a Fernet token under the installation's encryption keys."""
    return fernet(current_app.config).encrypt(secret.encode()).decode()


def open_secret(endpoint: WebhookEndpoint) -> str:
    return fernet(current_app.config).decrypt(endpoint.secret_encrypted.encode()).decode()


def signature(secret: str, message_id: str, sent_at: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{sent_at}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, body: str, sent_at: int | None = None) -> dict:
    sent_at = int(time.time()) if sent_at is None else sent_at
    return {"content-type": "application/json", "user-agent": "widget-server-webhooks",
            "webhook-id": message_id, "webhook-timestamp": str(sent_at),
            "webhook-signature": signature(secret, message_id, sent_at, body)}


@dataclass(frozen=True)
class Outcome:
    """What the queue does next: try this delivery again at ``retry_at``, send ``next_id``."""

    delivery_id: int | None = None
    retry_at: datetime | None = None
    next_id: int | None = None


def backoff(attempts: int, config) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from the base, capped, jittered.

    The jitter (the upper half of the span) spreads the retries of many
    deliveries that failed together, so a receiver coming back is not hit at once.
    """
    span = min(float(config["WEBHOOK_RETRY_CAP"]),
               float(config["WEBHOOK_RETRY_BASE"]) * 2 ** max(0, attempts - 1))
    return span * random.uniform(0.5, 1.0)


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), None when absent or bad."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def _chain(delivery: WebhookDelivery):
    """The pending deliveries of the same call and endpoint."""
    return select(WebhookDelivery.id).where(
        WebhookDelivery.endpoint_id == delivery.endpoint_id,
        WebhookDelivery.call_id == delivery.call_id, WebhookDelivery.status == PENDING)


def _next_in_chain(delivery: WebhookDelivery) -> int | None:
    if delivery.call_id is None:
        return None
    return db.session.scalar(_chain(delivery).where(WebhookDelivery.id > delivery.id)
                             .order_by(WebhookDelivery.id).limit(1))


def _waits(delivery: WebhookDelivery) -> bool:
    """An earlier event of the same call for the same endpoint is still pending."""
    if delivery.call_id is None:
        return False
    return db.session.scalar(_chain(delivery).where(WebhookDelivery.id < delivery.id)
                             .limit(1)) is not None


def _claim(delivery_id: int, now: datetime, lease: float) -> bool:
    moved = cast(CursorResult, db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING,
               or_(WebhookDelivery.next_attempt_at.is_(None),
                   WebhookDelivery.next_attempt_at <= now))
        .values(next_attempt_at=now + timedelta(seconds=lease),
                attempts=WebhookDelivery.attempts + 1, last_attempt_at=now))).rowcount == 1
    db.session.commit()
    return moved


def _send(endpoint: WebhookEndpoint, delivery: WebhookDelivery, config):
    """(status code, Retry-After, error words, whether to retry) of one attempt."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    headers = signed_headers(open_secret(endpoint), delivery.message_id, body)
    timeout = float(config["WEBHOOK_TIMEOUT"])
    session = outbound.session_for(outbound.policy(config))
    try:
        with session.post(endpoint.url, data=body.encode(), headers=headers,
                          timeout=(timeout, timeout), allow_redirects=False,
                          stream=True) as response:
            code, wait = response.status_code, response.headers.get("Retry-After")
    except outbound.AddressRefused:
        return None, None, "address refused by the outbound policy", False
    except requests.Timeout:
        return None, None, "timed out", True
    except requests.RequestException:
        return None, None, "connection failed", True
    if 200 <= code < 300:
        return code, None, None, False
    retried = code >= 500 or code in RETRIED_STATUSES
    return code, wait, f"answered HTTP {code}", retried


def attempt(delivery_id: int, now: datetime | None = None) -> Outcome:
    """Try to send one delivery, if it is its turn and due; what the queue does next."""
    config = current_app.config
    now = now or utcnow()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != PENDING or _waits(delivery):
        db.session.rollback()
        return Outcome()
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        return _finish(delivery, FAILED, now, error="endpoint disabled")
    timeout = float(config["WEBHOOK_TIMEOUT"])
    if not _claim(delivery_id, now, lease=2 * timeout + 30):
        return Outcome()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # deleted with its endpoint meanwhile
        db.session.rollback()
        return Outcome()
    endpoint = delivery.endpoint
    code, wait, error, retried = _send(endpoint, delivery, config)
    now = utcnow()
    delivery.last_status_code = code
    if error is None:
        endpoint.failing_since = None
        return _finish(delivery, DELIVERED, now)
    log.info("webhook delivery %s (endpoint %s, attempt %s): %s", delivery.id, endpoint.id,
             delivery.attempts, error)
    endpoint.failing_since = endpoint.failing_since or now
    if now - endpoint.failing_since >= timedelta(seconds=float(config["WEBHOOK_DISABLE_AFTER"])):
        notices = disable_failing_endpoint(endpoint, now)
        outcome = _finish(delivery, FAILED, now, error=error)
        send_later(notices)
        return outcome
    delay = backoff(delivery.attempts, config)
    asked = retry_after(wait) if code in (429, 503) else None
    if asked is not None:
        delay = min(float(config["WEBHOOK_RETRY_CAP"]), max(delay, asked))
    due = now + timedelta(seconds=delay)
    give_up_at = delivery.created_at + timedelta(seconds=float(config["WEBHOOK_RETRY_FOR"]))
    if not retried or due > give_up_at:
        return _finish(delivery, FAILED, now, error=error)
    delivery.last_error = error
    delivery.next_attempt_at = due
    db.session.commit()
    return Outcome(delivery_id=delivery_id, retry_at=due)


def _finish(delivery: WebhookDelivery, status: str, now: datetime,
            error: str | None = None) -> Outcome:
    """End a delivery, delivered or given up, and hand the turn to the next one."""
    delivery.status = status
    delivery.next_attempt_at = None
    delivery.last_error = error
    if status == DELIVERED:
        delivery.delivered_at = now
    next_id = _next_in_chain(delivery)
    db.session.commit()
    return Outcome(next_id=next_id)


def disable_failing_endpoint(endpoint: WebhookEndpoint, now: datetime) -> list[int]:
    """Stop sending to an endpoint that failed for the whole window; mail its owners.

    The mails are written in the same transaction as the disabling; the caller
    queues them (``send_later``) once that is committed.
    """
    endpoint.enabled = False
    endpoint.disabled_at = now
    db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING)
        .values(status=FAILED, next_attempt_at=None, last_error="endpoint disabled"))
    owners = db.session.scalars(select(User.email).where(
        User.account_id == endpoint.account_id, User.role == "owner")).all()
    if not owners:
        log.warning("webhook endpoint %s of account %s disabled; no owner to mail",
                    endpoint.id, endpoint.account_id)
        return []
    paragraphs = [
        f"Your webhook endpoint {endpoint.url} has failed every delivery since "
        f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC and was disabled: no more "
        "events are sent to it.",
        "Fix the receiver, then enable the endpoint again in the admin (Webhooks) or "
        f'with PATCH /api/v1/webhooks/{endpoint.id} and {{"enabled": true}}.',
    ]
    brand = brand_for_account(endpoint.account)
    if link := admin_link(f"/admin/webhooks/{endpoint.id}", brand):
        paragraphs.append(link)
    paragraphs.append(brand_signature(brand))
    text = "\n\n".join(paragraphs) + "\n"
    html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs)
    rows = add_mail(owners, "Webhook endpoint disabled", text, html,
                    account_id=endpoint.account_id, kind="webhook_disabled",
                    dedupe_key=f"webhook-disabled:{endpoint.id}:{now:%Y%m%d%H%M%S}")
    return [row.id for row in rows]


def due_deliveries(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Pending deliveries due now whose task may have been lost: the sweep's work."""
    now = now or utcnow()
    ids = db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id).limit(limit)).all()
    db.session.rollback()
    return list(ids)
