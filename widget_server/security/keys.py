"""Signing and encryption keys: configured, or generated once into the instance folder.

No key is a constant in the code. When ``SECRET_KEYS`` / ``ENCRYPTION_KEYS``
are not configured, a file ``keys.json`` (mode 0600) is created in the
instance folder on first run and reused afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

KEYS_FILE = "keys.json"


def _load_or_create(instance_path: str) -> dict[str, list[str]]:
    """The stored keys, created on first run.

    The file is written whole under a temporary name and then linked into
    place, so two processes starting together agree on one set of keys and
    neither reads a half-written file.
    """
    path = Path(instance_path) / KEYS_FILE
    if not path.exists():
        keys = {
            "secret_keys": [secrets.token_urlsafe(32)],
            "encryption_keys": [Fernet.generate_key().decode()],
        }
        draft = path.with_name(f".{KEYS_FILE}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(keys, handle)
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return json.loads(path.read_text())


def resolve_keys(config: dict) -> None:
    """Fill ``SECRET_KEYS``, ``ENCRYPTION_KEYS`` and ``SECRET_KEY`` in ``config``."""
    if not config["SECRET_KEYS"] or not config["ENCRYPTION_KEYS"]:
        stored = _load_or_create(config["INSTANCE_PATH"])
        config["SECRET_KEYS"] = config["SECRET_KEYS"] or stored["secret_keys"]
        config["ENCRYPTION_KEYS"] = config["ENCRYPTION_KEYS"] or stored["encryption_keys"]
    # Flask (sessions, CSRF) signs with SECRET_KEY and also accepts the fallbacks.
    config["SECRET_KEY"] = config["SECRET_KEYS"][-1]
    config["SECRET_KEY_FALLBACKS"] = config["SECRET_KEYS"][:-1]


def fernet(config: dict) -> MultiFernet:
    """Encrypts with the first key; decrypts with any."""
    return MultiFernet([Fernet(key) for key in config["ENCRYPTION_KEYS"]])


class KeysConfigured(Exception):
    """Keys come from the environment, so only the operator can rotate them there."""


def rotate_stored_keys(config: dict) -> None:
    """Add a newest key to each list in ``keys.json`` and to ``config``.

    The new signing key goes last (itsdangerous signs with the last); the new
    encryption key goes first (``MultiFernet`` encrypts with the first). Older
    keys stay, so live tokens and stored credentials still open.
    """
    path = Path(config["INSTANCE_PATH"]) / KEYS_FILE
    if not path.exists():
        raise KeysConfigured(
            "The keys are configured through WIDGET_SERVER_SECRET_KEYS and "
            "WIDGET_SERVER_ENCRYPTION_KEYS: add a new key there (signing keys last, "
            "encryption keys first).")
    stored = json.loads(path.read_text())
    stored["secret_keys"].append(secrets.token_urlsafe(32))
    stored["encryption_keys"].insert(0, Fernet.generate_key().decode())
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(stored, handle)
    os.replace(temporary, path)
    config["SECRET_KEYS"], config["ENCRYPTION_KEYS"] = (stored["secret_keys"],
                                                        stored["encryption_keys"])
    resolve_keys(config)


def derived_secrets(config: dict, purpose: str) -> list[str]:
    """A hex secret for ``purpose`` under each signing key, newest first.

    The newest is the one to hand out; check against all of them, so that what
    was handed out before a key rotation still opens after it.
    """
    return [hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()
            for key in reversed(config["SECRET_KEYS"])]
