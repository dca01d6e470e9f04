"""Provider accounts: credentials go in on create and rotation and never come back out."""

from __future__ import annotations

import jsonschema_rs
import pytest

from tests.api.conftest import make_provider, make_widget
from widget_server.extensions import db
from widget_server.models import ProviderAccount
from widget_server.services.provider_accounts import options_schema

SECRET = "voice1-secret-token-0123456789"
ROTATED = "voice1-rotated-token-9876543210"


def test_credentials_are_write_only_through_every_answer(app, api):
    created = api("POST", "/provider_accounts", json={
        "name": "voice", "kind": "voice1", "credentials": {"api_key": SECRET}})
    assert created.status_code == 201
    account = created.get_json()
    assert account["has_credentials"] is True and "credentials" not in account
    answers = [created, api("GET", f"/provider_accounts/{account['id']}"),
               api("GET", "/provider_accounts"),
               api("PATCH", f"/provider_accounts/{account['id']}",
                   json={"credentials": {"api_key": ROTATED}, "name": "voice-2"})]
    for answer in answers:
        assert answer.status_code in (200, 201)
        assert SECRET not in answer.get_data(as_text=True)
        assert ROTATED not in answer.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(ProviderAccount, account["id"])
        assert stored.name == "voice-2"
        assert SECRET not in stored.credentials_encrypted
        from widget_server.services.provider_accounts import decrypt_credentials
        assert decrypt_credentials(stored) == {"api_key": ROTATED}


def test_missing_or_unknown_credentials_are_refused_by_field(api):
    missing = api("POST", "/provider_accounts", json={
        "name": "voice", "kind": "voice1", "credentials": {}})
    assert missing.status_code == 422
    assert missing.get_json()["errors"] == {
        "credentials.api_key": "api_key is required: API token."}
    unknown = api("POST", "/provider_accounts", json={
        "name": "voice", "kind": "voice1", "credentials": {"api_key": "x", "pin": "1"}})
    assert unknown.status_code == 422
    assert api("GET", "/provider_accounts").get_json()["total"] == 0


def test_a_credential_with_a_nul_character_is_refused_not_stored(api):
    """PostgreSQL cannot store NUL in text: refused by field, never a 500."""
    refused = api("POST", "/provider_accounts", json={
        "name": "voice", "kind": "voice1", "credentials": {"api_key": "to\x00ken"}})
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["credentials"]
    assert api("GET", "/provider_accounts").get_json()["total"] == 0


C2C = {"name": "c2c", "kind": "c2c-php", "base_url": "http://127.0.0.1:9",
       "credentials": {"uid": "u1", "pin": "4321"}}


@pytest.mark.parametrize("body, field", [
    (C2C | {"options": {"holdfile": "17", "max_duration": "abc"}}, "options.max_duration"),
    (C2C | {"options": {"holdfile": "17", "number_format": "weird"}}, "options.number_format"),
    ({"name": "dt", "kind": "dialogtech", "credentials": {
        "access_key": "a", "secret_access_key": "s"},
      "options": {"first_leg_timeout": "abc"}}, "options.first_leg_timeout"),
])
def test_an_option_of_the_wrong_type_or_choice_is_refused_on_save_by_field(api, body, field):
    refused = api("POST", "/provider_accounts", json=body)
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == [field]
    assert api("GET", "/provider_accounts").get_json()["total"] == 0


def test_an_option_of_the_wrong_type_is_refused_on_update_too(api):
    created = api("POST", "/provider_accounts", json=C2C | {"options": {"holdfile": "17"}})
    refused = api("PATCH", f"/provider_accounts/{created.get_json()['id']}",
                  json={"options": {"holdfile": "17", "max_duration": "ten minutes"}})
    assert refused.status_code == 422
    assert "options.max_duration" in refused.get_json()["errors"]


def test_options_are_stored_and_answered_as_their_declared_types(api):
    created = api("POST", "/provider_accounts", json=C2C | {"options": {
        "holdfile": "17", "max_duration": "120", "number_format": "PLUS"}})
    assert created.status_code == 201
    assert created.get_json()["options"] == {"holdfile": "17", "max_duration": 120,
                                             "number_format": "plus"}


def test_every_error_of_a_provider_account_comes_at_once(api):
    refused = api("POST", "/provider_accounts", json={
        "name": "c2c", "kind": "c2c-php", "credentials": {"uid": "u1", "token": "x"},
        "options": {"max_duration": "0", "number_format": "weird", "colour": "red"}})
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {
        "base_url", "credentials.pin", "credentials.token", "options.holdfile",
        "options.max_duration", "options.number_format", "options.colour"}


def test_a_simulator_account_needs_neither_a_base_url_nor_credentials(api):
    created = api("POST", "/provider_accounts", json={"name": "sim", "kind": "simulator"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["has_credentials"] is False
    refused = api("POST", "/provider_accounts", json={
        "name": "sim-2", "kind": "simulator", "base_url": "http://127.0.0.1:9"})
    assert refused.status_code == 422 and "base_url" in refused.get_json()["errors"]


def test_a_taken_name_is_a_conflict(api):
    make_provider(api, "reseller", name="sim")
    taken = api("POST", "/provider_accounts", json={"name": "sim", "kind": "simulator"})
    assert taken.status_code == 409


def test_a_client_may_choose_its_resellers_provider_for_a_new_widget(api, tenants):
    provider = make_provider(api, "reseller", name="reseller-sim")
    widget = make_widget(api, "client-a", provider_account_id=provider["id"])
    assert widget["provider_account_id"] == provider["id"]


def test_a_client_may_switch_back_to_its_resellers_provider(api, tenants):
    provider = make_provider(api, "reseller", name="reseller-sim")
    widget = make_widget(api, "reseller", account_id=tenants.ids["client-a"],
                         provider_account_id=provider["id"])
    path = f"/widgets/{widget['id']}"
    away = api("PATCH", path, key="client-a", json={"provider_account_id": None})
    assert away.status_code == 200 and away.get_json()["provider_account_id"] is None
    back = api("PATCH", path, key="client-a", json={"provider_account_id": provider["id"]})
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["provider_account_id"] == provider["id"]


def test_a_widgets_own_provider_options_are_typed_by_its_providers_declaration(api):
    provider = api("POST", "/provider_accounts", json=C2C | {"options": {"holdfile": "17"}})
    widget = make_widget(api, "reseller", provider_account_id=provider.get_json()["id"])
    path = f"/widgets/{widget['id']}"
    refused = api("PATCH", path, json={"provider_options": {"max_duration": "abc",
                                                            "number_format": "weird"}})
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"provider_options.max_duration",
                                                 "provider_options.number_format"}
    saved = api("PATCH", path, json={"provider_options": {"max_duration": "90"}})
    assert saved.get_json()["provider_options"] == {"max_duration": 90}


@pytest.mark.parametrize("kind", ["simulator", "c2c-php", "calledin", "dialogtech",
                                  "voice1", "voicenter"])
def test_the_options_schema_accepts_what_the_save_accepts_and_refuses_what_it_refuses(kind):
    schema = options_schema(kind, widget=True)
    jsonschema_rs.meta.validate(schema)
    validator = jsonschema_rs.Draft202012Validator(schema)
    assert not validator.is_valid({"no_such_option": "x"})
    for spec_name, spec in schema["properties"].items():
        if spec["type"] == "integer":
            assert not validator.is_valid({spec_name: "abc"})
            assert validator.is_valid({spec_name: spec.get("minimum", 1)})
        if "enum" in spec:
            assert not validator.is_valid({spec_name: "weird"})
            assert validator.is_valid({spec_name: spec["enum"][0]})
