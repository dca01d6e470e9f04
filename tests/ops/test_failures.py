"""When a part the app depends on is down, no call is placed and the visitor is told.

Limiter storage down: reads (frame, config, loader) still render, a call
request is refused with 503. Queue down: the stored call is failed so no
worker ever places it later, its caps are given back, and the visitor gets
503. Database down: 503 with a sentence, never a 500.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import base_config, free_port
from tests.factories import PAGE_ORIGIN, call_body, post_call
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import CallRequest
from widget_server.security import tokens

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

UNAVAILABLE = {"error": "service_unavailable",
               "message": "We cannot take requests just now; please try again in a few minutes."}


def stored_calls(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.execute(select(CallRequest.status, CallRequest.reason)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def embed_token(app, widget) -> str:
    with app.app_context():
        return tokens.embed_token(db.session.merge(widget))


def test_limiter_storage_down_refuses_the_call_but_the_frame_and_loader_still_render(
        make_app, widget):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    client = app.test_client()
    body = call_body(app, client, widget)

    refused = post_call(client, body)
    frame = client.get(f"/embed/v1/frame/{embed_token(app, widget)}",
                       query_string={"origin": PAGE_ORIGIN})
    loader = client.get("/embed/v1/loader.js")

    assert refused.status_code == 503 and refused.get_json() == UNAVAILABLE
    assert stored_calls(app) == []
    assert frame.status_code == 200 and "<form" in frame.text
    assert loader.status_code == 200


def test_queue_down_answers_503_the_call_is_failed_never_to_be_placed_and_caps_are_given_back(
        make_app, widget):
    app = make_app(QUEUE_URL=f"redis://127.0.0.1:{free_port()}/0", QUEUE_IMMEDIATE=False)
    client = app.test_client()

    refused = post_call(client, call_body(app, client, widget))

    assert refused.status_code == 503 and refused.get_json() == UNAVAILABLE
    assert stored_calls(app) == [("failed", "queue_unavailable")]
    # Told to try again, the visitor can at once: the per-minute guard on the
    # number (one call) was not spent on the call that never rang.
    working = make_app()
    retried = post_call(working.test_client(), call_body(working, working.test_client(), widget))
    assert retried.status_code == 202, retried.get_json()


def test_database_down_answers_503_with_a_sentence_on_reads_and_on_call_requests(
        make_app, widget, database_url, tmp_path):
    app = make_app()
    client = app.test_client()
    body = call_body(app, client, widget)
    down_url = (f"postgresql://postgres@127.0.0.1:{free_port()}/test" if database_url
                else f"sqlite:///{tmp_path}/no-such-folder/db.sqlite3")
    # Same instance folder, so the same keys sign and read the token.
    down = create_app(base_config(tmp_path / "instance", down_url)).test_client()

    frame = down.get(f"/embed/v1/frame/{body['token']}", query_string={"origin": PAGE_ORIGIN})
    posted = post_call(down, body)

    for response in (frame, posted):
        assert response.status_code == 503 and response.get_json() == UNAVAILABLE
        assert response.headers["Retry-After"] == "30"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CallRequest)) == 0
