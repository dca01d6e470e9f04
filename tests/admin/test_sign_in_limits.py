"""Password guessing: failures count per email and address, and more slowly per email."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import (
    NORTH_SOUTH,
    PASSWORD,
    create_tree,
    csrf_token,
    with_forged_signature,
)
from widget_server.extensions import db
from widget_server.models import User
from widget_server.services.users import set_password


def attempt(app, email, password, ip, client=None):
    client = client or app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client.post("/admin/sign-in", data={
        "email": email, "password": password, "csrf_token": csrf_token(client, "/admin/sign-in")})


def test_five_failures_lock_that_address_out_but_not_the_owner_elsewhere(app):
    create_tree(app, **NORTH_SOUTH)
    for _ in range(5):
        assert attempt(app, "owner@north.example", "guess", "198.51.100.7").status_code == 200
    locked = attempt(app, " Owner@North.example", PASSWORD, "198.51.100.7")
    assert locked.status_code == 429
    assert "Too many attempts" in locked.get_data(as_text=True)
    assert locked.mimetype == "text/html"
    # The owner, from their own address, still signs in; so does anyone else.
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9").status_code == 302
    assert attempt(app, "owner@south.example", PASSWORD, "198.51.100.7").status_code == 302


def test_failures_from_many_addresses_lock_the_email_at_the_slower_limit(make_app):
    app = make_app(LIMIT_SIGN_IN_FAILURES_PER_EMAIL="8 per hour")
    create_tree(app, **NORTH_SOUTH)
    for n in range(8):
        assert attempt(app, "owner@north.example", "guess", f"198.51.100.{n}").status_code == 200
    # A browser that never signed in as this user is locked out, from any address.
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9").status_code == 429
    assert attempt(app, "owner@south.example", PASSWORD, "203.0.113.9").status_code == 302


def test_the_owner_still_signs_in_from_their_own_browser_when_the_email_is_locked(make_app):
    app = make_app(LIMIT_SIGN_IN_FAILURES_PER_EMAIL="8 per hour")
    create_tree(app, **NORTH_SOUTH)
    owners_browser = app.test_client()
    signed_in = attempt(app, "owner@north.example", PASSWORD, "203.0.113.9", owners_browser)
    assert signed_in.status_code == 302
    device_cookie = owners_browser.get_cookie("known_device", path="/admin/")
    assert device_cookie is not None and device_cookie.http_only
    owners_browser.post("/admin/sign-out", data={
        "csrf_token": csrf_token(owners_browser, "/admin/")})
    someone_elses_browser = app.test_client()
    assert attempt(app, "owner@south.example", PASSWORD, "192.0.2.1",
                   someone_elses_browser).status_code == 302

    for n in range(8):
        assert attempt(app, "owner@north.example", "guess", f"198.51.100.{n}").status_code == 200

    # A browser without the cookie, another user's, or a forged one stays locked out...
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9").status_code == 429
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9",
                   someone_elses_browser).status_code == 429
    forged = app.test_client()
    forged.set_cookie("known_device", with_forged_signature(device_cookie.value), path="/admin/")
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9", forged).status_code == 429
    # ...while the owner's own browser signs in.
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9",
                   owners_browser).status_code == 302


def test_a_known_browser_still_has_the_per_address_limit(make_app):
    app = make_app(LIMIT_SIGN_IN_FAILURES_PER_EMAIL="8 per hour")
    create_tree(app, **NORTH_SOUTH)
    browser = app.test_client()
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9", browser).status_code == 302
    for _ in range(5):
        assert attempt(app, "owner@north.example", "guess", "203.0.113.9",
                       browser).status_code == 200
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9",
                   browser).status_code == 429


def test_a_new_password_forgets_the_known_browsers(make_app):
    app = make_app(LIMIT_SIGN_IN_FAILURES_PER_EMAIL="8 per hour")
    create_tree(app, **NORTH_SOUTH)
    browser = app.test_client()
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9", browser).status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "owner@north.example"))
        set_password(user, PASSWORD)  # same words, new salt: a new hash
        db.session.commit()
    for n in range(8):
        assert attempt(app, "owner@north.example", "guess", f"198.51.100.{n}").status_code == 200
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9",
                   browser).status_code == 429


def test_one_address_is_counted_per_slash_64_in_ipv6(app):
    create_tree(app, **NORTH_SOUTH)
    for n in range(5):
        assert attempt(app, "owner@north.example", "guess",
                       f"2001:db8:1:2::{n + 1}").status_code == 200
    assert attempt(app, "owner@north.example", PASSWORD, "2001:db8:1:2::99").status_code == 429
    assert attempt(app, "owner@north.example", PASSWORD, "2001:db8:1:3::1").status_code == 302


def test_successful_sign_ins_do_not_count_as_failures(app):
    create_tree(app, **NORTH_SOUTH)
    for _ in range(6):
        assert attempt(app, "owner@north.example", PASSWORD, "198.51.100.1").status_code == 302
