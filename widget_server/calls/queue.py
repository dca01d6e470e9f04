"""The task queue: Huey on SQLite in the instance folder, or on Redis.

Tasks take ids only. The queue object lives on the app
(``app.extensions["huey"]``) so each app built by the factory gets its own;
the same task code runs on either backend.
"""

from __future__ import annotations

import os

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab

from widget_server.calls.tasks import place_call
from widget_server.security.single_use import purge_expired


def make_huey(config: dict):
    url = config["QUEUE_URL"] or config["REDIS_URL"]
    immediate = bool(config["QUEUE_IMMEDIATE"])
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("widget-server", url=url, immediate=immediate)
    filename = url.removeprefix("sqlite:///") if url else os.path.join(
        config["INSTANCE_PATH"], "queue.sqlite3")
    return SqliteHuey("widget-server", filename=filename, immediate=immediate)


def init_app(app: Flask) -> None:
    huey = make_huey(app.config)

    def place_call_task(call_id: int) -> None:
        with app.app_context():
            place_call(call_id)

    def purge_task() -> None:
        with app.app_context():
            purge_expired()

    app.extensions["huey"] = huey
    app.extensions["place_call_task"] = huey.task(name="place_call")(place_call_task)
    huey.periodic_task(crontab(minute="*/15"), name="purge_used_tokens")(purge_task)


def enqueue_call(call_id: int) -> None:
    current_app.extensions["place_call_task"](call_id)
