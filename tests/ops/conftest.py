"""Helpers for the operations tests: closed ports, isolated Redis keys, metric readings."""

from __future__ import annotations

import socket
import uuid

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.providers.conftest import live  # noqa: F401 - the live app fixture, reused

REDIS_URL = "redis://127.0.0.1:6379/0"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the shared Redis; every key under it is removed."""
    prefix = f"wstest{uuid.uuid4().hex[:12]}"  # huey drops dashes from names
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def redis_keys(prefix: str) -> list[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return sorted(key.decode() for key in client.scan_iter(f"*{prefix}*"))
    finally:
        client.close()


def metric_value(text: str, name: str, **labels) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total
