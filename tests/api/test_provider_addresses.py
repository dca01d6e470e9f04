"""Provider base URLs through the API: public addresses only (no PROVIDER_PRIVATE_HOSTS here)."""

from __future__ import annotations

import ipaddress

import pytest

from tests.security.test_outbound import PUBLIC, REFUSED_ADDRESSES, REFUSED_SHAPES
from widget_server.security import outbound


@pytest.fixture
def app(make_app):
    return make_app(PROVIDER_PRIVATE_HOSTS=[], DEVELOPMENT=False)


def c2c(base_url: str) -> dict:
    return {"name": "white-label", "kind": "c2c-php", "base_url": base_url,
            "credentials": {"uid": "u-1", "pin": "pin-12345678"},
            "options": {"holdfile": "17"}}


def test_every_private_address_and_spelling_is_refused_on_create_and_edit(api, monkeypatch):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [
        ipaddress.ip_address(PUBLIC)])
    created = api("POST", "/provider_accounts", json=c2c("https://voice.example.com/"))
    assert created.status_code == 201, created.get_json()
    path = f"/provider_accounts/{created.get_json()['id']}"
    for url, why in {**REFUSED_ADDRESSES, **REFUSED_SHAPES}.items():
        for refused in (api("POST", "/provider_accounts", json=c2c(url)),
                        api("PATCH", path, json={"base_url": url})):
            problem = refused.get_json()
            assert refused.status_code == 422, (url, problem)
            assert refused.mimetype == "application/problem+json"
            assert why in problem["errors"]["base_url"], (url, problem)
    assert api("GET", path).get_json()["base_url"] == "https://voice.example.com/"
    assert len(api("GET", "/provider_accounts").get_json()["items"]) == 1


def test_a_name_resolving_to_a_private_address_is_refused(api, monkeypatch):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [
        ipaddress.ip_address("169.254.169.254")])
    refused = api("POST", "/provider_accounts", json=c2c("https://metadata.example.com/"))
    assert refused.status_code == 422
    sentence = refused.get_json()["errors"]["base_url"]
    assert "metadata.example.com resolves to a non-public address" in sentence
    assert "169.254" not in refused.get_data(as_text=True)
