"""/readyz tells a load balancer whether the database, limiter storage and queue answer."""

from __future__ import annotations

from tests.conftest import free_port


def test_readyz_is_ready_when_database_limiter_and_queue_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {
        "database": "ok", "limiter": "ok", "queue": "ok"}}


def test_readyz_names_the_limiter_storage_when_it_is_unreachable(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "checks": {
        "database": "ok", "limiter": "failed", "queue": "ok"}}


def test_readyz_names_the_queue_when_it_is_unreachable(make_app):
    app = make_app(QUEUE_URL=f"redis://127.0.0.1:{free_port()}/0", QUEUE_IMMEDIATE=False)

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "limiter": "ok",
                                             "queue": "failed"}


def test_healthz_stays_a_liveness_check_that_touches_nothing(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
                   QUEUE_URL=f"redis://127.0.0.1:{free_port()}/0", QUEUE_IMMEDIATE=False)

    response = app.test_client().get("/healthz")

    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
