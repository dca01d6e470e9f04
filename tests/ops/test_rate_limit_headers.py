"""Rate-limited endpoints advertise their limit; only a 429 says when to retry."""

from __future__ import annotations

from tests.factories import PAGE_ORIGIN, call_body, post_call
from widget_server.extensions import db
from widget_server.security import tokens


def test_the_frame_advertises_its_limit_and_its_429_carries_retry_after(make_app, widget):
    app = make_app(LIMIT_FRAME="2/minute")
    client = app.test_client()
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))

    answers = [client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN})
               for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-RateLimit-Limit"] for a in answers] == ["2", "2", "2"]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert all(int(a.headers["X-RateLimit-Reset"]) > 0 for a in answers)
    assert "Retry-After" not in answers[0].headers and "Retry-After" not in answers[1].headers
    assert 0 < int(answers[2].headers["Retry-After"]) <= 60
    assert answers[2].get_json()["error"] == "rate_limited"


def test_a_call_request_under_its_limit_carries_no_limit_headers(client, app, widget):
    """The frame reads none of them, and each would cost a read from the limiter's store."""
    accepted = post_call(client, call_body(app, client, widget))
    refused = post_call(client, call_body(app, client, widget, consent=False))

    assert accepted.status_code == 202 and refused.status_code == 400
    for response in (accepted, refused):
        assert "X-RateLimit-Limit" not in response.headers
        assert "X-RateLimit-Remaining" not in response.headers
        assert "Retry-After" not in response.headers


def test_a_call_request_over_its_limit_says_when_to_retry(make_app, widget):
    app = make_app(LIMIT_CALL_POST="1/minute")
    client = app.test_client()

    first = post_call(client, call_body(app, client, widget))
    second = post_call(client, call_body(app, client, widget))

    assert first.status_code == 202
    assert second.status_code == 429 and second.get_json()["error"] == "rate_limited"
    assert second.headers["X-RateLimit-Limit"] == "1"
    assert 0 < int(second.headers["Retry-After"]) <= 60
