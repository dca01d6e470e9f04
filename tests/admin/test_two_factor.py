"""Two-factor sign-in with TOTP: enrolment, the code after the password, no replay, recovery
codes, remembered browsers, an owner's requirement, rate limits and key rotation."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask.cli import ScriptInfo

from tests.admin.test_invitations import forgot, link_in
from tests.admin.test_sessions import can_see_the_dashboard
from tests.admin.test_users import choose_password
from tests.factories import (
    NORTH_SOUTH,
    PASSWORD,
    create_tree,
    csrf_token,
    signed_in,
    user_id,
    with_forged_signature,
)
from widget_server.cli import main
from widget_server.extensions import db
from widget_server.models import RecoveryCode, User
from widget_server.services import two_factor

MEMBER = "member@north-a.example"


@pytest.fixture
def clock(monkeypatch):
    """The TOTP clock, moved on by ``clock.advance(seconds)``."""

    class Clock:
        now = time.time()

        def __call__(self) -> float:
            return self.now

        def advance(self, seconds: float) -> None:
            self.now += seconds

    moved = Clock()
    monkeypatch.setattr(two_factor, "clock", moved)
    return moved


def code_at(secret: str, moment: float) -> str:
    return pyotp.TOTP(secret).at(int(moment))


def enrol(app, email: str, clock) -> tuple[str, list[str]]:
    """Turn TOTP on for ``email`` in the admin; the secret and the recovery codes shown."""
    client = signed_in(app, email)
    page = client.post("/admin/security/enrol", data={"csrf_token": csrf_token(
        client, "/admin/security")}).get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">(\w+)</code>', page).group(1)
    shown = client.post("/admin/security/confirm", data={
        "csrf_token": csrf_token(client, "/admin/security"),
        "code": code_at(secret, clock.now)})
    assert shown.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>",
                       shown.get_data(as_text=True))
    clock.advance(30)  # the enrolment's code is spent: sign-ins use the next ones
    return secret, codes


def password_step(app, email: str, client=None, password: str = PASSWORD):
    client = client or app.test_client()
    response = client.post("/admin/sign-in", data={
        "email": email, "password": password,
        "csrf_token": csrf_token(client, "/admin/sign-in")})
    return client, response


def code_step(client, code: str, remember: bool = False):
    return client.post("/admin/sign-in/code", data={
        "csrf_token": csrf_token(client, "/admin/sign-in/code"), "code": code,
        **({"remember": "on"} if remember else {})})


def signs_in_with_code(app, email: str, code: str, client=None) -> bool:
    client, response = password_step(app, email, client)
    assert response.location == "/admin/sign-in/code"
    return code_step(client, code).status_code == 302 and can_see_the_dashboard(client)


def test_enrolment_shows_a_qr_code_and_is_on_only_after_a_right_code(app, clock):
    create_tree(app, **NORTH_SOUTH)
    client = signed_in(app, MEMBER)
    assert "Set up two-factor sign-in" in client.get("/admin/security").get_data(as_text=True)
    enrolling = client.post("/admin/security/enrol", data={"csrf_token": csrf_token(
        client, "/admin/security")})
    assert enrolling.headers["Cache-Control"] == "no-store"
    page = enrolling.get_data(as_text=True)
    assert "<svg" in page and 'class="segno"' in page
    secret = re.search(r'<code id="totp-secret">(\w+)</code>', page).group(1)
    wrong = client.post("/admin/security/confirm", data={
        "csrf_token": client.csrf, "code": "000000" if code_at(secret, clock.now) != "000000"
        else "111111"})
    assert 'id="code-error"' in wrong.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == MEMBER))
        assert not user.totp_enabled
        assert secret not in user.totp_secret_encrypted  # encrypted at rest
        assert two_factor.secret_of(user) == secret
    shown = client.post("/admin/security/confirm", data={
        "csrf_token": client.csrf, "code": code_at(secret, clock.now)})
    assert shown.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>",
                       shown.get_data(as_text=True))
    assert len(set(codes)) == 10
    security = client.get("/admin/security").get_data(as_text=True)
    assert 'id="two-factor-on"' in security and "10 of your recovery codes" in security
    assert not any(code in security for code in codes)  # shown once
    with app.app_context():
        stored = db.session.scalars(db.select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and not set(codes) & set(stored)


def test_sign_in_asks_for_the_code_after_the_password_and_grants_nothing_before(app, clock):
    create_tree(app, **NORTH_SOUTH)
    secret, _ = enrol(app, MEMBER, clock)
    client, response = password_step(app, MEMBER)
    assert response.status_code == 302 and response.location == "/admin/sign-in/code"
    # Half signed in: every other page still wants a sign-in.
    for path in ("/admin/", "/admin/widgets", "/admin/security", "/admin/users"):
        assert client.get(path).status_code == 302, path
    assert "Enter your sign-in code" in client.get("/admin/sign-in/code").get_data(as_text=True)
    wrong = code_step(client, "12345x")
    assert wrong.status_code == 200 and "not right" in wrong.get_data(as_text=True)
    assert not can_see_the_dashboard(client)
    assert code_step(client, code_at(secret, clock.now)).status_code == 302
    assert can_see_the_dashboard(client)
    # Nobody else is let through by the right code without the password first.
    stranger = app.test_client()
    assert stranger.get("/admin/sign-in/code").status_code == 302


def test_a_code_is_accepted_once_and_never_an_older_one(app, clock):
    create_tree(app, **NORTH_SOUTH)
    secret, _ = enrol(app, MEMBER, clock)
    code = code_at(secret, clock.now)
    assert signs_in_with_code(app, MEMBER, code)
    assert not signs_in_with_code(app, MEMBER, code)  # replayed within its window
    clock.advance(30)
    assert not signs_in_with_code(app, MEMBER, code_at(secret, clock.now - 60))  # older
    assert signs_in_with_code(app, MEMBER, code_at(secret, clock.now))


def test_a_recovery_code_signs_in_once(app, clock):
    create_tree(app, **NORTH_SOUTH)
    _, codes = enrol(app, MEMBER, clock)
    assert signs_in_with_code(app, MEMBER, codes[3].upper().replace("-", " "))
    assert not signs_in_with_code(app, MEMBER, codes[3])
    client = signed_in(app, MEMBER)
    assert "9 of your recovery codes" in client.get("/admin/security").get_data(as_text=True)
    renewed = client.post("/admin/security/recovery-codes", data={"csrf_token": client.csrf})
    fresh = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>",
                       renewed.get_data(as_text=True))
    assert len(fresh) == 10
    assert not signs_in_with_code(app, MEMBER, codes[4])  # the old ones are gone
    assert signs_in_with_code(app, MEMBER, fresh[0])


def remembered_browser(app, secret, clock):
    """A browser that signed in ticking "remember", then signed out."""
    browser, _ = password_step(app, MEMBER)
    assert code_step(browser, code_at(secret, clock.now), remember=True).status_code == 302
    cookie = browser.get_cookie("two_factor_device", path="/admin/")
    assert cookie is not None and cookie.http_only
    assert cookie.expires is not None
    assert cookie.expires.timestamp() - time.time() <= 30 * 86400 + 5
    browser.post("/admin/sign-out", data={"csrf_token": csrf_token(browser)})
    clock.advance(30)
    return browser, cookie


def test_a_remembered_browser_skips_the_code_for_that_user_only(app, clock):
    create_tree(app, **NORTH_SOUTH)
    secret, _ = enrol(app, MEMBER, clock)
    browser, cookie = remembered_browser(app, secret, clock)
    _, again = password_step(app, MEMBER, browser)
    assert again.location == "/admin/" and can_see_the_dashboard(browser)
    # Another browser, a forged cookie, or another user with this cookie: a code is asked.
    assert password_step(app, MEMBER)[1].location == "/admin/sign-in/code"
    forged = app.test_client()
    forged.set_cookie("two_factor_device", with_forged_signature(cookie.value), path="/admin/")
    assert password_step(app, MEMBER, forged)[1].location == "/admin/sign-in/code"
    enrol(app, "owner@north-a.example", clock)
    other = app.test_client()
    other.set_cookie("two_factor_device", cookie.value, path="/admin/")
    assert password_step(app, "owner@north-a.example", other)[1].location == \
        "/admin/sign-in/code"


def test_a_password_change_or_turning_two_factor_off_forgets_remembered_browsers(
        mail_app, smtp, clock):
    app = mail_app
    create_tree(app, **NORTH_SOUTH)
    secret, _ = enrol(app, MEMBER, clock)
    browser, _ = remembered_browser(app, secret, clock)
    forgot(app, MEMBER)
    assert choose_password(app.test_client(), link_in(smtp.messages[0], "reset"),
                           "brand new password").status_code == 302
    _, after_reset = password_step(app, MEMBER, browser, "brand new password")
    assert after_reset.location == "/admin/sign-in/code"

    browser, _ = remembered_browser_with(app, secret, clock, "brand new password")
    client = signed_in(app, MEMBER)
    refused = client.post("/admin/security/disable", data={"csrf_token": client.csrf,
                                                           "password": "not it"})
    assert refused.status_code == 400 and 'id="password-error"' in refused.get_data(
        as_text=True)
    assert client.post("/admin/security/disable", data={
        "csrf_token": client.csrf, "password": "brand new password"}).status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == MEMBER))
        assert (user.totp_enabled, user.totp_secret_encrypted) == (False, None)
        assert db.session.scalar(db.select(db.func.count(RecoveryCode.id))) == 0
    # Off: the password alone signs in. On again: the old browser is not remembered.
    _, plain = password_step(app, MEMBER, app.test_client(), "brand new password")
    assert plain.location == "/admin/"
    enrol(app, MEMBER, clock)
    _, asked = password_step(app, MEMBER, browser, "brand new password")
    assert asked.location == "/admin/sign-in/code"


def remembered_browser_with(app, secret, clock, password):
    browser, _ = password_step(app, MEMBER, password=password)
    assert code_step(browser, code_at(secret, clock.now), remember=True).status_code == 302
    clock.advance(30)
    return browser, browser.get_cookie("two_factor_device", path="/admin/")


def test_an_owner_requires_two_factor_in_the_subtree_and_users_enrol_first(app, clock):
    create_tree(app, **NORTH_SOUTH)
    owner = signed_in(app, "owner@north.example")
    refused = owner.post("/admin/security/require", data={"csrf_token": owner.csrf,
                                                          "require_two_factor": "on"})
    assert "Turn on two-factor sign-in for yourself first" in refused.get_data(as_text=True)
    enrol(app, "owner@north.example", clock)
    assert owner.post("/admin/security/require", data={
        "csrf_token": owner.csrf, "require_two_factor": "on"}).status_code == 302
    # A member of a client below signs in with the password and can only enrol.
    member, response = password_step(app, MEMBER)
    assert response.location == "/admin/"
    for path in ("/admin/", "/admin/widgets", "/admin/users", "/admin/reports/calls"):
        answer = member.get(path)
        assert (answer.status_code, answer.location) == (302, "/admin/security"), path
    assert 'id="two-factor-required"' in member.get("/admin/security").get_data(as_text=True)
    enrol(app, MEMBER, clock)
    assert can_see_the_dashboard(member)
    # Outside the subtree nothing changes; a member cannot set the requirement.
    _, south = password_step(app, "member@south.example")
    assert south.location == "/admin/"
    north_member = signed_in(app, "member@north.example")
    enrol(app, "member@north.example", clock)
    assert north_member.post("/admin/security/require", data={
        "csrf_token": north_member.csrf, "require_two_factor": "on"}).status_code == 403
    assert "Require it in" not in north_member.get("/admin/security").get_data(as_text=True)


def test_wrong_codes_are_rate_limited(app, clock):
    create_tree(app, **NORTH_SOUTH)
    secret, _ = enrol(app, MEMBER, clock)
    client, _ = password_step(app, MEMBER)
    for _ in range(5):
        assert code_step(client, "000000" if code_at(secret, clock.now) != "000000"
                         else "111111").status_code == 200
    locked = code_step(client, code_at(secret, clock.now))
    assert locked.status_code == 429
    assert not can_see_the_dashboard(client)


def test_keys_rotate_reencrypts_totp_secrets_and_codes_still_work(app, clock):
    create_tree(app, **NORTH_SOUTH)
    secret, _ = enrol(app, MEMBER, clock)
    result = CliRunner().invoke(main, ["keys", "rotate"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    with app.app_context():
        stored = db.session.scalar(db.select(User.totp_secret_encrypted).where(
            User.email == MEMBER))
    newest = Fernet(app.config["ENCRYPTION_KEYS"][0])
    assert newest.decrypt(stored.encode()).decode() == secret  # the new key alone opens it
    assert signs_in_with_code(app, MEMBER, code_at(secret, clock.now))


def test_only_an_owner_above_turns_off_someone_elses_second_factor(app, clock):
    create_tree(app, **NORTH_SOUTH)
    enrol(app, MEMBER, clock)
    enrol(app, "owner@north-a.example", clock)
    member, owner = user_id(app, MEMBER), user_id(app, "owner@north-a.example")
    listing = signed_in(app, "owner@north-a.example").get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{member}/two-factor-off"' in listing
    assert f'action="/admin/users/{owner}/two-factor-off"' not in listing
    for email, target, status in (("owner@north-a.example", owner, 403),
                                  (MEMBER, owner, 403),
                                  ("owner@south.example", member, 404)):
        client = signed_in(app, email)
        assert client.post(f"/admin/users/{target}/two-factor-off",
                           data={"csrf_token": client.csrf}).status_code == status
    owner_above = signed_in(app, "owner@north.example")
    assert owner_above.post(f"/admin/users/{member}/two-factor-off",
                            data={"csrf_token": owner_above.csrf}).status_code == 302
    _, plain = password_step(app, MEMBER)
    assert plain.location == "/admin/"
