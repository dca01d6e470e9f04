"""Fixtures: an app on SQLite and on PostgreSQL, a client, and a ready widget.

Every test that takes ``app`` runs twice, once per database. PostgreSQL is
the one at 127.0.0.1:5432 (database ``test`` is only used to create a
private database per test run, dropped at the end).
"""

from __future__ import annotations

import os
import socket
import uuid

import psycopg
import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import text

from tests.factories import create_account, create_widget
from widget_server import create_app
from widget_server.extensions import db

PG_ADMIN_URL = os.environ.get("WIDGET_SERVER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# The machine's Redis: tests share it under key prefixes of their own.
SHARED_REDIS = os.environ.get("WIDGET_SERVER_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    """A loopback port nothing listens on now (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the shared Redis; every key under it is removed."""
    prefix = f"wstest{uuid.uuid4().hex[:12]}"  # huey drops dashes from names
    yield prefix
    client = redis.Redis.from_url(SHARED_REDIS)
    keys = list(client.scan_iter(f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def postgres_url():
    """A private, migrated PostgreSQL database for this test run."""
    name = f"ws_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# What the project's tests let provider base URLs reach (WIDGET_SERVER_PROVIDER_PRIVATE_HOSTS).
LOOPBACK_FAKES = ["127.0.0.0/8", "::1", "localhost", "voice.example", "other.example",
                  "x.example"]


def base_config(instance_path, database_url: str = "") -> dict:
    return {
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": database_url,
        "DEVELOPMENT": True,
        "QUEUE_IMMEDIATE": True,
        "SIMULATOR_SPEED": 0.0,
        "LIMIT_CALL_POST": "1000/minute",
        "LIMIT_FRAME": "1000/minute",
        "LIMIT_CALL_STATUS": "1000/minute",
        "LIMIT_CHALLENGE": "1000/minute",
        "LIMIT_API": "10000/minute",
        "ALTCHA_MAX_NUMBER": 2000,
        # Provider fakes listen on loopback; the admin and API tests save these names.
        "PROVIDER_PRIVATE_HOSTS": LOOPBACK_FAKES,
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_app(tmp_path, database_url):
    """Build apps on this test's database with the settings a test chooses.

    ``make_app(CAPTCHA="hcaptcha")`` overlays ``base_config``; apps built in
    one test share the instance folder and the database (as after a restart).
    """
    apps = []

    def build(**overrides):
        app = create_app(base_config(tmp_path / "instance", database_url) | overrides)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if database_url and apps:
        with apps[0].app_context():
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def widget(app):
    """A widget on https://shop.example and http://localhost:5000, ringing a US number."""
    with app.app_context():
        owner = create_account(name="acme")
        made = create_widget(account=owner, domains=["shop.example", "localhost:5000"])
        db.session.expunge(made)
        return made
