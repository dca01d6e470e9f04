"""API keys in the admin and the CLI: shown once, listed by prefix, revoked for good."""

from __future__ import annotations

import re

from tests.factories import (
    NORTH_SOUTH,
    create_tree,
    csrf_token,
    signed_in,
)
from widget_server.cli import main
from widget_server.extensions import db
from widget_server.models import ApiKey
from widget_server.security.api_keys import account_for_key

KEY = re.compile(r"wsk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]+")


def test_a_new_key_is_shown_once_and_then_listed_by_prefix_only(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@north.example")
    created = client.post("/admin/api-keys", data={
        "csrf_token": csrf_token(client), "account_id": ids["north-a"], "name": "crm"})
    assert created.headers["Cache-Control"] == "no-store"
    (plaintext,) = KEY.findall(created.get_data(as_text=True))
    with app.app_context():
        key = account_for_key(plaintext)
        assert key.account.name == "north-a" and key.name == "crm"
    listing = client.get("/admin/api-keys").get_data(as_text=True)
    assert KEY.findall(listing) == []
    assert plaintext[4:12] in listing and "crm" in listing
    row = re.search(r"<th scope=\"row\"><code>wsk_.*?</tr>", listing, re.DOTALL).group(0)
    assert "never" not in row  # used once above, by account_for_key


def test_a_revoked_key_no_longer_opens_the_api(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@north-a.example")
    page = client.post("/admin/api-keys", data={
        "csrf_token": csrf_token(client), "account_id": ids["north-a"], "name": ""})
    plaintext = KEY.search(page.get_data(as_text=True)).group(0)
    with app.app_context():
        key_id = db.session.query(ApiKey.id).scalar()
    response = client.post(f"/admin/api-keys/{key_id}/revoke",
                           data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    with app.app_context():
        assert account_for_key(plaintext) is None
    assert f"/admin/api-keys/{key_id}/revoke" not in client.get("/admin/api-keys").get_data(
        as_text=True)


def test_cli_creates_a_key_once_and_revokes_it_by_prefix(app):
    create_tree(app, **NORTH_SOUTH)
    runner = app.test_cli_runner()
    result = runner.invoke(main, args=["apikey", "create", "--account", "south", "--name", "erp"])
    assert result.exit_code == 0, result.output
    plaintext = result.stdout.strip()
    assert KEY.fullmatch(plaintext)
    with app.app_context():
        assert account_for_key(plaintext).account.name == "south"
    revoked = runner.invoke(main, args=["apikey", "revoke", "--prefix", plaintext[4:12]])
    assert revoked.exit_code == 0, revoked.output
    with app.app_context():
        assert account_for_key(plaintext) is None
    assert runner.invoke(main, args=["apikey", "create", "--account", "nobody"]).exit_code != 0
    assert runner.invoke(main, args=["apikey", "revoke", "--prefix", "zzzzzzzz"]).exit_code != 0
