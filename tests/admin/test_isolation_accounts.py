"""Isolation in the admin for accounts, users, API keys and block lists.

Another tenant's object is a 404 for every role, read or change; a read-only
user changes nothing in its own account (403); nobody raises their own caps.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.admin.test_csrf import snapshot
from tests.factories import (
    NORTH_SOUTH,
    create_api_key,
    create_call,
    create_tree,
    create_widget,
    csrf_token,
    signed_in,
    user_id,
)
from widget_server.extensions import db
from widget_server.models import Account, ApiKey, BlockedNumber

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

# Who signs in, and an account next to theirs that they must not reach.
CALLERS = [
    ("owner@north-a.example", "north-b"),
    ("member@north-a.example", "north-b"),
    ("read-only@north-a.example", "north-b"),
    ("owner@north-a.example", "south-a"),
    ("owner@north.example", "south-a"),
    ("owner@north.example", "south"),
]


def key_of(app, account_id: int) -> int:
    with app.app_context():
        return create_api_key(account=db.session.get(Account, account_id), name="theirs")[0].id


def blocked_entry_and_call_of(app, account_id: int) -> tuple[int, str]:
    """A blocked number of the account, and a call of its widget (for "Block this number")."""
    with app.app_context():
        entry = BlockedNumber(account_id=account_id, e164="+12025550199")
        db.session.add(entry)
        widget = create_widget(account=db.session.get(Account, account_id))
        call = create_call(widget=widget, number="+12025550177", status="queued")
        return entry.id, call.public_id


def sibling_requests(ids, sibling: str, their_user: int, their_key: int,
                     their_blocked: tuple[int, str]):
    """Every way the admin changes the sibling's account, users, keys and block list."""
    account = ids[sibling]
    entry, call = their_blocked
    return [
        ("GET", f"/admin/accounts/{account}/allowance", {}),
        ("POST", f"/admin/accounts/{account}/allowance",
         {"daily_call_cap": "1", "monthly_call_cap": "1"}),
        ("POST", "/admin/accounts/new", {"name": "intruder", "parent_id": account,
                                         "kind": "client"}),
        ("POST", "/admin/users/new", {"email": "intruder@example.com", "account_id": account,
                                      "role": "owner", "password": "a long password"}),
        ("POST", f"/admin/users/{their_user}/remove", {}),
        ("POST", "/admin/api-keys", {"account_id": account, "name": "intruder"}),
        ("POST", f"/admin/api-keys/{their_key}/revoke", {}),
        ("POST", f"/admin/accounts/{account}/blocked-numbers",
         {"number": "+12025550123", "country": "US"}),
        ("POST", f"/admin/accounts/{account}/blocked-numbers/{entry}/delete", {}),
        ("POST", f"/admin/reports/calls/{call}/block", {}),
    ]


@pytest.mark.parametrize(("email", "sibling"), CALLERS)
def test_another_tenants_accounts_users_and_keys_are_not_found(app, email, sibling):
    ids = create_tree(app, **NORTH_SOUTH).ids
    their_user = user_id(app, f"owner@{sibling}.example")
    their_key = key_of(app, ids[sibling])
    their_blocked = blocked_entry_and_call_of(app, ids[sibling])
    client = signed_in(app, email)
    token = csrf_token(client)
    before = snapshot(app)
    for method, url, data in sibling_requests(ids, sibling, their_user, their_key,
                                              their_blocked):
        response = client.open(url, method=method, data={"csrf_token": token, **data})
        assert response.status_code == 404, (method, url)
    assert snapshot(app) == before
    assert client.get(f"/admin/accounts/{ids[sibling]}/blocked-numbers").status_code == 404
    assert client.get(f"/admin/reports/calls/{their_blocked[1]}").status_code == 404
    for page in ("/admin/accounts", "/admin/users", "/admin/api-keys"):
        body = client.get(page).get_data(as_text=True)
        assert f"{sibling}.example" not in body and "theirs" not in body, page
        assert f">{sibling}<" not in body, page


def test_read_only_user_changes_nothing_in_its_own_account(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    own_user = user_id(app, "member@north-a.example")
    own_key = key_of(app, ids["north-a"])
    own_blocked = blocked_entry_and_call_of(app, ids["north-a"])
    client = signed_in(app, "read-only@north-a.example")
    token = csrf_token(client)
    before = snapshot(app)
    for method, url, data in sibling_requests(ids, "north-a", own_user, own_key, own_blocked):
        response = client.open(url, method=method, data={"csrf_token": token, **data})
        assert response.status_code == 403, (method, url)
    assert snapshot(app) == before
    # Reading is allowed.
    for page in ("/admin/accounts", "/admin/users", "/admin/api-keys",
                 f"/admin/accounts/{ids['north-a']}/blocked-numbers"):
        assert client.get(page).status_code == 200


@pytest.mark.parametrize("email", ["owner@north-a.example", "owner@north.example"])
def test_an_account_cannot_raise_its_own_caps(app, email):
    ids = create_tree(app, **NORTH_SOUTH).ids
    own = ids[email.split("@")[1].removesuffix(".example")]
    client = signed_in(app, email)
    assert f"/admin/accounts/{own}/allowance" not in client.get("/admin/accounts").get_data(
        as_text=True)
    assert client.get(f"/admin/accounts/{own}/allowance").status_code == 403
    response = client.post(f"/admin/accounts/{own}/allowance", data={
        "csrf_token": csrf_token(client), "daily_call_cap": "100000",
        "monthly_call_cap": "1000000"})
    assert response.status_code == 403
    with app.app_context():
        account = db.session.get(Account, own)
        assert (account.daily_call_cap, account.monthly_call_cap) == (
            (10, 100) if account.name == "north-a" else (100, 1000))


def test_members_cannot_manage_people_or_keys_in_their_own_account(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "member@north-a.example")
    response = client.post("/admin/api-keys", data={
        "csrf_token": csrf_token(client), "account_id": ids["north-a"], "name": "mine"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalars(select(ApiKey)).all() == []
