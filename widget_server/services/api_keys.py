"""Management API keys: issue one for an account, revoke one.

Only owners (and keys, and the command line) manage keys, and only in their
own subtree. The key's format and digest are security/api_keys.py's.
"""

from __future__ import annotations

from sqlalchemy import select

from widget_server.extensions import db
from widget_server.models import ApiKey
from widget_server.security.api_keys import issue_key, revoke
from widget_server.services.accounts import check_may_administer
from widget_server.services.actors import Actor
from widget_server.services.errors import ServiceError

NAME_MAX = 120


def create_api_key(actor: Actor, *, account_id: int, name: str = "") -> tuple[ApiKey, str]:
    """A new key for the account, committed, and its plaintext: shown once, never stored."""
    account = check_may_administer(actor, account_id, "account", "account_id")
    name = name.strip()
    if len(name) > NAME_MAX or not name.isprintable():
        raise ServiceError(f"Use at most {NAME_MAX} printable characters.", "name")
    key, plaintext = issue_key(account, name)
    db.session.commit()
    return key, plaintext


def revoke_api_key(actor: Actor, *, key_id: int | None = None,
                   prefix: str | None = None) -> ApiKey:
    """Revoke the key with ``key_id`` or ``prefix``: programs using it are refused from now on."""
    key = db.session.scalar(select(ApiKey).where(
        ApiKey.id == key_id if prefix is None else ApiKey.prefix == prefix))
    if key is None:
        raise ServiceError("There is no such key.", "prefix" if prefix else None,
                           kind="not_found")
    check_may_administer(actor, key.account_id, "key")
    revoke(key)
    db.session.commit()
    return key
