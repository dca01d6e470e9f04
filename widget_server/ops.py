"""Operations endpoints: readiness for load balancers, and Prometheus metrics."""

from __future__ import annotations

import hmac

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import text

from widget_server import metrics
from widget_server.errors import Refusal
from widget_server.extensions import db, limiter

blueprint = Blueprint("ops", __name__)


def _database_ready() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()


def _limiter_ready() -> None:
    if not limiter.storage.check():
        raise ConnectionError("limiter storage unreachable")


def _queue_ready() -> None:
    current_app.extensions["huey"].pending_count()


@blueprint.get("/readyz")
def readyz():
    """Ready when the database, the limiter storage and the queue each answer."""
    checks = {}
    for name, check in (("database", _database_ready), ("limiter", _limiter_ready),
                        ("queue", _queue_ready)):
        try:
            check()
            checks[name] = "ok"
        except Exception as error:  # any failure means not ready
            current_app.logger.warning("readyz: %s failed: %s", name, type(error).__name__)
            checks[name] = "failed"
    ready = all(state == "ok" for state in checks.values())
    response = jsonify(status="ready" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/metrics")
def prometheus_metrics():
    """Prometheus text; with METRICS_TOKEN set, only for ``Authorization: Bearer <token>``."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Refusal("unauthorized", "Metrics need the bearer token.", status=401)
    return Response(metrics.exposition(current_app.extensions["huey"]),
                    mimetype="text/plain; version=0.0.4")


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)

    @app.after_request
    def count_request(response):
        metrics.REQUESTS.labels(request.endpoint or "unmatched", request.method,
                                str(response.status_code)).inc()
        return response
