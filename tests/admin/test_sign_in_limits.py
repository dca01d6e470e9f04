"""Password guessing: failures count per email and address, and more slowly per email."""

from __future__ import annotations

from tests.admin.tenants import PASSWORD, build_tree, csrf_token


def attempt(app, email, password, ip):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client.post("/admin/sign-in", data={
        "email": email, "password": password, "csrf_token": csrf_token(client, "/admin/sign-in")})


def test_five_failures_lock_that_address_out_but_not_the_owner_elsewhere(app):
    build_tree(app)
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
    build_tree(app)
    for n in range(8):
        assert attempt(app, "owner@north.example", "guess", f"198.51.100.{n}").status_code == 200
    assert attempt(app, "owner@north.example", PASSWORD, "203.0.113.9").status_code == 429
    assert attempt(app, "owner@south.example", PASSWORD, "203.0.113.9").status_code == 302


def test_one_address_is_counted_per_slash_64_in_ipv6(app):
    build_tree(app)
    for n in range(5):
        assert attempt(app, "owner@north.example", "guess",
                       f"2001:db8:1:2::{n + 1}").status_code == 200
    assert attempt(app, "owner@north.example", PASSWORD, "2001:db8:1:2::99").status_code == 429
    assert attempt(app, "owner@north.example", PASSWORD, "2001:db8:1:3::1").status_code == 302


def test_successful_sign_ins_do_not_count_as_failures(app):
    build_tree(app)
    for _ in range(6):
        assert attempt(app, "owner@north.example", PASSWORD, "198.51.100.1").status_code == 302
