"""Signing and encryption keys: configured, or generated once into the instance folder.

No key is a constant in the code. When ``SECRET_KEYS`` / ``ENCRYPTION_KEYS``
are not configured, a file ``keys.json`` (mode 0600) is created in the
instance folder on first run and reused afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

KEYS_FILE = "keys.json"


def _load_or_create(instance_path: str) -> dict[str, list[str]]:
    path = Path(instance_path) / KEYS_FILE
    if path.exists():
        return json.loads(path.read_text())
    keys = {
        "secret_keys": [secrets.token_urlsafe(32)],
        "encryption_keys": [Fernet.generate_key().decode()],
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle)
    return keys


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
