"""A reseller renames, limits, suspends and deletes its clients in the admin; every
destructive action asks first, saying what will happen."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from tests.admin.test_csrf import snapshot
from tests.factories import (
    NORTH_SOUTH,
    PASSWORD,
    RESELL_RIVAL,
    admin_post,
    create_tree,
    csrf_token,
    signed_in,
)
from widget_server.extensions import db
from widget_server.models import Account, ApiKey, User, Widget


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def sign_in(app, email: str):
    client = app.test_client()
    token = csrf_token(client, "/admin/sign-in")
    return client.post("/admin/sign-in", data={"csrf_token": token, "email": email,
                                               "password": PASSWORD})


def test_a_reseller_renames_and_limits_a_client(app):
    tree = create_tree(app, **NORTH_SOUTH)
    owner = signed_in(app, "owner@north.example")
    path = f"/admin/accounts/{tree.ids['north-a']}"
    assert "Rename, limit, suspend or delete" in text(owner.get("/admin/accounts"))
    saved = admin_post(owner, path, name="north-alpha", max_widgets="2")
    assert saved.status_code == 302
    with app.app_context():
        account = db.session.get(Account, tree.ids["north-a"])
        assert (account.name, account.max_widgets, account.may_add_providers) == (
            "north-alpha", 2, False)
    taken = admin_post(owner, path, name="NORTH-B", max_widgets="", may_add_providers="y")
    assert 'id="name-error"' in text(taken)


@pytest.mark.parametrize("who, account, status", [
    ("owner@north.example", "north", 403),        # its own account
    ("member@north.example", "north-a", 403),     # not an owner
    ("owner@north.example", "south-a", 404),      # another tenant's
    ("owner@north-a.example", "north-a", 403),    # a client deciding for itself
])
def test_only_an_owner_above_decides_for_an_account(app, who, account, status):
    tree = create_tree(app, **NORTH_SOUTH)
    client = signed_in(app, who)
    for action in ("", "/suspend", "/delete"):
        path = f"/admin/accounts/{tree.ids[account]}{action}"
        assert client.get(path).status_code == status, path
        assert admin_post(client, path, name="x").status_code == status, path
    with app.app_context():
        assert db.session.get(Account, tree.ids[account]).suspended_at is None


def test_suspending_asks_first_then_ends_the_client_s_sessions_and_sign_ins(app):
    tree = create_tree(app, **NORTH_SOUTH)
    owner = signed_in(app, "owner@north.example")
    client_user = signed_in(app, "member@north-a.example")
    path = f"/admin/accounts/{tree.ids['north-a']}/suspend"
    asked = owner.get(path)
    page = text(asked)
    assert asked.status_code == 200 and "Suspend north-a?" in page
    assert "stops answering" in page and "lifting the suspension restores" in page
    assert f'action="{path}"' in page and 'name="csrf_token"' in page
    with app.app_context():
        assert db.session.get(Account, tree.ids["north-a"]).suspended_at is None
    assert admin_post(owner, path).status_code == 302
    assert client_user.get("/admin/widgets").status_code == 302  # signed out
    refused = sign_in(app, "member@north-a.example")
    assert refused.status_code == 403
    assert "north-a is suspended" in text(refused) and "ask the account above" in text(refused)
    assert "(suspended)" in text(owner.get("/admin/accounts"))
    # Its reseller's people are not suspended.
    assert sign_in(app, "member@north.example").status_code == 302
    lifted = admin_post(owner, f"/admin/accounts/{tree.ids['north-a']}/unsuspend")
    assert lifted.status_code == 302
    assert sign_in(app, "member@north-a.example").status_code == 302


def test_deleting_names_what_goes_then_removes_it_and_keeps_the_calls(app):
    tree = create_tree(app, **RESELL_RIVAL, keys=True)
    owner = signed_in(app, "owner@resell.example")
    path = f"/admin/accounts/{tree.ids['client-a']}/delete"
    page = text(owner.get(path))
    assert "Delete client-a?" in page
    for line in ("1 widget: its snippet stops working", "1 user, who can no longer sign in",
                 "0 provider accounts", "1 API key, revoked", "stay in the reports"):
        assert line in page, line
    with app.app_context():
        assert db.session.get(Account, tree.ids["client-a"]).deleted_at is None
    deleted = admin_post(owner, path)
    assert deleted.status_code == 302 and deleted.location.endswith("/admin/accounts")
    listed = text(owner.get("/admin/accounts"))
    assert "client-a deleted; its calls stay in the reports." in listed
    assert re.findall(r'<th scope="row">([\w-]+)', listed) == ["resell"]
    assert owner.get(f"/admin/accounts/{tree.ids['client-a']}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "owner@client-a.example")) \
            is None
        assert db.session.get(Widget, tree.widgets["client shop"]).deleted_at is not None
        assert db.session.scalar(select(ApiKey).where(
            ApiKey.account_id == tree.ids["client-a"])).revoked_at is not None


def test_a_reseller_with_clients_is_not_deleted_and_the_page_says_why(app):
    tree = create_tree(app, **NORTH_SOUTH)
    operator = signed_in(app, "owner@operator.example")
    page = text(operator.get(f"/admin/accounts/{tree.ids['north']}/delete"))
    assert "north has 2 accounts under it: delete them first." in page
    assert "Delete north and all of this" not in page


def test_a_client_not_allowed_provider_accounts_is_told_so_on_the_form(app):
    tree = create_tree(app, **RESELL_RIVAL)
    reseller = signed_in(app, "owner@resell.example")
    admin_post(reseller, f"/admin/accounts/{tree.ids['client-a']}", name="client-a",
               max_widgets="1")
    client = signed_in(app, "owner@client-a.example")
    refused = admin_post(client, "/admin/providers/new?kind=simulator", name="own",
                         account_id=tree.ids["client-a"])
    assert "does not let client-a add provider accounts of its own (may_add_providers)" \
        in text(refused)
    widget = admin_post(client, "/admin/widgets/new", name="Second", button_label="Call",
                        button_colour="#0b6e4f", button_position="bottom-right",
                        language="en", consent_text="Once.", business_numbers="+12025550100",
                        home_country="US", time_zone="UTC", outside_hours="hidden",
                        provider_account_id="0", account_id=tree.ids["client-a"])
    assert "at most 1 widgets (max_widgets, set by resell)" in text(widget)


# Each destructive action's address, its button's label on the page it sits on, and a
# sentence of what its confirmation says will happen.
def _destructive(tree, ids) -> list[tuple[str, str, str, str]]:
    widget = f"/admin/widgets/{tree.widgets['client shop']}"
    return [
        (widget, f"{widget}/pause", "Pause the widget", "Its button disappears"),
        (widget, f"{widget}/delete", "Delete the widget", "stops working for good"),
        (widget, f"{widget}/rotate-token", "Issue a new token", "stops working at once"),
        (widget, f"{widget}/domains/{tree.domains['shop.example']}/delete", "Remove",
         "can no longer show the widget"),
        (f"/admin/providers/{tree.providers['resell-sim']}",
         f"/admin/providers/{tree.providers['resell-sim']}/delete", "Delete resell-sim",
         "Its credentials are deleted"),
        ("/admin/api-keys", f"/admin/api-keys/{ids['key']}/revoke", "Revoke",
         "is refused from now on"),
        ("/admin/users", f"/admin/users/{ids['user']}/remove", "Remove",
         "can no longer sign in"),
        (f"/admin/accounts/{tree.ids['client-a']}",
         f"/admin/accounts/{tree.ids['client-a']}/suspend", "Suspend client-a",
         "stops answering"),
        (f"/admin/accounts/{tree.ids['client-a']}",
         f"/admin/accounts/{tree.ids['client-a']}/delete", "Delete client-a",
         "stay in the reports"),
    ]


def test_every_destructive_button_opens_a_confirmation_that_changes_nothing(app):
    tree = create_tree(app, **RESELL_RIVAL, keys=True)
    with app.app_context():
        ids = {"key": db.session.scalar(select(ApiKey.id).where(
                   ApiKey.account_id == tree.ids["client-a"])),
               "user": db.session.scalar(select(User.id).where(
                   User.email == "member@resell.example"))}
    owner = signed_in(app, "owner@resell.example")
    before = snapshot(app)
    for page_path, action, label, consequence in _destructive(tree, ids):
        page = text(owner.get(page_path))
        # The button is a GET form to the action: no POST form leads there directly.
        assert re.search(rf'<form method="get" action="{re.escape(action)}"', page), action
        assert f'<form method="post" action="{action}"' not in page, action
        assert label in page, label
        asked = owner.get(action)
        assert asked.status_code == 200, action
        confirmation = text(asked)
        assert "What will happen" in confirmation and consequence in confirmation, action
        assert f'<form method="post" action="{action}"' in confirmation
        assert "Go back without changing anything" in confirmation
    assert snapshot(app) == before
