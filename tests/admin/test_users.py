"""People: owners invite and remove users; a forgotten password is reset by a single-use link.

The invitation and reset mails through a real SMTP server are in
tests/admin/test_invitations.py.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import (
    NORTH_SOUTH,
    create_tree,
    csrf_token,
    signed_in,
    user_id,
    with_forged_signature,
)
from widget_server.admin.auth import password_matches
from widget_server.cli import main
from widget_server.extensions import db
from widget_server.models import User
from widget_server.security import password_links


def sign_in(app, email, password):
    client = app.test_client()
    response = client.post("/admin/sign-in", data={
        "email": email, "password": password,
        "csrf_token": csrf_token(client, "/admin/sign-in")})
    return response.status_code == 302


def test_owner_invites_a_member_who_has_no_password_until_they_choose_one(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@north.example")
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert 'type="password"' not in form
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client), "email": "new@north-a.example",
        "account_id": ids["north-a"], "role": "member", "password": "a long password"})
    assert response.status_code == 302
    with app.app_context():
        created = db.session.scalar(select(User).where(User.email == "new@north-a.example"))
        assert (created.account_id, created.role) == (ids["north-a"], "member")
        assert created.password_hash == "" and not created.has_password
    # A password posted anyway is ignored: nobody chooses another's password.
    assert not sign_in(app, "new@north-a.example", "a long password")
    assert not sign_in(app, "new@north-a.example", "")
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "invited: no password yet" in listing


def test_an_invalid_or_taken_email_is_refused(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@north-a.example")
    bad = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client), "email": "x at north-a.example",
        "account_id": ids["north-a"], "role": "member"})
    assert 'id="email-error"' in bad.get_data(as_text=True)
    taken = client.post("/admin/users/new", data={
        "csrf_token": csrf_token(client), "email": "Member@North-a.example",
        "account_id": ids["north-a"], "role": "member"})
    assert "already signs in with this email" in taken.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "x at north-a.example")) is None


def test_owner_removes_a_user_who_can_no_longer_sign_in_but_not_themselves(app):
    create_tree(app, **NORTH_SOUTH)
    client = signed_in(app, "owner@north-a.example")
    member = user_id(app, "member@north-a.example")
    owner = user_id(app, "owner@north-a.example")
    assert client.post(f"/admin/users/{member}/remove",
                       data={"csrf_token": csrf_token(client)}).status_code == 302
    assert not sign_in(app, "member@north-a.example", "correct horse battery")
    assert client.post(f"/admin/users/{owner}/remove",
                       data={"csrf_token": csrf_token(client)}).status_code == 403
    assert user_id(app, "owner@north-a.example") == owner


def reset_link(app, email) -> str:
    result = app.test_cli_runner().invoke(main, args=["user", "reset-link", "--email", email])
    assert result.exit_code == 0, result.output
    return re.search(r"http://\S+/admin/reset/\S+", result.stdout).group(0)


def choose_password(client, path, password, confirm=None):
    return client.post(path, data={"csrf_token": csrf_token(client, path),
                                   "password": password, "confirm": confirm or password})


def test_a_printed_reset_link_sets_a_new_password_once(app):
    create_tree(app, **NORTH_SOUTH)
    path = "/" + reset_link(app, "member@north-a.example").split("/", 3)[3]
    client = app.test_client()
    assert "member@north-a.example" in client.get(path).get_data(as_text=True)
    assert choose_password(client, path, "brand new password").status_code == 302
    assert sign_in(app, "member@north-a.example", "brand new password")
    assert not sign_in(app, "member@north-a.example", "correct horse battery")
    # The same link again: it was used (and the password it was made for has changed).
    assert client.get(path).status_code == 404
    again = client.post(path, data={"password": "third password!", "confirm": "third password!",
                                    "csrf_token": csrf_token(client, "/admin/sign-in")})
    assert again.status_code == 404
    assert sign_in(app, "member@north-a.example", "brand new password")


def test_a_reset_needs_ten_characters_typed_twice_alike(app):
    create_tree(app, **NORTH_SOUTH)
    path = "/" + reset_link(app, "owner@south.example").split("/", 3)[3]
    client = app.test_client()
    assert 'id="password-error"' in choose_password(client, path, "short").get_data(as_text=True)
    assert "The two passwords differ" in choose_password(
        client, path, "long enough one", "long enough two").get_data(as_text=True)
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == "owner@south.example"))
        assert password_matches(owner, "correct horse battery")


def test_an_expired_or_forged_reset_link_is_refused(app, monkeypatch):
    create_tree(app, **NORTH_SOUTH)
    path = "/" + reset_link(app, "owner@south.example").split("/", 3)[3]
    client = app.test_client()
    assert client.get(with_forged_signature(path)).status_code == 404
    monkeypatch.setitem(password_links.MAX_AGE, "reset", -1)
    assert client.get(path).status_code == 404


def test_cli_creates_a_user_and_with_mail_off_prints_their_invitation_link(app):
    create_tree(app, **NORTH_SOUTH)
    result = app.test_cli_runner().invoke(main, args=["user", "create", "--account", "south-a",
                                                "--email", "ops@south-a.example",
                                                "--role", "read-only"])
    assert result.exit_code == 0, result.output
    assert "password (shown once)" not in result.stdout
    link = re.search(r"http://\S+(/admin/welcome/\S+)", result.stdout).group(1)
    client = app.test_client()
    assert choose_password(client, link, "ops own password").status_code == 302
    assert sign_in(app, "ops@south-a.example", "ops own password")
    again = app.test_cli_runner().invoke(main, args=["user", "create", "--account", "south-a",
                                               "--email", "ops@south-a.example"])
    assert again.exit_code != 0 and "already" in again.output
    nowhere = app.test_cli_runner().invoke(
        main, args=["user", "reset-link", "--email", "no@x.example"])
    assert nowhere.exit_code != 0


def test_owner_changes_a_users_role_but_not_their_own_and_members_change_none(app):
    create_tree(app, **NORTH_SOUTH)
    client = signed_in(app, "owner@north-a.example")
    member = user_id(app, "member@north-a.example")
    owner = user_id(app, "owner@north-a.example")
    changed = client.post(f"/admin/users/{member}/role",
                          data={"csrf_token": csrf_token(client), "role": "read-only"})
    assert changed.status_code == 302
    assert f'action="/admin/users/{member}/role"' in client.get("/admin/users").get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(User, member).role == "read-only"
    assert client.post(f"/admin/users/{owner}/role", data={
        "csrf_token": csrf_token(client), "role": "member"}).status_code == 403
    other = signed_in(app, "member@north.example")
    assert other.post(f"/admin/users/{owner}/role", data={
        "csrf_token": csrf_token(other), "role": "read-only"}).status_code == 403
    rival = signed_in(app, "owner@south.example")
    assert rival.post(f"/admin/users/{owner}/role", data={
        "csrf_token": csrf_token(rival), "role": "read-only"}).status_code == 404
    with app.app_context():
        assert db.session.get(User, owner).role == "owner"


def test_cli_changes_a_role_removes_a_user_and_checks_the_email(app):
    create_tree(app, **NORTH_SOUTH)
    runner = app.test_cli_runner()
    bad = runner.invoke(main, args=["user", "create", "--account", "south-a",
                                    "--email", "not-an-email"])
    assert bad.exit_code != 0 and "Enter an email address" in bad.output
    role = runner.invoke(main, args=["user", "role", "--email", "owner@south-a.example",
                                     "--role", "read-only"])
    assert role.exit_code == 0, role.output
    removed = runner.invoke(main, args=["user", "remove", "--email", "member@south-a.example"])
    assert removed.exit_code == 0, removed.output
    with app.app_context():
        assert db.session.scalar(select(User.role).where(
            User.email == "owner@south-a.example")) == "read-only"
        assert db.session.scalar(select(User).where(
            User.email == "member@south-a.example")) is None
