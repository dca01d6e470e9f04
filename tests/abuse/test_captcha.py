"""The captcha on the real call path: ALTCHA (default), hCaptcha and Turnstile.

hCaptcha and Turnstile are checked against a loopback server speaking their
siteverify protocol (tests/fakes/siteverify.py); nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select

from tests.factories import PAGE_ORIGIN, call_body, post_call, solve_altcha
from tests.fakes.siteverify import siteverify  # noqa: F401 (fixture)
from widget_server.extensions import db
from widget_server.models import CallRequest
from widget_server.security import tokens

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

CAPTCHA_HOST = "widgets.example"
SITE_KEY = "10000000-ffff-ffff-ffff-000000000001"


def stored_calls(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CallRequest))


def assert_refused(response, status: int, code: str) -> None:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"] == code
    assert body["message"].endswith(".") and len(body["message"].split()) >= 4


def enable_app_log(app) -> None:
    """Undo the disabling of existing loggers by migrations/env.py's ``fileConfig``.

    Without this the app's logger is silent after a migration, and a test that
    looks for a secret in the log would pass for the wrong reason.
    """
    logging.getLogger(app.name).disabled = False


def re_encode(solution: str, **changes) -> str:
    """The same ALTCHA payload as another base64 text (compact JSON, other key order)."""
    payload = json.loads(base64.b64decode(solution)) | changes
    text = json.dumps(dict(reversed(payload.items())), separators=(",", ":"))
    return base64.b64encode(text.encode()).decode()


class TestAltcha:
    def test_a_solved_challenge_is_accepted(self, app, client, widget):
        response = post_call(client, call_body(app, client, widget))
        assert response.status_code == 202, response.get_json()
        assert stored_calls(app) == 1

    def test_a_challenge_handed_out_before_a_key_rotation_is_still_accepted(
            self, app, client, widget):
        solution = solve_altcha(client)
        app.config["SECRET_KEYS"] = [*app.config["SECRET_KEYS"], "r" * 43]
        response = post_call(client, call_body(app, client, widget, captcha=solution))
        assert response.status_code == 202, response.get_json()

    def test_after_a_rotation_a_new_challenge_opens_with_the_new_key_alone(
            self, app, client, widget):
        old_keys = app.config["SECRET_KEYS"]
        app.config["SECRET_KEYS"] = [*old_keys, "r" * 43]
        solution = solve_altcha(client)
        app.config["SECRET_KEYS"] = old_keys
        assert_refused(post_call(client, call_body(app, client, widget, captcha=solution)),
                       403, "captcha_failed")
        app.config["SECRET_KEYS"] = ["r" * 43]
        response = post_call(client, call_body(app, client, widget, captcha=solution))
        assert response.status_code == 202, response.get_json()

    def test_a_wrong_number_is_refused_and_nothing_is_stored(self, app, client, widget):
        solution = solve_altcha(client)
        number = json.loads(base64.b64decode(solution))["number"]
        wrong = re_encode(solution, number=number + 1)
        assert_refused(post_call(client, call_body(app, client, widget, captcha=wrong)),
                       403, "captcha_failed")
        assert stored_calls(app) == 0

    def test_a_replayed_solution_is_refused(self, app, client, widget):
        solution = solve_altcha(client)
        first = post_call(client, call_body(app, client, widget, captcha=solution,
                                            phone="+12025550123"))
        assert first.status_code == 202, first.get_json()
        second = post_call(client, call_body(app, client, widget, captcha=solution,
                                             phone="+12025550124"))
        assert_refused(second, 403, "captcha_replayed")
        assert stored_calls(app) == 1

    def test_a_re_encoded_solution_of_a_used_challenge_counts_as_a_replay(
            self, app, client, widget):
        solution = solve_altcha(client)
        again = re_encode(solution)
        assert again != solution
        first = post_call(client, call_body(app, client, widget, captcha=solution,
                                            phone="+12025550123"))
        assert first.status_code == 202, first.get_json()
        second = post_call(client, call_body(app, client, widget, captcha=again,
                                             phone="+12025550124"))
        assert_refused(second, 403, "captcha_replayed")

    def test_an_expired_challenge_is_refused(self, make_app, widget):
        app = make_app(ALTCHA_MAX_AGE=1)
        client = app.test_client()
        solution = solve_altcha(client)
        salt = json.loads(base64.b64decode(solution))["salt"]
        expires = int(parse_qs(salt.split("?", 1)[1])["expires"][0].rstrip("&"))
        time.sleep(max(0.0, expires - time.time()) + 0.05)
        assert_refused(post_call(client, call_body(app, client, widget, captcha=solution)),
                       403, "captcha_failed")
        assert stored_calls(app) == 0

    def test_a_refused_call_does_not_spend_the_solution(self, app, client, widget):
        solution = solve_altcha(client)
        refused = post_call(client, call_body(app, client, widget, captcha=solution,
                                              consent=False))
        assert_refused(refused, 400, "consent_missing")
        accepted = post_call(client, call_body(app, client, widget, captcha=solution))
        assert accepted.status_code == 202, accepted.get_json()

    @pytest.mark.parametrize("captcha, code", [
        (None, "captcha_missing"),
        ("", "captcha_missing"),
        (12345, "captcha_missing"),
        ({"number": 1}, "captcha_missing"),
        (["x"], "captcha_missing"),
        ("not base64 at all!", "captcha_failed"),
        (base64.b64encode(b"[1, 2]").decode(), "captcha_failed"),
        (base64.b64encode(b'"text"').decode(), "captcha_failed"),
        (base64.b64encode(b"7").decode(), "captcha_failed"),
        (base64.b64encode(json.dumps({
            "algorithm": "SHA-256", "challenge": "00", "number": 1, "salt": 5,
            "signature": "00"}).encode()).decode(), "captcha_failed"),
        (base64.b64encode(json.dumps({
            "algorithm": "MD5", "challenge": "00", "number": 1, "salt": "a",
            "signature": "00"}).encode()).decode(), "captcha_failed"),
    ])
    def test_a_malformed_solution_gets_a_clear_refusal(self, app, client, widget, captcha,
                                                       code):
        response = post_call(client, call_body(app, client, widget, captcha=captcha))
        assert_refused(response, 403 if code == "captcha_failed" else 400, code)
        assert stored_calls(app) == 0


class TestSiteverify:
    """hCaptcha and Turnstile, each checked through the loopback siteverify."""

    @pytest.fixture(params=["hcaptcha", "turnstile"])
    def vendor(self, request):
        return request.param

    @pytest.fixture
    def app(self, make_app, siteverify, vendor):  # noqa: F811
        return make_app(CAPTCHA=vendor, CAPTCHA_VERIFY_URL=siteverify.url,
                        CAPTCHA_SITE_KEY=SITE_KEY, CAPTCHA_SECRET=siteverify.secret,
                        CAPTCHA_HOSTNAME=CAPTCHA_HOST, CAPTCHA_TIMEOUT=0.5)

    def test_a_valid_token_is_accepted_and_sent_with_our_secret(
            self, app, client, widget, siteverify, vendor):  # noqa: F811
        token = siteverify.issue(CAPTCHA_HOST)
        response = post_call(client, call_body(app, client, widget, captcha=token))
        assert response.status_code == 202, response.get_json()
        [sent] = siteverify.requests
        assert sent["secret"] == siteverify.secret
        assert sent["response"] == token
        assert sent["remoteip"] == "127.0.0.1"
        assert sent.get("sitekey") == (SITE_KEY if vendor == "hcaptcha" else None)

    def test_an_unknown_token_is_refused_and_spends_nothing(
            self, app, client, widget, siteverify):  # noqa: F811
        body = call_body(app, client, widget, captcha="P1_forged-token")
        assert_refused(post_call(client, body), 403, "captcha_failed")
        assert stored_calls(app) == 0
        # The form's nonce was not spent: the same form with a good token goes through.
        body["captcha"] = siteverify.issue(CAPTCHA_HOST)
        assert post_call(client, body).status_code == 202

    def test_a_missing_token_is_refused_without_asking_the_vendor(
            self, app, client, widget, siteverify):  # noqa: F811
        body = call_body(app, client, widget, captcha=None)
        assert_refused(post_call(client, body), 400, "captcha_missing")
        assert siteverify.requests == []

    def test_a_replayed_token_is_refused_by_our_own_store(
            self, app, client, widget, siteverify):  # noqa: F811
        siteverify.accept_repeats = True
        token = siteverify.issue(CAPTCHA_HOST)
        first = post_call(client, call_body(app, client, widget, captcha=token,
                                            phone="+12025550123"))
        assert first.status_code == 202, first.get_json()
        second = post_call(client, call_body(app, client, widget, captcha=token,
                                             phone="+12025550124"))
        assert_refused(second, 403, "captcha_replayed")
        assert len(siteverify.requests) == 2
        assert stored_calls(app) == 1

    def test_a_token_the_vendor_already_saw_is_refused(
            self, app, client, widget, siteverify):  # noqa: F811
        token = siteverify.issue(CAPTCHA_HOST)
        assert post_call(client, call_body(app, client, widget, captcha=token,
                                           phone="+12025550123")).status_code == 202
        second = post_call(client, call_body(app, client, widget, captcha=token,
                                             phone="+12025550124"))
        assert_refused(second, 403, "captcha_failed")

    def test_a_token_solved_on_another_host_is_refused(
            self, app, client, widget, siteverify):  # noqa: F811
        token = siteverify.issue("evil.example")
        assert_refused(post_call(client, call_body(app, client, widget, captcha=token)),
                       403, "captcha_failed")
        assert stored_calls(app) == 0

    @pytest.mark.parametrize("mode", ["error", "hang", "garbage"])
    def test_a_vendor_that_fails_gets_a_503_and_the_form_survives(
            self, app, client, widget, siteverify, mode):  # noqa: F811
        siteverify.mode = mode
        body = call_body(app, client, widget, captcha=siteverify.issue(CAPTCHA_HOST))
        assert_refused(post_call(client, body), 503, "captcha_unavailable")
        assert len(siteverify.requests) == 1
        assert stored_calls(app) == 0
        siteverify.mode = "normal"
        assert post_call(client, body).status_code == 202

    @pytest.fixture
    def misconfigured_app(self, make_app, widget, siteverify, vendor):  # noqa: F811
        """Built last, before the test: each migration resets logging (see enable_app_log)."""
        app = make_app(CAPTCHA=vendor, CAPTCHA_VERIFY_URL=siteverify.url,
                       CAPTCHA_SITE_KEY=SITE_KEY, CAPTCHA_SECRET="not-the-secret",
                       CAPTCHA_HOSTNAME=CAPTCHA_HOST)
        enable_app_log(app)
        return app

    def test_a_wrong_secret_is_our_fault_so_the_visitor_gets_a_503(
            self, misconfigured_app, widget, siteverify, caplog):  # noqa: F811
        app = misconfigured_app
        client = app.test_client()
        token = siteverify.issue(CAPTCHA_HOST)
        with caplog.at_level(logging.WARNING):
            response = post_call(client, call_body(app, client, widget, captcha=token))
        assert_refused(response, 503, "captcha_unavailable")
        assert "invalid-input-secret" in caplog.text
        assert "not-the-secret" not in caplog.text

    def test_the_secret_never_reaches_the_browser_nor_the_logs(
            self, app, client, widget, siteverify, caplog):  # noqa: F811
        seen = []
        enable_app_log(app)

        def keep(response):
            seen.append(response)
            return response

        with caplog.at_level(logging.DEBUG):
            with app.app_context():
                token = tokens.embed_token(db.session.merge(widget))
            keep(client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN}))
            keep(client.get("/embed/v1/captcha/challenge"))
            keep(post_call(client, call_body(app, client, widget, captcha="P1_unknown")))
            siteverify.mode = "error"
            keep(post_call(client, call_body(app, client, widget,
                                             captcha=siteverify.issue(CAPTCHA_HOST))))
            siteverify.mode = "normal"
            accepted = keep(post_call(client, call_body(
                app, client, widget, captcha=siteverify.issue(CAPTCHA_HOST))))
            status = accepted.get_json()
            keep(client.get(status["status_url"],
                            headers={"X-Call-Token": status["call_token"]}))

        frame = seen[0]
        assert frame.status_code == 200
        assert SITE_KEY in frame.get_data(as_text=True)
        assert [r.status_code for r in seen[1:]] == [404, 403, 503, 202, 200]
        for response in seen:
            exposed = response.get_data(as_text=True) + str(response.headers)
            assert siteverify.secret not in exposed
        assert siteverify.secret not in caplog.text
        assert all(sent["secret"] == siteverify.secret for sent in siteverify.requests)

    def test_the_vendor_is_told_the_visitors_own_ipv6_address(
            self, app, widget, siteverify):  # noqa: F811
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "2001:db8::7"
        token = siteverify.issue(CAPTCHA_HOST)
        response = post_call(client, call_body(app, client, widget, captcha=token))
        assert response.status_code == 202, response.get_json()
        assert siteverify.requests[-1]["remoteip"] == "2001:db8::7"

