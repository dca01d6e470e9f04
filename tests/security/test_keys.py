"""Keys: generated once into the instance folder and kept; encryption keys rotate."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet, InvalidToken

from tests.conftest import base_config
from widget_server import create_app
from widget_server.security import tokens
from widget_server.security.keys import KEYS_FILE, fernet, resolve_keys

WIDGET = SimpleNamespace(public_id="w-1", token_version=3)


def keys_config(instance_path) -> dict:
    return {"INSTANCE_PATH": str(instance_path), "SECRET_KEYS": [], "ENCRYPTION_KEYS": []}


def test_keys_are_generated_once_readable_by_the_owner_only_and_reused(tmp_path):
    first = create_app(base_config(tmp_path))
    path = tmp_path / KEYS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = create_app(base_config(tmp_path))
    assert again.config["SECRET_KEYS"] == first.config["SECRET_KEYS"]
    assert again.config["ENCRYPTION_KEYS"] == first.config["ENCRYPTION_KEYS"]
    assert first.config["SECRET_KEY"] == first.config["SECRET_KEYS"][-1]
    with first.app_context():
        token = tokens.embed_token(WIDGET)
    with again.app_context():
        assert tokens.read_embed_token(token) == ("w-1", 3)


def test_another_instance_folder_gets_its_own_keys(tmp_path):
    one = create_app(base_config(tmp_path / "one"))
    two = create_app(base_config(tmp_path / "two"))
    assert one.config["SECRET_KEYS"] != two.config["SECRET_KEYS"]
    assert one.config["ENCRYPTION_KEYS"] != two.config["ENCRYPTION_KEYS"]


def test_configured_keys_are_used_and_nothing_is_written(tmp_path):
    encryption_key = Fernet.generate_key().decode()
    app = create_app(base_config(tmp_path) | {
        "SECRET_KEYS": ["old-key", "new-key"], "ENCRYPTION_KEYS": [encryption_key]})
    assert not (tmp_path / KEYS_FILE).exists()
    assert app.config["SECRET_KEY"] == "new-key"
    assert app.config["SECRET_KEY_FALLBACKS"] == ["old-key"]


def test_processes_starting_together_agree_on_one_set_of_keys(tmp_path):
    starting_line = Barrier(16)

    def start(_):
        config = keys_config(tmp_path)
        starting_line.wait()
        resolve_keys(config)
        return config["SECRET_KEYS"], config["ENCRYPTION_KEYS"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        seen = set(map(repr, pool.map(start, range(16))))
    assert len(seen) == 1
    assert os.listdir(tmp_path) == [KEYS_FILE]


OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def test_a_value_encrypted_after_rotation_opens_with_the_new_key_alone():
    secret = fernet({"ENCRYPTION_KEYS": [NEW, OLD]}).encrypt(b"api-password")
    assert fernet({"ENCRYPTION_KEYS": [NEW]}).decrypt(secret) == b"api-password"
    with pytest.raises(InvalidToken):
        fernet({"ENCRYPTION_KEYS": [OLD]}).decrypt(secret)


def test_a_value_encrypted_before_rotation_still_opens_after_it():
    secret = fernet({"ENCRYPTION_KEYS": [OLD]}).encrypt(b"api-password")
    assert fernet({"ENCRYPTION_KEYS": [NEW, OLD]}).decrypt(secret) == b"api-password"
    with pytest.raises(InvalidToken):
        fernet({"ENCRYPTION_KEYS": [NEW]}).decrypt(secret)
