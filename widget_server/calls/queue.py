"""The task queue: Huey on SQLite in the instance folder, or on Redis.

The queue object lives on the app (``app.extensions["huey"]``) so each app
built by the factory gets its own; the same tasks (calls/tasks.py) run on
either backend.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from datetime import UTC, datetime

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from huey.storage import SqliteStorage
from redis.exceptions import RedisError

from widget_server.calls.tasks import CallTasks


class WakingSqliteStorage(SqliteStorage):
    """Huey's SQLite storage, with consumer threads woken by an enqueue in this process.

    Huey polls a storage that cannot block, backing off between looks; a
    visitor's call queued by a request thread of the embedded default
    (``widget-server run``: web server and consumer in one process) would
    wait for the next look. Here an idle consumer thread waits on a condition
    that ``enqueue`` notifies instead, and still looks every ``read_timeout``
    seconds for tasks queued by other processes (a command, gunicorn beside a
    separate worker). Redis needs none of this: Huey's Redis storage blocks.
    """

    blocking = True
    read_timeout = 0.5

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._queued = threading.Condition()
        self._enqueues = 0

    def enqueue(self, data, priority=None):
        super().enqueue(data, priority)
        with self._queued:
            self._enqueues += 1
            self._queued.notify()

    def dequeue(self):
        # Counting enqueues closes the gap between an empty look and the wait.
        with self._queued:
            seen = self._enqueues
        data = super().dequeue()
        if data is None:
            with self._queued:
                if self._enqueues == seen:
                    self._queued.wait(self.read_timeout)
        return data


class WakingSqliteHuey(SqliteHuey):
    storage_class = WakingSqliteStorage


def make_huey(config: dict):
    url = config["QUEUE_URL"] or config["REDIS_URL"]
    immediate = bool(config["QUEUE_IMMEDIATE"])
    name = config["QUEUE_NAME"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, immediate=immediate)
    filename = url.removeprefix("sqlite:///") if url else os.path.join(
        config["INSTANCE_PATH"], "queue.sqlite3")
    return WakingSqliteHuey(name, filename=filename, immediate=immediate)


def init_app(app: Flask) -> None:
    # Mail and webhooks add themselves here (calls/events.py says what a subscriber is).
    app.extensions["call_event_subscribers"] = []
    huey = make_huey(app.config)
    app.extensions["huey"] = huey
    app.extensions["call_tasks"] = CallTasks(app, huey)


# What a queue backend raises when it cannot take a task: Redis down, the
# SQLite queue file unwritable. Anything else is a bug and must not read as an outage.
QUEUE_ERRORS = (RedisError, sqlite3.Error, OSError)


def enqueue_call(call_id: int, eta: datetime | None = None) -> None:
    """Queue the call to be placed now, or at ``eta`` (naive UTC, as stored)."""
    task = current_app.extensions["call_tasks"].place
    args = (call_id, int(current_app.config["PLACE_RETRIES"]))
    if eta is None:
        task(*args)
    else:  # Huey reads a naive eta as local time: give it an aware UTC one.
        task.schedule(args, eta=eta.replace(tzinfo=UTC))


def enqueue_publish(call_id: int) -> None:
    """Queue telling the call's news (calls/events.py) to mail and webhooks.

    A queue that cannot take it loses nothing: the periodic sweep publishes
    what was stored and never published.
    """
    try:
        current_app.extensions["call_tasks"].publish(call_id)
    except QUEUE_ERRORS:
        current_app.logger.warning("call %s: publishing left to the sweep", call_id)


def create_consumer(app: Flask):
    """A consumer whose threads take a task as soon as it is queued.

    Both storages block until a task comes (Redis in BRPOP, SQLite on a
    condition, see ``WakingSqliteStorage``), so the polling delays only apply
    after a queue error: Huey backs off up to 10 s by default, too long for a
    visitor waiting for their phone to ring.
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
