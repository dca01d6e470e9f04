"""API keys: the plaintext opens the account once issued, is never stored, stops at revocation."""

import re

from tests.factories import create_account
from widget_server.extensions import db
from widget_server.models import ApiKey
from widget_server.security.api_keys import account_for_key, issue_key, revoke


def test_an_issued_key_is_recognisable_and_opens_its_account(app):
    with app.app_context():
        account = create_account(name="shop")
        key, plaintext = issue_key(account, "billing")
        db.session.commit()
        assert re.fullmatch(r"wsk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{40,}", plaintext)
        assert plaintext.startswith(f"wsk_{key.prefix}_")
        assert plaintext not in key.key_hash
        found = account_for_key(plaintext)
        assert found.id == key.id and found.account.name == "shop"
        assert db.session.get(ApiKey, key.id).last_used_at is not None


def test_a_key_with_a_wrong_secret_or_a_bad_shape_opens_nothing(app):
    with app.app_context():
        key, plaintext = issue_key(create_account(name="shop"), "")
        db.session.commit()
        assert account_for_key(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
        assert account_for_key(f"wsk_{key.prefix}_") is None
        assert account_for_key(plaintext.replace("wsk_", "xsk_", 1)) is None
        assert account_for_key("") is None
        assert account_for_key(None) is None
        assert db.session.get(ApiKey, key.id).last_used_at is None


def test_a_revoked_key_opens_nothing(app):
    with app.app_context():
        key, plaintext = issue_key(create_account(name="shop"), "")
        revoke(key)
        db.session.commit()
        assert account_for_key(plaintext) is None
