"""Fixtures: an app on SQLite (and PostgreSQL where marked), a client, and a ready widget.

A test that takes ``app`` runs on SQLite; a module whose SQL matters on
PostgreSQL too says ``pytestmark = pytest.mark.databases("sqlite", "postgresql")``.
PostgreSQL is the one at 127.0.0.1:5432 (database ``test`` is only used to
create a private database per test run, dropped at the end).
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import socket
import uuid
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psycopg
import pytest
import redis
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Config, upgrade
from sqlalchemy import text

from tests.factories import create_account, create_widget
from widget_server import create_app
from widget_server.extensions import db

PG_ADMIN_URL = os.environ.get("WIDGET_SERVER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# The machine's Redis: tests share it under key prefixes of their own.
SHARED_REDIS = os.environ.get("WIDGET_SERVER_TEST_REDIS", "redis://127.0.0.1:6379/0")


# Ports free_port hands out: below the kernel's ephemeral range (32768 up), where
# servers bound to port 0 land, in a block of each pytest-xdist worker's own.
PORT_BLOCK = 1000
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_next_ports = itertools.cycle(range(10_000 + (_WORKER % 20) * PORT_BLOCK,
                                    10_000 + (_WORKER % 20 + 1) * PORT_BLOCK))
# Another run on the same machine starts elsewhere in the block.
for _ in range(random.randrange(PORT_BLOCK)):
    next(_next_ports)


def free_port(span: int = 1) -> int:
    """A loopback port nothing listens on now, nor on the ``span - 1`` after it.

    Each call moves on through this worker's block, so no other worker, and no
    server bound to port 0, is handed the same port between the check and the use.
    """
    for _ in range(PORT_BLOCK):
        port = next(_next_ports)
        if port + span > 10_000 + (_WORKER % 20 + 1) * PORT_BLOCK:
            continue
        try:
            for offset in range(span):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        for _ in range(span - 1):
            next(_next_ports)
        return port
    raise RuntimeError("no free port left in this worker's block")


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


@contextmanager
def scratch_postgres(prefix: str = "ws_test"):
    """The URL of an empty database of its own on the shared PostgreSQL, dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url():
    """A private PostgreSQL database for this test run (one per xdist worker)."""
    with scratch_postgres() as url:
        yield url


# The file an app keeps its SQLite database in, in its instance folder (create_app).
SQLITE_FILE = "widget-server.sqlite3"
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
        # Tests edit a widget and read its config at once; tests/embed/test_page_views.py
        # turns the snapshots on.
        "CONFIG_CACHE_SECONDS": 0,
        # Tests read the refusal figures right after the refusal;
        # tests/abuse/test_refusal_tally.py writes them later, as a process does.
        "REFUSAL_FLUSH_SECONDS": 0,
        # Provider fakes listen on loopback; the admin and API tests save these names.
        "PROVIDER_PRIVATE_HOSTS": LOOPBACK_FAKES,
    }


DATABASES = ("sqlite", "postgresql")


def pytest_configure(config):
    config.addinivalue_line("markers", "databases(*names): the databases a test that takes "
                            "an app runs on, each in turn (default: sqlite)")


def pytest_generate_tests(metafunc):
    """Run each test on SQLite, and on PostgreSQL too where its module marks it so.

    Most behaviour is the same on both; PostgreSQL is for the tests whose SQL
    differs there (concurrency, upserts, locks, migrations, scale).
    """
    if "database_url" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("databases")
        names = marker.args if marker else ("sqlite",)
        assert set(names) <= set(DATABASES), names
        metafunc.parametrize("database_url", names, indirect=True)


@pytest.fixture
def database_url(request):
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database migrated to the newest revision once per session (per worker)."""
    app = create_app(base_config(tmp_path_factory.mktemp("template") / "instance"))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()  # the last connection folds the WAL into the file
    return Path(app.instance_path) / SQLITE_FILE


def migrated_app(config: dict, sqlite_template: Path):
    """``create_app(config)`` on a database at the newest migration.

    SQLite starts from a copy of the session's migrated file: migrating each
    test's own file cost 0.1-0.4 s per test. PostgreSQL's one database per
    session is upgraded only when not at the head revision (first use, or a
    command line test dropped its schema).
    """
    if not config["DATABASE_URL"]:
        target = Path(config["INSTANCE_PATH"]) / SQLITE_FILE
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sqlite_template, target)
    app = create_app(config)
    if config["DATABASE_URL"]:
        directory = app.extensions["migrate"].directory
        with app.app_context():
            with db.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
            if current != head_revision(directory):
                upgrade(directory=directory)
    return app


@cache
def head_revision(directory: str) -> str:
    """The newest migration: read once per session, as Alembic's upgrade reads it each time."""
    config = Config(f"{directory}/alembic.ini")
    config.set_main_option("script_location", directory)
    return ScriptDirectory.from_config(config).get_current_head()


@pytest.fixture
def make_app(tmp_path, database_url, sqlite_template):
    """Build apps on this test's database with the settings a test chooses.

    ``make_app(CAPTCHA="hcaptcha")`` overlays ``base_config``; apps built in
    one test share the instance folder and the database (as after a restart).
    """
    apps = []

    def build(**overrides):
        app = migrated_app(base_config(tmp_path / "instance", database_url) | overrides,
                           sqlite_template)
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
