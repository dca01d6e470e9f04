"""The queue's tasks: place a call, poll it, publish its events, recover stalled calls,
purge used tokens.

Each app gets its own Huey (calls/queue.py), so the tasks are declared on it
by ``CallTasks``, which holds the app the consumer's threads run them in.
Tasks take ids only; their bodies are in calls/placing.py and
calls/recovery.py. Retries and polls are scheduled here, with their own
bounded counts, because whether a retry is safe is the adapter's call, not
the queue's.
"""

from __future__ import annotations

from datetime import UTC

from flask import Flask
from huey import Huey, crontab
from sqlalchemy import select

from widget_server.calls.events import publish_call_events, unpublished_calls
from widget_server.calls.placing import place_call, poll_call, scheduled_for
from widget_server.calls.recovery import recover_stalled_calls
from widget_server.extensions import db
from widget_server.logging import bound_request_id
from widget_server.models import CallRequest
from widget_server.security.single_use import purge_expired


class CallTasks:
    """The tasks of one app, declared on its Huey under fixed names."""

    def __init__(self, app: Flask, huey: Huey):
        self.app = app
        self.config = app.config
        self.place = huey.task(name="place_call")(self.place_call)
        self.poll = huey.task(name="poll_call")(self.poll_call)
        self.publish = huey.task(name="publish_call_events")(self.publish_call_events)
        huey.periodic_task(crontab(minute="*/15"), name="purge_used_tokens")(
            self.purge_used_tokens)
        huey.periodic_task(crontab(minute="*"), name="recover_stalled_calls")(
            self.recover_stalled_calls)
        huey.periodic_task(crontab(minute="*"), name="publish_unpublished_events")(
            self.publish_unpublished_events)

    def place_call(self, call_id: int, retries_left: int) -> None:
        with self.app.app_context(), bound_request_id(_request_id_of(call_id)):
            # place_call publishes the request and the dial before calling the provider.
            next_step = place_call(call_id, retries_left=retries_left)
            due = scheduled_for(call_id) if next_step == "wait" else None
            publish_call_events(call_id)
        if next_step == "retry":
            self.place.schedule((call_id, retries_left - 1),
                                delay=self.config["PLACE_RETRY_DELAY"])
        elif next_step == "wait" and due is not None:
            # Run early (clock skew): again at the chosen time.
            self.place.schedule((call_id, retries_left), eta=due.replace(tzinfo=UTC))
        elif next_step == "poll":
            self.poll.schedule((call_id, int(self.config["POLL_ATTEMPTS"])),
                               delay=self.config["POLL_INTERVAL"])

    def poll_call(self, call_id: int, attempts_left: int) -> None:
        with self.app.app_context(), bound_request_id(_request_id_of(call_id)):
            next_step = poll_call(call_id, attempts_left=attempts_left)
            publish_call_events(call_id)
        if next_step == "poll":
            self.poll.schedule((call_id, attempts_left - 1), delay=self.config["POLL_INTERVAL"])

    def recover_stalled_calls(self) -> None:
        with self.app.app_context():
            stalled = recover_stalled_calls()
        for call_id, step in stalled:
            if step == "place":
                self.place(call_id, int(self.config["PLACE_RETRIES"]))
            else:
                self.poll(call_id, int(self.config["POLL_ATTEMPTS"]))

    def publish_call_events(self, call_id: int) -> None:
        with self.app.app_context():
            publish_call_events(call_id)

    def publish_unpublished_events(self) -> None:
        """The safety net: events whose publisher never ran (queue down, a crash)."""
        with self.app.app_context():
            for call_id in unpublished_calls():
                publish_call_events(call_id)

    def purge_used_tokens(self) -> None:
        with self.app.app_context():
            purge_expired()


def _request_id_of(call_id: int) -> str | None:
    """The stored request id of a call, so the worker's lines about it carry it too."""
    request_id = db.session.scalar(select(CallRequest.request_id).where(
        CallRequest.id == call_id))
    db.session.rollback()  # end the read: the claim that follows writes
    return request_id
