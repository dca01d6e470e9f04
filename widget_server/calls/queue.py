"""The task queue: Huey on SQLite in the instance folder, or on Redis.

Tasks take ids only. The queue object lives on the app
(``app.extensions["huey"]``) so each app built by the factory gets its own;
the same task code runs on either backend. Retries and polls are scheduled
explicitly with their own bounded counts, because whether a retry is safe is
the adapter's call, not the queue's.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from datetime import UTC, datetime

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from redis.exceptions import RedisError
from sqlalchemy import select

from widget_server.calls.recovery import recover_stalled_calls
from widget_server.calls.tasks import place_call, poll_call, scheduled_for
from widget_server.extensions import db
from widget_server.logging import bound_request_id
from widget_server.models import CallRequest
from widget_server.security.single_use import purge_expired


def make_huey(config: dict):
    url = config["QUEUE_URL"] or config["REDIS_URL"]
    immediate = bool(config["QUEUE_IMMEDIATE"])
    name = config["QUEUE_NAME"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, immediate=immediate)
    filename = url.removeprefix("sqlite:///") if url else os.path.join(
        config["INSTANCE_PATH"], "queue.sqlite3")
    return SqliteHuey(name, filename=filename, immediate=immediate)


def _request_id_of(call_id: int) -> str | None:
    """The stored request id of a call, so the worker's lines about it carry it too."""
    request_id = db.session.scalar(select(CallRequest.request_id).where(
        CallRequest.id == call_id))
    db.session.rollback()  # end the read: the claim that follows writes
    return request_id


def init_app(app: Flask) -> None:
    huey = make_huey(app.config)
    config = app.config

    def place_call_task(call_id: int, retries_left: int) -> None:
        with app.app_context(), bound_request_id(_request_id_of(call_id)):
            next_step = place_call(call_id, retries_left=retries_left)
            due = scheduled_for(call_id) if next_step == "wait" else None
        if next_step == "retry":
            place.schedule((call_id, retries_left - 1), delay=config["PLACE_RETRY_DELAY"])
        elif next_step == "wait":  # run early (clock skew): again at the chosen time
            place.schedule((call_id, retries_left), eta=due.replace(tzinfo=UTC))
        elif next_step == "poll":
            poll.schedule((call_id, int(config["POLL_ATTEMPTS"])),
                          delay=config["POLL_INTERVAL"])

    def poll_call_task(call_id: int, attempts_left: int) -> None:
        with app.app_context(), bound_request_id(_request_id_of(call_id)):
            next_step = poll_call(call_id, attempts_left=attempts_left)
        if next_step == "poll":
            poll.schedule((call_id, attempts_left - 1), delay=config["POLL_INTERVAL"])

    def recover_task() -> None:
        with app.app_context():
            stalled = recover_stalled_calls()
        for call_id, step in stalled:
            if step == "place":
                place(call_id, int(config["PLACE_RETRIES"]))
            else:
                poll(call_id, int(config["POLL_ATTEMPTS"]))

    def purge_task() -> None:
        with app.app_context():
            purge_expired()

    place = huey.task(name="place_call")(place_call_task)
    poll = huey.task(name="poll_call")(poll_call_task)
    huey.periodic_task(crontab(minute="*/15"), name="purge_used_tokens")(purge_task)
    huey.periodic_task(crontab(minute="*"), name="recover_stalled_calls")(recover_task)
    app.extensions["huey"] = huey
    app.extensions["place_call_task"] = place


# What a queue backend raises when it cannot take a task: Redis down, the
# SQLite queue file unwritable. Anything else is a bug and must not read as an outage.
QUEUE_ERRORS = (RedisError, sqlite3.Error, OSError)


def enqueue_call(call_id: int, eta: datetime | None = None) -> None:
    """Queue the call to be placed now, or at ``eta`` (naive UTC, as stored)."""
    task = current_app.extensions["place_call_task"]
    args = (call_id, int(current_app.config["PLACE_RETRIES"]))
    if eta is None:
        task(*args)
    else:  # Huey reads a naive eta as local time: give it an aware UTC one.
        task.schedule(args, eta=eta.replace(tzinfo=UTC))


def create_consumer(app: Flask):
    """A consumer that looks at an idle queue every half second at most.

    Huey backs off up to 10 s by default; a visitor waiting for their phone to
    ring should not wait for that.
    """
    return app.extensions["huey"].create_consumer(
        workers=int(app.config["QUEUE_WORKERS"]), worker_type="thread", periodic=True,
        initial_delay=0.05, backoff=1.5, max_delay=0.5, check_worker_health=False)


def start_in_process_consumer(app: Flask):
    """Consume the queue in threads of this process, leaving its signal handlers alone.

    Huey's consumer installs SIGINT/SIGTERM handlers for a process of its
    own; here the web server owns the process, so its handlers are restored.
    """
    consumer = create_consumer(app)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM,
                                                       signal.SIGHUP)}
    consumer.start()
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    return consumer
