"""What a receiver is told: the Standard Webhooks envelope around a call at one event.

Built from the stored call only: never a provider credential, report or
exchange, nor the visitor's client address.
"""

from __future__ import annotations

from datetime import UTC, datetime

from widget_server.calls.events import PublishedEvent
from widget_server.models import CallRequest, WebhookEndpoint


def timestamp(moment: datetime | None) -> str | None:
    """A stored naive UTC time as RFC 3339 with a Z."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def call_payload(call: CallRequest, event: PublishedEvent) -> dict:
    """The call as it stood at ``event``: its state and reason then, not the call's latest."""
    widget = call.widget
    return {
        "id": call.public_id,
        "widget": {"id": widget.public_id, "name": widget.name},
        "account": {"id": call.account_id, "name": widget.account.name},
        "visitor_number": call.visitor_number,
        "visitor_country": call.visitor_country,
        "page_origin": call.page_origin,
        "page_url": call.page_url,
        "campaign": dict(call.campaign or {}),
        "state": event.state,
        "reason": event.reason,
        "occurred_at": timestamp(event.at),
        "requested_at": timestamp(call.created_at),
        "scheduled_for": timestamp(call.scheduled_for),
    }


def envelope(event_type: str, at: datetime, data: dict) -> dict:
    """The body every delivery sends: ``type``, ``timestamp`` and ``data``."""
    return {"type": event_type, "timestamp": timestamp(at), "data": data}


def test_event_data(endpoint: WebhookEndpoint) -> dict:
    """A test event's data: which endpoint it was sent to, and no call."""
    return {"endpoint_id": endpoint.id, "account": {"id": endpoint.account_id,
                                                    "name": endpoint.account.name},
            "message": "A test event: this endpoint is reachable."}
