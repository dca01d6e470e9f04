"""A reseller suspends, deletes and limits its clients through the API; users' roles."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.api.conftest import make_provider, make_widget
from tests.factories import PAGE_ORIGIN, create_call, create_user
from widget_server.extensions import db
from widget_server.models import Account, ApiKey, User, Widget

SUSPENDED = "Call-backs are not available on this site at the moment."


def token_of(widget: dict) -> str:
    return re.search(r'data-widget="([^"]+)"', widget["embed_snippet"]).group(1)


def config(client, widget: dict):
    return client.get(f"/embed/v1/config/{token_of(widget)}", headers={"Origin": PAGE_ORIGIN})


def test_a_suspended_client_s_widgets_keys_and_users_are_refused_until_unsuspended(
        api, client, tenants):
    widget = make_widget(api, "client-a")
    suspended = api("POST", f"/clients/{tenants.ids['client-a']}/suspend")
    assert suspended.status_code == 200 and suspended.get_json()["suspended_at"]
    refused = config(client, widget)
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "account_suspended", "message": SUSPENDED}
    assert refused.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    key_refused = api("GET", "/widgets", key="client-a")
    assert key_refused.status_code == 403
    assert key_refused.get_json()["type"] == "urn:widget-server:problem:account-suspended"
    assert "client-a is suspended" in key_refused.get_json()["detail"]
    # The reseller still manages it, and its sibling is untouched.
    assert api("GET", f"/clients/{tenants.ids['client-a']}").status_code == 200
    assert api("GET", "/widgets", key="client-b").status_code == 200
    lifted = api("POST", f"/clients/{tenants.ids['client-a']}/unsuspend")
    assert lifted.get_json()["suspended_at"] is None
    assert config(client, widget).status_code == 200
    assert api("GET", "/widgets", key="client-a").status_code == 200


def test_suspending_a_reseller_stops_its_clients_widgets_too(api, client, tenants):
    widget = make_widget(api, "client-b")
    assert api("POST", f"/clients/{tenants.ids['reseller']}/suspend",
               key="operator").status_code == 200
    assert config(client, widget).get_json()["error"] == "account_suspended"
    assert api("GET", "/clients", key="client-b").status_code == 403


@pytest.mark.parametrize("path", ["/suspend", "/unsuspend", ""])
def test_nobody_suspends_or_deletes_its_own_account_or_another_tenant_s(api, tenants, path):
    method = "DELETE" if not path else "POST"
    own = api(method, f"/clients/{tenants.ids['client-a']}{path}", key="client-a")
    assert own.status_code == 403 and "not by itself" in own.get_json()["detail"]
    assert api(method, f"/clients/{tenants.ids['reseller']}{path}").status_code == 403
    assert api(method, f"/clients/{tenants.ids['other-client']}{path}").status_code == 404


def test_deleting_a_client_removes_what_hangs_off_it_and_keeps_its_calls(app, api, client,
                                                                          tenants):
    widget = make_widget(api, "client-a")
    make_provider(api, "client-a", name="own")
    with app.app_context():
        account = db.session.get(Account, tenants.ids["client-a"])
        create_user(account=account, role="owner")
        stored = db.session.scalar(select(Widget).where(Widget.public_id == widget["id"]))
        create_call(widget=stored)
    assert api("DELETE", f"/clients/{tenants.ids['client-a']}").status_code == 204
    removed = config(client, widget)
    assert removed.status_code == 410 and removed.get_json()["error"] == "widget_removed"
    assert removed.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    assert api("GET", "/widgets", key="client-a").status_code == 401
    assert api("GET", f"/clients/{tenants.ids['client-a']}").status_code == 404
    assert "client-a" not in [c["name"] for c in api("GET", "/clients").get_json()["items"]]
    with app.app_context():
        assert db.session.scalars(select(User).where(
            User.account_id == tenants.ids["client-a"])).all() == []
        assert all(key.revoked_at for key in db.session.scalars(select(ApiKey).where(
            ApiKey.account_id == tenants.ids["client-a"])))
    # Its calls stay for invoicing, and its name is free for a new client.
    usage = api("GET", "/reports/usage").get_json()
    assert any(row["account_id"] == tenants.ids["client-a"] and row["total"] == 1
               for row in usage["accounts"])
    assert api("POST", "/clients", json={"name": "client-a", "daily_call_cap": 1,
                                         "monthly_call_cap": 1}).status_code == 201


def test_a_client_with_clients_under_it_is_not_deleted(api, tenants):
    refused = api("DELETE", f"/clients/{tenants.ids['reseller']}", key="operator")
    assert refused.status_code == 409 and "delete them first" in refused.get_json()["detail"]


def test_a_reseller_limits_a_client_s_widgets_and_provider_accounts(api, tenants):
    path = f"/clients/{tenants.ids['client-a']}"
    limited = api("PATCH", path, json={"max_widgets": 1, "may_add_providers": False})
    assert limited.get_json() | {"created_at": ""} == limited.get_json() | {
        "created_at": "", "max_widgets": 1, "may_add_providers": False}
    make_widget(api, "client-a")
    second = api("POST", "/widgets", key="client-a", json={
        "business_numbers": ["+12025550100"], "domains": ["shop.example"]})
    assert second.status_code == 409 and "max_widgets" in second.get_json()["detail"]
    own = api("POST", "/provider_accounts", key="client-a", json={"name": "own",
                                                                    "kind": "simulator"})
    assert own.status_code == 403 and "may_add_providers" in own.get_json()["detail"]
    # The reseller may still add one for it.
    assert api("POST", "/provider_accounts", json={
        "name": "for-a", "kind": "simulator",
        "account_id": tenants.ids["client-a"]}).status_code == 201
    assert api("PATCH", path, json={"max_widgets": 0}).status_code == 422
    assert api("PATCH", path, key="client-a", json={"max_widgets": 5}).status_code == 403


def test_an_owner_changes_a_user_s_role_through_the_api(app, api, tenants):
    with app.app_context():
        user = create_user(account=db.session.get(Account, tenants.ids["client-a"]),
                           role="member")
        user_id = user.id
    listed = api("GET", "/users", query_string={"account_id": tenants.ids["client-a"]})
    assert [u["id"] for u in listed.get_json()["items"]] == [user_id]
    changed = api("PATCH", f"/users/{user_id}", json={"role": "read-only"})
    assert changed.status_code == 200 and changed.get_json()["role"] == "read-only"
    bad = api("PATCH", f"/users/{user_id}", json={"role": "king"})
    assert bad.status_code == 422 and "role" in bad.get_json()["errors"]
    assert api("PATCH", f"/users/{user_id}", key="other-reseller",
               json={"role": "owner"}).status_code == 404
