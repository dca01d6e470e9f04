"""The admin and the API cannot be framed and send their protective headers; the frame can."""

from __future__ import annotations

import pytest

from tests.factories import (
    NORTH_SOUTH,
    create_account,
    create_api_key,
    create_tree,
    signed_in,
)
from widget_server.security.tokens import embed_token


def assert_not_frameable(response):
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return policy


@pytest.fixture
def owner(app):
    create_tree(app, **NORTH_SOUTH)
    return signed_in(app, "owner@north.example")


@pytest.mark.parametrize("path, status", [
    ("/admin/", 200), ("/admin/users", 200), ("/admin/widgets", 200),
    ("/admin/reports/calls", 200), ("/admin/accounts/999999", 404),
    ("/admin/no-such-page", 404), ("/admin/sign-out", 405),
])
def test_every_admin_page_refuses_framing_and_loads_only_its_own_assets(owner, path, status):
    response = owner.get(path)
    assert response.status_code == status
    policy = assert_not_frameable(response)
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["Referrer-Policy"] == "same-origin"
    # The test app runs in development: plain http, so no HSTS.
    assert "Strict-Transport-Security" not in response.headers


def test_the_sign_in_page_and_a_forbidden_page_too(app, owner):
    assert_not_frameable(app.test_client().get("/admin/sign-in"))
    reader = signed_in(app, "read-only@north.example")
    forbidden = reader.get("/admin/users/new")
    assert forbidden.status_code == 403
    assert_not_frameable(forbidden)


def test_api_answers_and_problems_refuse_framing(app):
    with app.app_context():
        key = create_api_key(account=create_account(name="acme"))[1]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}"}
    for response, status in ((client.get("/api/v1/widgets", headers=auth), 200),
                             (client.get("/api/v1/widgets"), 401),
                             (client.get("/api/v1/widgets/nope", headers=auth), 404),
                             (client.get("/api/v1/openapi.json"), 200)):
        assert response.status_code == status
        policy = assert_not_frameable(response)
        assert policy.startswith("default-src 'none'")
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_hsts_outside_development(make_app):
    app = make_app(DEVELOPMENT=False)
    client = app.test_client()
    for path in ("/admin/sign-in", "/api/v1/widgets"):
        assert client.get(path).headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_embed_frame_keeps_its_own_framing_policy(app, client, widget):
    with app.app_context():
        token = embed_token(widget)
    frame = client.get(f"/embed/v1/frame/{token}?origin=https://shop.example",
                       headers={"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"})
    assert "X-Frame-Options" not in frame.headers
    assert "frame-ancestors 'none'" not in frame.headers.get("Content-Security-Policy", "")
