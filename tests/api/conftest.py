"""The API's tenant tree, one key per account, and a client that sends a key.

operator > reseller (100/day, 1000/month) > client-a, client-b (10, 100 each);
operator > other-reseller > other-client.
"""

from __future__ import annotations

import pytest

from tests.factories import create_tree


@pytest.fixture
def tenants(app):
    return create_tree(app, resellers={"reseller": ("client-a", "client-b"),
                                       "other-reseller": ("other-client",)},
                       allowances={"reseller": (100, 1000), "client-a": (10, 100),
                                   "client-b": (10, 100)},
                       keys=True)


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
