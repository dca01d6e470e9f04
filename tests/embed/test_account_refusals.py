"""What a visitor and a site owner's console read when a widget may not answer: its
account suspended, the widget removed, or the page not on its list; in the widget's
language, and readable by the page that asked (CORS) so the loader can log it."""

from __future__ import annotations

import pytest

from tests.embed.test_language import catalogue
from tests.factories import (
    PAGE_ORIGIN,
    call_body,
    create_account,
    create_widget,
    post_call,
)
from widget_server.extensions import db
from widget_server.models import Widget, utcnow
from widget_server.security import tokens

SUSPENDED = "Call-backs are not available on this site at the moment."
REMOVED = "This call-back widget has been removed by its owner."


def made(app, *, language: str = "en", suspend: str | None = None, deleted: bool = False):
    """A reseller > client widget; ``suspend`` names the account to suspend."""
    with app.app_context():
        reseller = create_account(name="north", kind="reseller")
        client = create_account(name="shop", parent=reseller)
        widget = create_widget(account=client, language=language)
        if suspend:
            (reseller if suspend == "north" else client).suspended_at = utcnow()
        if deleted:
            widget.deleted_at = utcnow()
        db.session.commit()
        return widget.id, tokens.embed_token(widget)


def config(client, token: str, origin: str = PAGE_ORIGIN):
    return client.get(f"/embed/v1/config/{token}", headers={"Origin": origin})


def frame(client, token: str):
    return client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN})


def assert_readable_refusal(response, status: int, code: str, message: str,
                            origin: str = PAGE_ORIGIN) -> None:
    assert response.status_code == status
    assert response.get_json() == {"error": code, "message": message}
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("suspend", ["shop", "north"])
def test_a_suspended_account_s_widget_refuses_config_frame_and_calls(app, client, suspend):
    widget_id, token = made(app, suspend=suspend)
    assert_readable_refusal(config(client, token), 403, "account_suspended", SUSPENDED)
    assert frame(client, token).get_json() == {"error": "account_suspended",
                                               "message": SUSPENDED}
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        db.session.expunge(widget)
    refused = post_call(client, call_body(app, client, widget))
    assert refused.status_code == 403 and refused.get_json()["error"] == "account_suspended"


def test_lifting_the_suspension_restores_the_widget(app, client):
    widget_id, token = made(app, suspend="shop")
    assert config(client, token).status_code == 403
    with app.app_context():
        db.session.get(Widget, widget_id).account.suspended_at = None
        db.session.commit()
    assert config(client, token).status_code == 200
    assert frame(client, token).status_code == 200


def test_a_removed_widget_says_so_not_that_its_token_must_be_updated(app, client):
    _widget_id, token = made(app, deleted=True)
    assert_readable_refusal(config(client, token), 410, "widget_removed", REMOVED)
    assert frame(client, token).get_json()["error"] == "widget_removed"
    assert "update" not in config(client, token).get_json()["message"]


def test_a_rotated_token_still_says_the_snippet_must_be_updated(app, client):
    widget_id, token = made(app)
    with app.app_context():
        db.session.get(Widget, widget_id).token_version += 1
        db.session.commit()
    refused = config(client, token)
    assert refused.status_code == 403 and refused.get_json()["error"] == "token_revoked"


def test_a_config_refused_for_a_foreign_origin_is_readable_there(app, client):
    _widget_id, token = made(app)
    refused = config(client, token, origin="https://elsewhere.example")
    assert_readable_refusal(refused, 403, "origin_not_allowed",
                            "This widget is not allowed on this site.",
                            origin="https://elsewhere.example")


def test_a_refusal_without_an_origin_carries_no_cors_header(app, client):
    _widget_id, token = made(app, deleted=True)
    refused = client.get(f"/embed/v1/config/{token}")
    assert refused.status_code == 410
    assert "Access-Control-Allow-Origin" not in refused.headers


@pytest.mark.parametrize("language", ["de", "fr", "ar"])
def test_the_refusals_are_in_the_widget_s_language(app, client, language):
    words = catalogue(language)
    _widget_id, suspended = made(app, language=language, suspend="shop")
    assert config(client, suspended).get_json()["message"] == words[SUSPENDED]
    with app.app_context():
        other = create_account(name=f"gone-{language}")
        token = tokens.embed_token(create_widget(account=other, language=language,
                                                 deleted_at=utcnow()))
    assert config(client, token).get_json()["message"] == words[REMOVED]
