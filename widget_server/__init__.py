"""widget-server: a click-to-call widget with an anti-abuse backend."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import Flask, jsonify
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool
from werkzeug.middleware.proxy_fix import ProxyFix

from widget_server import (
    errors,
    i18n,
    mail,
    ops,
    settings_version,  # noqa: F401  (counts every settings change)
    uploads,
    webhooks,
)
from widget_server import logging as logs
from widget_server.abuse.burst_limit import check_limit_settings
from widget_server.admin import blueprint as admin_blueprint
from widget_server.api import blueprint as api_blueprint
from widget_server.calls import queue, redial
from widget_server.config import settings_from_env
from widget_server.embed import blueprint as embed_blueprint
from widget_server.embed.assets import AssetServer
from widget_server.embed.snapshots import ConfigServer
from widget_server.extensions import compress, csrf, db, limiter, login_manager, migrate
from widget_server.hooks import blueprint as hooks_blueprint
from widget_server.security import headers, outbound
from widget_server.security.keys import resolve_keys
from widget_server.security.sessions import SignedInOnlySessionInterface

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _database_url(config: dict) -> str:
    url = config["DATABASE_URL"]
    if not url:
        return "sqlite:///" + os.path.join(config["INSTANCE_PATH"], "widget-server.sqlite3")
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we install.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(connection, _record) -> None:
    """WAL lets readers run beside the one writer; foreign keys are off by default.

    synchronous=NORMAL in WAL mode syncs at checkpoints, not at every commit: a
    commit survives the app crashing; only an OS crash or power loss may lose
    the last commits (the database stays intact).
    """
    if type(connection).__module__.startswith("sqlite3"):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


# A pooled connection back for less than this is handed out again without a ping.
PING_AFTER_IDLE = 1.0


@event.listens_for(Pool, "checkin")
def _note_checkin(_connection, record) -> None:
    if record is not None:
        record.info["checked_in"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(connection, record, _proxy) -> None:
    """``pool_pre_ping`` for connections that sat idle, so a restarted server is survived.

    A session hands its connection back at every commit, and the worker
    commits a dozen times a call: pinging each checkout was a round trip and
    a tenth of the worker's time. A connection used within the last second
    is taken as alive. A failed ping makes the pool open a fresh connection.
    """
    if type(connection).__module__.startswith("sqlite3"):
        return  # a file does not drop connections
    if time.monotonic() - record.info.get("checked_in", 0.0) < PING_AFTER_IDLE:
        return
    autocommit = connection.autocommit
    try:
        connection.autocommit = True
        connection.cursor().execute("SELECT 1")
        connection.autocommit = autocommit
    except Exception as error:
        raise DisconnectionError(str(error)) from error


def _engine_options(config: dict) -> dict:
    """Enough pooled connections for the queue's threads, which each hold one at a time."""
    return {"pool_size": max(5, int(config["QUEUE_WORKERS"]) + 1)}


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app from defaults, ``WIDGET_SERVER_*`` variables and ``test_config``."""
    settings = settings_from_env() | (test_config or {})
    instance_path = settings["INSTANCE_PATH"] or str(Path.cwd() / "instance")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.session_interface = SignedInOnlySessionInterface()
    app.config.update(settings, INSTANCE_PATH=app.instance_path)
    resolve_keys(app.config)
    outbound.policy(app.config)  # a malformed PROVIDER_PRIVATE_HOSTS stops the start
    check_limit_settings(app.config)  # and so does a malformed LIMIT_*
    redis_url = app.config["REDIS_URL"]
    limiter_uri = app.config["RATELIMIT_STORAGE_URI"] or redis_url or "memory://"
    # A Redis that does not answer fails a request within a second, not a minute.
    limiter_options = ({"socket_connect_timeout": 1, "socket_timeout": 1}
                       if limiter_uri.startswith(("redis://", "rediss://")) else {})
    app.config.update(
        SQLALCHEMY_DATABASE_URI=_database_url(app.config),
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(app.config),
        RATELIMIT_STORAGE_URI=limiter_uri,
        RATELIMIT_STORAGE_OPTIONS=limiter_options | app.config.get(
            "RATELIMIT_STORAGE_OPTIONS", {}),
        # Reads (frame, loader, config) fail open when the limiter storage is down;
        # POST /embed/v1/calls checks that its limit was counted and fails closed.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_HEADER_RETRY_AFTER_VALUE="delta-seconds",
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "application/json"],
        COMPRESS_ALGORITHM=["br", "gzip"],
        SESSION_COOKIE_SECURE=not app.config["DEVELOPMENT"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    # A widget's config, once Flask has made it, answered before Flask (embed/snapshots.py).
    app.wsgi_app = ConfigServer(app, app.wsgi_app)  # type: ignore[method-assign]
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = int(app.config["TRUSTED_PROXY_COUNT"])
        # Flask's documented way to wrap its WSGI app, which mypy reads as a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    # The page views' static files, answered before Flask (embed/assets.py).
    app.wsgi_app = AssetServer(app.wsgi_app)  # type: ignore[method-assign]

    logs.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    limiter.init_app(app)
    compress.init_app(app)
    errors.init_app(app)
    uploads.init_app(app)
    headers.init_app(app)
    i18n.init_app(app)
    ops.init_app(app)
    queue.init_app(app)
    webhooks.init_app(app)
    mail.init_app(app)
    # A call the business missed is tried again (calls/redial.py).
    app.extensions["call_event_subscribers"].append(redial.follow_up)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "admin.sign_in"
    # The visitor's path and provider callbacks carry their own proofs (signed
    # tokens, nonces) and must set no cookie: no session-bound CSRF token there.
    csrf.exempt(embed_blueprint)
    csrf.exempt(hooks_blueprint)
    # The API authenticates each request by its bearer key; no cookie, so no CSRF.
    csrf.exempt(api_blueprint)
    app.register_blueprint(embed_blueprint)
    app.register_blueprint(hooks_blueprint)
    app.register_blueprint(admin_blueprint)
    app.register_blueprint(api_blueprint)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app
