"""Outbound webhooks: each account's calls pushed, signed, to the endpoints it registered.

A call's events (calls/events.py) become one ``WebhookDelivery`` per event
and subscribed endpoint of the call's own account, written in the
publisher's transaction (``tasks.subscriber``), then sent from the queue in
order per call and endpoint (``delivery.attempt``), signed by the Standard
Webhooks specification and retried with backoff. Endpoints are managed by
services/webhooks.py only.
"""

from __future__ import annotations

from flask import Flask

from widget_server.webhooks.tasks import WebhookTasks, subscriber

# What an endpoint may subscribe to: the names calls/events.py gives a call's events.
EVENT_TYPES = ("call.requested", "call.scheduled", "call.dialing", "call.connected",
               "call.completed", "call.failed", "call.rejected", "call.redialed")
# Sent by "send test event": no call behind it, whatever the endpoint subscribed to.
TEST_EVENT = "webhook.test"


def init_app(app: Flask) -> None:
    """Listen to the calls' events and declare the sending tasks on the app's queue."""
    app.extensions["call_event_subscribers"].append(subscriber)
    app.extensions["webhook_tasks"] = WebhookTasks(app, app.extensions["huey"])
