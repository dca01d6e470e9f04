"""The queue's side of webhooks: the subscriber that writes deliveries, and the tasks
that send them (webhooks/delivery.py holds the sending itself)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from flask import Flask, current_app
from huey import Huey, crontab
from sqlalchemy import select

from widget_server.calls.events import PublishedEvent
from widget_server.calls.queue import QUEUE_ERRORS
from widget_server.extensions import db
from widget_server.models import CallRequest, WebhookDelivery, WebhookEndpoint
from widget_server.webhooks.delivery import Outcome, attempt, due_deliveries, new_message_id
from widget_server.webhooks.payload import call_payload, envelope


class WebhookTasks:
    """The webhook tasks of one app, declared on its Huey under fixed names."""

    def __init__(self, app: Flask, huey: Huey):
        self.app = app
        self.deliver = huey.task(name="deliver_webhook")(self.deliver_webhook)
        # The safety net: a delivery whose task was lost (queue down, a crash) is sent.
        huey.periodic_task(crontab(minute="*"), name="send_due_webhooks")(
            self.send_due_webhooks)

    def deliver_webhook(self, delivery_id: int) -> None:
        with self.app.app_context():
            outcome = attempt(delivery_id)
        self.follow(outcome)

    def follow(self, outcome: Outcome) -> None:
        if outcome.retry_at is not None:  # Huey reads a naive eta as local time
            self.deliver.schedule((outcome.delivery_id,),
                                  eta=outcome.retry_at.replace(tzinfo=UTC))
        if outcome.next_id is not None:
            self.deliver(outcome.next_id)

    def send_due_webhooks(self) -> None:
        with self.app.app_context():
            due = due_deliveries()
        for delivery_id in due:
            self.deliver(delivery_id)

    def queue(self, delivery_ids: list[int]) -> None:
        """Send these once committed; a queue that cannot take them leaves them to the sweep."""
        try:
            for delivery_id in delivery_ids:
                self.deliver(delivery_id)
        except QUEUE_ERRORS:
            self.app.logger.warning("webhook deliveries %s: sending left to the sweep",
                                    delivery_ids)


def subscriber(call: CallRequest, events: list[PublishedEvent]) -> Callable[[], None] | None:
    """One delivery per event and subscribed endpoint of the call's own account.

    Written in the publisher's transaction; sent once it commits.
    """
    endpoints = db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.account_id == call.account_id, WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id)).all()
    first: dict[int, WebhookDelivery] = {}
    for event in events:
        for endpoint in endpoints:
            if event.type not in endpoint.events:
                continue
            delivery = WebhookDelivery(
                endpoint_id=endpoint.id, call_id=call.id, event_id=event.id,
                message_id=new_message_id(), type=event.type,
                payload=envelope(event.type, event.at, call_payload(call, event)))
            db.session.add(delivery)
            first.setdefault(endpoint.id, delivery)
    if not first:
        return None
    db.session.flush()
    # The first of each endpoint; the rest follow it in order (delivery.Outcome.next_id).
    ids = [delivery.id for delivery in first.values()]
    tasks = current_app.extensions["webhook_tasks"]
    return lambda: tasks.queue(ids)
