"""A tenant tree with one API key per account, and a client that sends a key.

operator > reseller > client_a, client_b; operator > other_reseller > other_client.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import create_account
from widget_server.extensions import db
from widget_server.security.api_keys import issue_key


@pytest.fixture
def tenants(app):
    with app.app_context():
        operator = create_account(name="operator", kind="operator")
        reseller = create_account(name="reseller", kind="reseller", parent_id=operator.id,
                                  daily_call_cap=100, monthly_call_cap=1000)
        client_a = create_account(name="client-a", parent_id=reseller.id,
                                  daily_call_cap=10, monthly_call_cap=100)
        client_b = create_account(name="client-b", parent_id=reseller.id,
                                  daily_call_cap=10, monthly_call_cap=100)
        other = create_account(name="other-reseller", kind="reseller", parent_id=operator.id)
        other_client = create_account(name="other-client", parent_id=other.id)
        accounts = {"operator": operator, "reseller": reseller, "client_a": client_a,
                    "client_b": client_b, "other_reseller": other,
                    "other_client": other_client}
        keys = {name: issue_key(account, name)[1] for name, account in accounts.items()}
        db.session.commit()
        return SimpleNamespace(ids={name: a.id for name, a in accounts.items()}, keys=keys)


class Api:
    """The app's test client, sending ``Authorization: Bearer`` for one tenant's key."""

    def __init__(self, client, keys):
        self.client, self.keys = client, keys

    def __call__(self, method: str, path: str, *, key: str = "reseller", **kwargs):
        headers = kwargs.pop("headers", {})
        if key:
            headers["Authorization"] = f"Bearer {self.keys[key]}"
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)


@pytest.fixture
def api(client, tenants):
    return Api(client, tenants.keys)


def make_widget(api, key: str, **fields) -> dict:
    body = {"business_numbers": ["+12025550100"], "domains": ["shop.example"]} | fields
    response = api("POST", "/widgets", key=key, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def make_provider(api, key: str, name: str = "sim", **fields) -> dict:
    body = {"name": name, "kind": "simulator"} | fields
    response = api("POST", "/provider_accounts", key=key, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()
