"""Signing in to the admin: the right password only, and the visitor path stays cookie-free."""

import re

from werkzeug.security import check_password_hash

from widget_server.admin import auth
from widget_server.extensions import db
from widget_server.models import Account, User
from widget_server.services.users import hash_password


def create_user(app, *, email="owner@shop.example", password="correct horse", role="owner",
                account_name="shop"):
    with app.app_context():
        account = Account(name=account_name, kind="client")
        db.session.add(account)
        db.session.flush()
        db.session.add(User(account_id=account.id, email=email, role=role,
                            password_hash=hash_password(password)))
        db.session.commit()


def csrf_token(client, path="/admin/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_owner_signs_in_and_sees_their_account(app):
    create_user(app)
    client = app.test_client()
    response = client.post("/admin/sign-in", data={
        "email": "Owner@Shop.example", "password": "correct horse",
        "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert "shop" in client.get("/admin/").get_data(as_text=True)


def test_wrong_password_is_refused_with_a_sentence(app):
    create_user(app)
    client = app.test_client()
    response = client.post("/admin/sign-in", data={
        "email": "owner@shop.example", "password": "wrong", "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    assert "do not match" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_sign_in_without_csrf_token_is_refused(app):
    create_user(app)
    response = app.test_client().post("/admin/sign-in", data={
        "email": "owner@shop.example", "password": "correct horse"})
    assert response.status_code == 400


def hashes_checked_by_a_wrong_sign_in(app, monkeypatch, email: str) -> list[str]:
    """The stored hashes a wrong-password sign-in for ``email`` checked the password against.

    The real ``check_password_hash`` runs; the test only notes each hash it is given.
    """
    checked = []

    def noting(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return check_password_hash(pwhash, password)

    monkeypatch.setattr(auth, "check_password_hash", noting)
    client = app.test_client()
    response = client.post("/admin/sign-in", data={
        "email": email, "password": "wrong guess", "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    return checked


def test_an_unknown_email_costs_the_same_password_hash_as_a_known_one(app, monkeypatch):
    """Timing does not tell who has an account: an unknown e-mail's password is checked too,
    against a dummy hash made with the same method and cost as users' hashes."""
    create_user(app)
    known = hashes_checked_by_a_wrong_sign_in(app, monkeypatch, "owner@shop.example")
    unknown = hashes_checked_by_a_wrong_sign_in(app, monkeypatch, "nobody@shop.example")
    assert len(known) == len(unknown) == 1
    # The same method and cost (the part before the salt), so the check takes as long.
    assert unknown[0].split("$")[0] == known[0].split("$")[0]
