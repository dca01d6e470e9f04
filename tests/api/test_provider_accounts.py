"""Provider accounts: credentials go in on create and rotation and never come back out."""

from __future__ import annotations

from widget_server.extensions import db
from widget_server.models import ProviderAccount

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
        from widget_server.providers.accounts import decrypt_credentials
        assert decrypt_credentials(stored) == {"api_key": ROTATED}


def test_missing_or_unknown_credentials_are_refused_by_field(api):
    missing = api("POST", "/provider_accounts", json={
        "name": "voice", "kind": "voice1", "credentials": {}})
    assert missing.status_code == 422 and "credentials" in missing.get_json()["errors"]
    unknown = api("POST", "/provider_accounts", json={
        "name": "voice", "kind": "voice1", "credentials": {"api_key": "x", "pin": "1"}})
    assert unknown.status_code == 422
    assert api("GET", "/provider_accounts").get_json()["total"] == 0
