"""Management API keys: issued once in clear, kept only as a SHA-256 digest.

Shared by the admin (which issues and revokes keys) and the JSON API (which
authenticates with them), so both agree on one format:
``wsk_<prefix>_<secret>``. The prefix (8 letters and digits) is stored in
clear to find the key and to let people recognise it in a list; the digest
covers the whole key, so the prefix alone proves nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from sqlalchemy import select

from widget_server.extensions import db
from widget_server.models import Account, ApiKey, utcnow

KEY_MARK = "wsk_"
PREFIX_LENGTH = 8
# Letters and digits only: url-safe, and the "_" after the prefix stays unambiguous.
_PREFIX_ALPHABET = string.ascii_letters + string.digits


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _new_prefix() -> str:
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def issue_key(account: Account, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for ``account``; the plaintext is returned once and never stored.

    The row is added and flushed; the caller commits.
    """
    prefix = _new_prefix()
    while db.session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None:
        prefix = _new_prefix()
    plaintext = f"{KEY_MARK}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(account_id=account.id, name=name, prefix=prefix, key_hash=digest(plaintext))
    db.session.add(key)
    db.session.flush()
    return key, plaintext


def parse_prefix(plaintext: str) -> str | None:
    """The prefix of a well-formed key, or None."""
    if not plaintext.startswith(KEY_MARK):
        return None
    rest = plaintext[len(KEY_MARK):]
    prefix, sep, secret = (rest[:PREFIX_LENGTH], rest[PREFIX_LENGTH:PREFIX_LENGTH + 1],
                           rest[PREFIX_LENGTH + 1:])
    if len(prefix) != PREFIX_LENGTH or sep != "_" or not secret:
        return None
    return prefix


def account_for_key(plaintext: str | None) -> ApiKey | None:
    """The live key matching ``plaintext`` (its ``.account`` is the caller), or None.

    The digest is compared in constant time. A match records ``last_used_at``
    and commits, so the admin can show when a key was last used.
    """
    prefix = parse_prefix(plaintext or "")
    if prefix is None:
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, digest(plaintext or "")):
        return None
    key.last_used_at = utcnow()
    db.session.commit()
    return key


def revoke(key: ApiKey) -> None:
    """Mark a key revoked (kept for the list); the caller commits."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
