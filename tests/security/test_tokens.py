"""Embed tokens survive key rotation and die with a token rotation; form nonces work once."""

from __future__ import annotations

import secrets
import time

import pytest
from itsdangerous import URLSafeSerializer

from tests.factories import (
    PAGE_ORIGIN,
    call_body,
    create_account,
    create_widget,
    post_call,
    solve_altcha,
)
from widget_server.extensions import db
from widget_server.models import Widget
from widget_server.security import tokens

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

OLD_KEY = "old-" + secrets.token_urlsafe(24)
NEW_KEY = "new-" + secrets.token_urlsafe(24)
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def new_widget(app) -> Widget:
    with app.app_context():
        owner = create_account(name="acme-" + secrets.token_hex(4))
        made = create_widget(account=owner, domains=["shop.example"])
        db.session.expunge(made)
        return made


def token_for(app, widget) -> str:
    """The widget's token as stored now (merging the detached copy would undo a rotation)."""
    with app.app_context():
        return tokens.embed_token(db.session.get(Widget, widget.id))


def frame(client, token):
    return client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN})


def assert_refused(response, status: int, code: str) -> None:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"] == code
    assert body["message"].endswith(".")


def test_an_embed_token_names_its_widget_and_version(app, widget):
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))
        assert tokens.read_embed_token(token) == (widget.public_id, widget.token_version)


class TestKeyRotation:
    def test_a_token_from_before_a_rotation_still_works_after_it(self, make_app):
        before = make_app(SECRET_KEYS=[OLD_KEY])
        widget = new_widget(before)
        old_token = token_for(before, widget)

        after = make_app(SECRET_KEYS=[OLD_KEY, NEW_KEY])
        client = after.test_client()
        assert frame(client, old_token).status_code == 200
        response = post_call(client, call_body(after, client, widget, token=old_token))
        assert response.status_code == 202, response.get_json()

    def test_the_newest_key_signs_so_the_old_one_can_then_be_retired(self, make_app):
        during = make_app(SECRET_KEYS=[OLD_KEY, NEW_KEY])
        widget = new_widget(during)
        new_token = token_for(during, widget)

        retired = make_app(SECRET_KEYS=[NEW_KEY])
        client = retired.test_client()
        assert frame(client, new_token).status_code == 200
        response = post_call(client, call_body(retired, client, widget, token=new_token))
        assert response.status_code == 202, response.get_json()

    def test_a_token_signed_only_with_a_retired_key_is_refused(self, make_app):
        before = make_app(SECRET_KEYS=[OLD_KEY])
        widget = new_widget(before)
        old_token = token_for(before, widget)

        retired = make_app(SECRET_KEYS=[NEW_KEY])
        client = retired.test_client()
        assert_refused(frame(client, old_token), 403, "token_invalid")
        assert_refused(post_call(client, call_body(retired, client, widget, token=old_token)),
                       403, "token_invalid")

    def test_an_app_that_never_had_the_new_key_refuses_its_tokens(self, make_app):
        during = make_app(SECRET_KEYS=[OLD_KEY, NEW_KEY])
        widget = new_widget(during)
        new_token = token_for(during, widget)
        before = make_app(SECRET_KEYS=[OLD_KEY])
        assert_refused(frame(before.test_client(), new_token), 403, "token_invalid")


def test_rotating_the_widgets_token_revokes_the_old_one(app, client, widget):
    old_token = token_for(app, widget)
    with app.app_context():
        db.session.get(Widget, widget.id).token_version += 1
        db.session.commit()
    assert_refused(frame(client, old_token), 403, "token_revoked")
    assert_refused(post_call(client, call_body(app, client, widget, token=old_token)),
                   403, "token_revoked")
    new_token = token_for(app, widget)
    assert new_token != old_token
    assert frame(client, new_token).status_code == 200
    response = post_call(client, call_body(app, client, widget, token=new_token))
    assert response.status_code == 202, response.get_json()


def _foreign_tokens(app, widget) -> dict[str, str]:
    with app.app_context():
        keys = app.config["SECRET_KEYS"]
        good = tokens.embed_token(db.session.merge(widget))
        payload = {"w": widget.public_id, "v": widget.token_version}
        return {
            "garbage": "not-a-token",
            "tampered": good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1],
            "payload swapped": URLSafeSerializer(keys, salt="widget-server.embed-token").dumps(
                {"w": widget.public_id, "v": 99}).split(".")[0] + "." + good.split(".")[1],
            "foreign key": URLSafeSerializer(["someone-else"],
                                             salt="widget-server.embed-token").dumps(payload),
            "nonce as token": tokens.form_nonce(db.session.merge(widget)),
            "other salt": URLSafeSerializer(keys, salt="widget-server.call-token").dumps(payload),
            "list payload": URLSafeSerializer(keys, salt="widget-server.embed-token").dumps([1]),
            "text payload": URLSafeSerializer(keys, salt="widget-server.embed-token").dumps("x"),
            "bad version": URLSafeSerializer(keys, salt="widget-server.embed-token").dumps(
                {"w": widget.public_id, "v": "one"}),
        }


@pytest.mark.parametrize("kind", ["garbage", "tampered", "payload swapped", "foreign key",
                                  "nonce as token", "other salt", "list payload",
                                  "text payload", "bad version"])
def test_a_garbled_or_foreign_token_is_refused(app, client, widget, kind):
    token = _foreign_tokens(app, widget)[kind]
    assert_refused(frame(client, token), 403, "token_invalid")
    assert_refused(post_call(client, call_body(app, client, widget, token=token)),
                   403, "token_invalid")


def test_a_well_signed_token_for_an_unknown_widget_is_refused(app, client, widget):
    with app.app_context():
        token = URLSafeSerializer(app.config["SECRET_KEYS"],
                                  salt="widget-server.embed-token").dumps({"w": "nobody", "v": 1})
    # We signed it, so its widget existed: it was removed, not mistyped.
    assert_refused(frame(client, token), 410, "widget_removed")


@pytest.mark.parametrize("token", [None, "", 42, ["x"]])
def test_a_missing_token_is_refused(app, client, widget, token):
    assert_refused(post_call(client, call_body(app, client, widget, token=token)),
                   400, "token_missing")


class TestFormNonce:
    def test_a_nonce_is_accepted_once(self, app, client, widget):
        body = call_body(app, client, widget, phone="+12025550123")
        assert post_call(client, body).status_code == 202
        again = dict(body, captcha=solve_altcha(client), phone="+12025550124")
        assert_refused(post_call(client, again), 403, "nonce_used")

    @pytest.mark.parametrize("respell", ["padding", "spare bits"])
    def test_a_respelled_nonce_is_the_same_nonce(self, app, client, widget, respell):
        """itsdangerous decodes the signature leniently, so one nonce has several spellings.

        Padding may be added, and the 27th base64 character of a 20-byte
        signature carries 2 unused bits. Replay is keyed on the id inside.
        """
        body = call_body(app, client, widget, phone="+12025550123")
        nonce = body["nonce"]
        if respell == "padding":
            other = nonce + "="
        else:
            last = _B64.index(nonce[-1])
            other = nonce[:-1] + _B64[last ^ 1]
        assert other != nonce
        first = post_call(client, dict(body, nonce=other))
        assert first.status_code == 202, first.get_json()
        again = dict(body, captcha=solve_altcha(client), phone="+12025550124")
        assert_refused(post_call(client, again), 403, "nonce_used")

    def test_a_nonce_expires(self, make_app, widget):
        app = make_app(FORM_NONCE_MAX_AGE=1)
        client = app.test_client()
        body = call_body(app, client, widget)
        # The nonce's timestamp is whole seconds, at most this one: two seconds on, its
        # age is over the one allowed, whenever within its second it was minted.
        minted_at_most = int(time.time())
        time.sleep(max(0.0, minted_at_most + 2.05 - time.time()))
        assert_refused(post_call(client, body), 403, "nonce_expired")

    def test_a_nonce_for_another_widget_is_refused(self, app, client, widget):
        other = new_widget(app)
        with app.app_context():
            foreign = tokens.form_nonce(db.session.merge(other))
        assert_refused(post_call(client, call_body(app, client, widget, nonce=foreign)),
                       403, "nonce_invalid")

    @pytest.mark.parametrize("nonce, status, code", [
        (None, 400, "nonce_missing"),
        ("", 400, "nonce_missing"),
        (7, 400, "nonce_missing"),
        ("garbage", 403, "nonce_invalid"),
        ("a.b.c", 403, "nonce_invalid"),
    ])
    def test_a_missing_or_garbled_nonce_is_refused(self, app, client, widget, nonce, status,
                                                   code):
        assert_refused(post_call(client, call_body(app, client, widget, nonce=nonce)),
                       status, code)

    def test_a_refused_request_does_not_spend_its_nonce(self, app, client, widget):
        body = call_body(app, client, widget)
        assert_refused(post_call(client, dict(body, phone="+1 900 200 1234")), 400, "phone_type")
        assert post_call(client, body).status_code == 202
