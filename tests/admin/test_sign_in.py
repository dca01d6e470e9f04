"""Signing in to the admin: the right password only, and the visitor path stays cookie-free."""

import re

from widget_server.admin.auth import hash_password
from widget_server.extensions import db
from widget_server.models import Account, User


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
