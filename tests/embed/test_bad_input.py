"""Every line of "Bad input gets a clear answer", through the real public endpoints.

Each refusal must be a 4xx JSON ``{"error": code, "message": sentence}`` and
leave nothing behind: no call row, no cap counted, no nonce or captcha
solution spent. Where it makes sense the test then fixes the one bad field and
sends the same nonce and captcha again: that they still work proves the
refusal spent neither.
"""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from tests.factories import (
    OWN_ORIGIN,
    PAGE_ORIGIN,
    call_body,
    create_widget,
    post_call,
    solve_altcha,
)
from widget_server.abuse.caps import FULL_CAP_MEMORY_SECONDS
from widget_server.extensions import db
from widget_server.models import Account, CallRequest, UsageCounter, UsedToken, Widget
from widget_server.security import tokens

FOREIGN_ORIGIN = "https://evil.example"


# -- helpers -----------------------------------------------------------------------------

def stored_state(app) -> tuple:
    """Everything a refused request must not change: calls, cap counters, spent ids."""
    with app.app_context():
        calls = db.session.scalar(select(func.count()).select_from(CallRequest))
        counters = sorted(db.session.execute(
            select(UsageCounter.scope, UsageCounter.key, UsageCounter.period,
                   UsageCounter.count)).all())
        used = sorted(db.session.execute(select(UsedToken.kind, UsedToken.token_id)).all())
        db.session.remove()
    return calls, counters, used


def assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == code
    assert re.fullmatch(r"[A-Z][^\n]* [^\n]*[.!?]", body["message"]), body["message"]
    assert "Set-Cookie" not in response.headers


def assert_accepted(response) -> None:
    assert response.status_code == 202, response.get_json()


def foreign_token(widget) -> str:
    """An embed token for this widget's id, signed by another installation's key."""
    other = Flask("another-installation")
    other.config["SECRET_KEYS"] = ["a key this installation has never held"]
    with other.app_context():
        return tokens.embed_token(widget)


def edit(app, model, row_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(model).where(model.id == row_id).values(**values))
        db.session.commit()
        db.session.remove()


def current_token(app, widget) -> str:
    with app.app_context():
        return tokens.embed_token(db.session.get(Widget, widget.id))


def fresh_nonce(app, widget) -> str:
    with app.app_context():
        return tokens.form_nonce(widget)


def visitor_number(n: int) -> str:
    return f"+1202555{100 + n:04d}"


@pytest.fixture(autouse=True)
def roomy_caps(app):
    """Caps out of the way, so each test trips only what it means to trip."""
    app.config.update(CAP_PER_IP=1000, CAP_PER_NUMBER=1000, CAP_PER_NUMBER_PER_MINUTE=1000,
                      CAP_PER_WIDGET=1000, CAP_PER_ACCOUNT=1000)


@pytest.fixture
def body(app, client, widget) -> dict:
    """A valid request from the widget's frame, not yet sent."""
    return call_body(app, client, widget)


# -- tokens ------------------------------------------------------------------------------

TOKEN_CASES = {
    "missing": (lambda widget: None, 400, "token_missing"),
    "garbled": (lambda widget: "eyJ3Ijoi.garbled~token", 403, "token_invalid"),
    "foreign": (foreign_token, 403, "token_invalid"),
}


@pytest.mark.parametrize("case", TOKEN_CASES)
def test_a_call_request_with_a_missing_garbled_or_foreign_token_is_refused(
        app, client, widget, body, case):
    make, status, code = TOKEN_CASES[case]
    before = stored_state(app)
    assert_refused(post_call(client, body | {"token": make(widget)}), status, code)
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


@pytest.mark.parametrize("case", ["garbled", "foreign"])
def test_the_frame_and_the_loader_config_refuse_a_garbled_or_foreign_token(
        client, widget, case):
    make, status, code = TOKEN_CASES[case]
    token = make(widget)
    assert_refused(client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN}),
                   status, code)
    assert_refused(client.get(f"/embed/v1/config/{token}", headers={"Origin": PAGE_ORIGIN}),
                   status, code)


def test_the_frame_and_the_loader_config_without_a_token_answer_not_found_in_json(client):
    assert_refused(client.get("/embed/v1/frame/", query_string={"origin": PAGE_ORIGIN}),
                   404, "not_found")
    assert_refused(client.get("/embed/v1/config/", headers={"Origin": PAGE_ORIGIN}),
                   404, "not_found")


def test_a_revoked_token_is_refused_everywhere_and_the_new_one_works(app, client, widget, body):
    old_token = body["token"]
    edit(app, Widget, widget.id, token_version=widget.token_version + 1)
    before = stored_state(app)
    assert_refused(post_call(client, body), 403, "token_revoked")
    assert_refused(client.get(f"/embed/v1/frame/{old_token}",
                              query_string={"origin": PAGE_ORIGIN}), 403, "token_revoked")
    assert_refused(client.get(f"/embed/v1/config/{old_token}",
                              headers={"Origin": PAGE_ORIGIN}), 403, "token_revoked")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body | {"token": current_token(app, widget)}))


# -- origins -----------------------------------------------------------------------------

@pytest.mark.parametrize("origin", [FOREIGN_ORIGIN, "https://shop.example.evil.example",
                                    "null", "not an origin"])
def test_a_call_request_from_a_disallowed_origin_is_refused(app, client, body, origin):
    before = stored_state(app)
    assert_refused(post_call(client, body, origin=origin), 403, "origin_not_allowed")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body, origin=OWN_ORIGIN))


def test_a_call_request_whose_referer_is_disallowed_is_refused(app, client, body):
    before = stored_state(app)
    response = client.post("/embed/v1/calls", json=body,
                           headers={"Referer": f"{FOREIGN_ORIGIN}/contact"})
    assert_refused(response, 403, "origin_not_allowed")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


@pytest.mark.parametrize("page_origin", [FOREIGN_ORIGIN, "https://example", None, 42,
                                         "javascript:alert(1)"])
def test_a_call_request_naming_a_disallowed_page_origin_is_refused(
        app, client, body, page_origin):
    before = stored_state(app)
    assert_refused(post_call(client, body | {"page_origin": page_origin}),
                   403, "origin_not_allowed")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


def test_the_frame_and_the_loader_config_refuse_a_page_outside_the_whitelist(
        app, client, widget, body):
    token = body["token"]
    for query in ({"origin": FOREIGN_ORIGIN}, {}):
        assert_refused(client.get(f"/embed/v1/frame/{token}", query_string=query),
                       403, "origin_not_allowed")
    assert_refused(client.get(f"/embed/v1/config/{token}", headers={"Origin": FOREIGN_ORIGIN}),
                   403, "origin_not_allowed")
    assert_refused(client.get(f"/embed/v1/config/{token}"), 403, "origin_not_allowed")


# -- nonces ------------------------------------------------------------------------------

def test_a_reused_nonce_is_refused_and_spends_nothing(app, client, widget, body):
    assert_accepted(post_call(client, body))
    second = call_body(app, client, widget, nonce=body["nonce"], phone=visitor_number(1))
    before = stored_state(app)
    assert_refused(post_call(client, second), 403, "nonce_used")
    assert stored_state(app) == before
    # The refused request's captcha solution is still unspent.
    assert_accepted(post_call(client, second | {"nonce": fresh_nonce(app, widget)}))


def test_an_expired_nonce_is_refused_and_spends_nothing(app, client, widget, body):
    app.config["FORM_NONCE_MAX_AGE"] = 0
    time.sleep(1.05)  # the nonce is now a whole second older than allowed
    before = stored_state(app)
    assert_refused(post_call(client, body), 403, "nonce_expired")
    assert stored_state(app) == before
    app.config["FORM_NONCE_MAX_AGE"] = 900
    assert_accepted(post_call(client, body | {"nonce": fresh_nonce(app, widget)}))


def test_a_missing_garbled_or_other_widgets_nonce_is_refused(app, client, widget, body):
    with app.app_context():
        account = db.session.get(Account, widget.account_id)
        other = create_widget(account=account, domains=["shop.example"])
        other_nonce = tokens.form_nonce(other)
        db.session.remove()
    before = stored_state(app)
    assert_refused(post_call(client, body | {"nonce": None}), 400, "nonce_missing")
    assert_refused(post_call(client, body | {"nonce": "garbled.nonce"}), 403, "nonce_invalid")
    assert_refused(post_call(client, body | {"nonce": other_nonce}), 403, "nonce_invalid")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


# -- phone numbers -----------------------------------------------------------------------

@pytest.mark.parametrize("phone, code", [
    ("call me maybe", "phone_invalid"),
    ("+1 202 555", "phone_invalid"),
    ("+1 202 555 0123 ext. 4", "phone_extension"),
    ("", "phone_missing"),
    (None, "phone_missing"),
    (12025550123, "phone_missing"),
    ("+44 20 7946 0958", "phone_country"),   # London, for a US widget
    ("+1 876 523 0123", "phone_country"),    # Jamaica shares +1 but is not the US
    ("+1 900 234 5678", "phone_type"),       # US premium rate
    ("911", "phone_short"),
])
def test_a_malformed_foreign_or_premium_number_is_refused(app, client, body, phone, code):
    before = stored_state(app)
    assert_refused(post_call(client, body | {"phone": phone}), 400, code)
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


# -- captcha -----------------------------------------------------------------------------

def _wrong_answer(solution: str) -> str:
    payload = json.loads(base64.b64decode(solution))
    payload["number"] += 1
    return base64.b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize("captcha, status, code", [
    (None, 400, "captcha_missing"),
    ("", 400, "captcha_missing"),
    (["a", "list"], 400, "captcha_missing"),
    ("not base64 at all!", 403, "captcha_failed"),
    (base64.b64encode(b'{"number": 1}').decode(), 403, "captcha_failed"),
    ("wrong answer", 403, "captcha_failed"),
])
def test_a_missing_or_wrong_captcha_is_refused_and_the_nonce_survives(
        app, client, body, captcha, status, code):
    if captcha == "wrong answer":
        captcha = _wrong_answer(body["captcha"])
    before = stored_state(app)
    assert_refused(post_call(client, body | {"captcha": captcha}), status, code)
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


def test_a_replayed_captcha_is_refused_and_the_nonce_survives(app, client, widget, body):
    assert_accepted(post_call(client, body))
    second = call_body(app, client, widget, captcha=body["captcha"], phone=visitor_number(2))
    before = stored_state(app)
    assert_refused(post_call(client, second), 403, "captcha_replayed")
    assert stored_state(app) == before
    assert_accepted(post_call(client, second | {"captcha": solve_altcha(client)}))


# -- caps --------------------------------------------------------------------------------

def _assert_cap_refusal(app, response, code: str) -> None:
    assert_refused(response, 429, code)
    assert 1 <= int(response.headers["Retry-After"]) <= 86400


def test_the_per_ip_cap_refuses_with_retry_after_and_spends_nothing(app, client, widget):
    edit(app, Widget, widget.id, cap_per_ip=1)
    assert_accepted(post_call(client, call_body(app, client, widget, phone=visitor_number(1))))
    body = call_body(app, client, widget, phone=visitor_number(2))
    before = stored_state(app)
    _assert_cap_refusal(app, post_call(client, body), "cap_ip")
    assert stored_state(app) == before
    # Another address is not held back, and the refused form still works for it.
    other_ip = client.post("/embed/v1/calls", json=body, headers={"Origin": OWN_ORIGIN},
                           environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert_accepted(other_ip)


def test_the_per_number_cap_refuses_with_retry_after_and_spends_nothing(app, client, widget):
    edit(app, Widget, widget.id, cap_per_number=1)
    assert_accepted(post_call(client, call_body(app, client, widget)))
    body = call_body(app, client, widget)
    before = stored_state(app)
    _assert_cap_refusal(app, post_call(client, body), "cap_number")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body | {"phone": visitor_number(3)}))


def test_the_per_number_flood_guard_refuses_a_second_call_within_the_minute(
        app, client, widget):
    app.config["CAP_PER_NUMBER_PER_MINUTE"] = 1
    first, body = (call_body(app, client, widget) for _ in range(2))
    if time.gmtime().tm_sec >= 58:  # both requests must fall in one minute
        time.sleep(3)
    assert_accepted(post_call(client, first))
    before = stored_state(app)
    response = post_call(client, body)
    _assert_cap_refusal(app, response, "cap_number_min")
    assert int(response.headers["Retry-After"]) <= 60
    assert stored_state(app) == before
    assert_accepted(post_call(client, body | {"phone": visitor_number(4)}))


def test_the_per_widget_cap_counts_every_visitor_of_the_widget(app, client, widget):
    edit(app, Widget, widget.id, cap_per_widget=1)
    assert_accepted(post_call(client, call_body(app, client, widget, phone=visitor_number(5))))
    body = call_body(app, client, widget, phone=visitor_number(6))
    before = stored_state(app)
    response = client.post("/embed/v1/calls", json=body, headers={"Origin": OWN_ORIGIN},
                           environ_base={"REMOTE_ADDR": "198.51.100.8"})
    _assert_cap_refusal(app, response, "cap_widget")
    assert stored_state(app) == before
    edit(app, Widget, widget.id, cap_per_widget=2)
    time.sleep(FULL_CAP_MEMORY_SECONDS)  # the process that found it full reads it again
    assert_accepted(post_call(client, body))


def test_the_per_account_cap_counts_every_widget_of_the_account(app, client, widget):
    with app.app_context():
        account = db.session.get(Account, widget.account_id)
        sibling = create_widget(account=account, domains=["shop.example"])
        db.session.expunge(sibling)
    edit(app, Account, widget.account_id, daily_call_cap=1)
    assert_accepted(post_call(client, call_body(app, client, widget, phone=visitor_number(7))))
    body = call_body(app, client, sibling, phone=visitor_number(8))
    before = stored_state(app)
    response = client.post("/embed/v1/calls", json=body, headers={"Origin": OWN_ORIGIN},
                           environ_base={"REMOTE_ADDR": "198.51.100.9"})
    _assert_cap_refusal(app, response, "cap_account")
    assert stored_state(app) == before
    edit(app, Account, widget.account_id, daily_call_cap=2)
    time.sleep(FULL_CAP_MEMORY_SECONDS)  # the process that found it full reads it again
    assert_accepted(post_call(client, body))


# -- the body itself ---------------------------------------------------------------------

def test_an_oversized_body_is_refused_with_413_json(app, client, body):
    limit = app.config["MAX_CONTENT_LENGTH"]
    before = stored_state(app)
    response = post_call(client, body | {"padding": "x" * limit})
    assert_refused(response, 413, "body_too_large")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", None,
])
def test_a_body_that_is_not_json_is_refused_with_415_json(app, client, body, content_type):
    before = stored_state(app)
    if content_type == "application/x-www-form-urlencoded":
        response = client.post("/embed/v1/calls", data={k: str(v) for k, v in body.items()},
                               headers={"Origin": OWN_ORIGIN})
    else:
        response = client.post("/embed/v1/calls", data=json.dumps(body),
                               content_type=content_type, headers={"Origin": OWN_ORIGIN})
    assert_refused(response, 415, "unsupported_media_type")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


@pytest.mark.parametrize("raw", [
    '{"token": "abc", ', "{'token': 'abc'}", "", "[1, 2]", '"a string"', "42", "null",
    "[" * 10_000,
], ids=["truncated", "single-quoted", "empty", "list", "string", "number", "null",
        "nested-too-deep"])
def test_invalid_json_or_json_that_is_not_an_object_is_refused_with_400(app, client, body, raw):
    before = stored_state(app)
    response = client.post("/embed/v1/calls", data=raw, content_type="application/json",
                           headers={"Origin": OWN_ORIGIN})
    assert_refused(response, 400, "body_invalid")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


def test_a_body_that_is_not_utf8_is_refused_with_400(app, client, body):
    before = stored_state(app)
    response = client.post("/embed/v1/calls", data=b'{"token": "\xff\xfe"}',
                           content_type="application/json", headers={"Origin": OWN_ORIGIN})
    assert_refused(response, 400, "body_invalid")
    assert stored_state(app) == before


def test_a_request_without_consent_is_refused(app, client, body):
    before = stored_state(app)
    for consent in (None, False, "yes", 1):
        assert_refused(post_call(client, body | {"consent": consent}), 400, "consent_missing")
    assert stored_state(app) == before
    assert_accepted(post_call(client, body))


# -- call status -------------------------------------------------------------------------

@pytest.fixture
def placed(app, client, body) -> dict:
    response = post_call(client, body)
    assert_accepted(response)
    return response.get_json()


def test_an_unknown_call_id_is_not_found(app, client, placed):
    class Unknown:
        public_id = "no-such-call-id"
    with app.app_context():
        token_for_unknown = tokens.call_token(Unknown)
    for call_token in (token_for_unknown, placed["call_token"], None):
        headers = {"X-Call-Token": call_token} if call_token else {}
        assert_refused(client.get("/embed/v1/calls/no-such-call-id", headers=headers),
                       404, "call_not_found")


@pytest.mark.parametrize("call_token", [None, "", "garbled", "someone else's"])
def test_a_call_is_not_found_without_its_own_call_token(app, client, widget, placed,
                                                         call_token):
    if call_token == "someone else's":
        other = post_call(client, call_body(app, client, widget, phone=visitor_number(9)))
        call_token = other.get_json()["call_token"]
    headers = {} if call_token is None else {"X-Call-Token": call_token}
    response = client.get(placed["status_url"], headers=headers)
    assert_refused(response, 404, "call_not_found")
    unknown = client.get("/embed/v1/calls/no-such-call-id", headers=headers)
    assert response.get_json() == unknown.get_json()  # an existing call is not revealed
    owner = client.get(placed["status_url"], headers={"X-Call-Token": placed["call_token"]})
    assert owner.status_code == 200


# -- cookies -----------------------------------------------------------------------------

def test_no_response_on_the_visitors_path_sets_a_cookie(app, client, widget, body):
    token = body["token"]
    accepted = post_call(client, body)
    assert_accepted(accepted)
    placed = accepted.get_json()
    responses = {
        "loader": client.get("/embed/v1/loader.js"),
        "config": client.get(f"/embed/v1/config/{token}", headers={"Origin": PAGE_ORIGIN}),
        "frame": client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN}),
        "nonce": client.get(f"/embed/v1/nonce/{token}", headers={"Sec-Fetch-Site": "same-origin"}),
        "challenge": client.get("/embed/v1/captcha/challenge"),
        "post": accepted,
        "status": client.get(placed["status_url"],
                             headers={"X-Call-Token": placed["call_token"]}),
        "refusal": post_call(client, body),
    }
    answered = {name: r.status_code for name, r in responses.items()}
    assert answered == {"loader": 200, "config": 200, "frame": 200, "nonce": 200, "challenge": 200,
                        "post": 202, "status": 200, "refusal": 403}
    assert {name: r.headers.getlist("Set-Cookie") for name, r in responses.items()} == {
        name: [] for name in responses}
