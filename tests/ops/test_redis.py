"""WIDGET_SERVER_REDIS_URL alone puts the limiter and the queue on Redis, for real.

Each test works under a key prefix of its own in the shared Redis at
127.0.0.1:6379 (the queue's name, the limiter's key prefix) and leaves no
key behind.
"""

from __future__ import annotations

from huey import SqliteHuey
from sqlalchemy import select

from tests.conftest import SHARED_REDIS
from tests.factories import PAGE_ORIGIN, call_body, post_call
from tests.ops.conftest import redis_keys
from tests.waiting import wait_until
from widget_server.calls.queue import start_in_process_consumer
from widget_server.extensions import db, limiter
from widget_server.models import CallRequest
from widget_server.security import tokens


def redis_app(make_app, prefix: str, **overrides):
    return make_app(REDIS_URL=SHARED_REDIS, QUEUE_NAME=prefix, QUEUE_IMMEDIATE=False,
                    RATELIMIT_STORAGE_OPTIONS={"key_prefix": prefix}, **overrides)


def test_one_redis_url_puts_the_burst_limits_in_redis(make_app, widget, redis_prefix):
    app = redis_app(make_app, redis_prefix, LIMIT_FRAME="2/minute")
    client = app.test_client()
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))

    answers = [client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN})
               .status_code for _ in range(3)]
    counted = [key for key in redis_keys(redis_prefix) if "frame" in key]
    limiter.storage.reset()

    assert answers == [200, 200, 429]
    assert len(counted) == 1 and counted[0].startswith(f"{redis_prefix}:LIMITER/")
    assert redis_keys(redis_prefix) == []


def test_one_redis_url_queues_the_call_in_redis_and_a_worker_places_it(
        make_app, widget, redis_prefix):
    app = redis_app(make_app, redis_prefix)
    huey = app.extensions["huey"]
    client = app.test_client()

    accepted = post_call(client, call_body(app, client, widget))
    waiting = huey.pending_count()
    queue_keys = [key for key in redis_keys(redis_prefix) if key.startswith("huey.")]

    def status() -> str:
        with app.app_context():
            try:
                return db.session.scalar(select(CallRequest.status))
            finally:
                db.session.remove()

    consumer = start_in_process_consumer(app)
    try:
        wait_until(lambda: status() == "completed", what="the consumer to complete the call")
    finally:
        consumer.stop(graceful=True)
    huey.flush()
    limiter.storage.reset()

    assert accepted.status_code == 202
    assert waiting == 1 and queue_keys == [f"huey.redis.{redis_prefix}"]
    assert huey.pending_count() == 0


def test_limiter_and_queue_can_each_be_set_apart_from_the_redis_url(make_app, redis_prefix):
    app = make_app(REDIS_URL=SHARED_REDIS, RATELIMIT_STORAGE_URI="memory://",
                   QUEUE_URL="", QUEUE_NAME=redis_prefix, QUEUE_IMMEDIATE=False)

    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert type(app.extensions["huey"]).__name__ == "RedisHuey"
    other = make_app(RATELIMIT_STORAGE_URI=SHARED_REDIS, QUEUE_IMMEDIATE=False)
    assert isinstance(other.extensions["huey"], SqliteHuey)  # the waking one (calls/queue.py)
