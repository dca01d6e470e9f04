"""Password guessing: five failures per email per 15 minutes, whichever addresses they come from."""

from __future__ import annotations

from tests.admin.tenants import PASSWORD, build_tree, csrf_token


def attempt(app, email, password, ip):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client.post("/admin/sign-in", data={
        "email": email, "password": password, "csrf_token": csrf_token(client, "/admin/sign-in")})


def test_five_failures_for_one_email_lock_it_from_every_address(app):
    build_tree(app)
    for n in range(5):
        assert attempt(app, "owner@north.example", "guess", f"198.51.100.{n}").status_code == 200
    locked = attempt(app, " Owner@North.example", PASSWORD, "203.0.113.9")
    assert locked.status_code == 429
    assert "Too many attempts" in locked.get_data(as_text=True)
    assert locked.mimetype == "text/html"
    # Another person's sign-in is not affected.
    assert attempt(app, "owner@south.example", PASSWORD, "198.51.100.1").status_code == 302


def test_successful_sign_ins_do_not_count_as_failures(app):
    build_tree(app)
    for n in range(6):
        assert attempt(app, "owner@north.example", PASSWORD, f"198.51.100.{n}").status_code == 302
