"""Helpers for the operations tests: the keys under a prefix in Redis, metric readings."""

from __future__ import annotations

import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import SHARED_REDIS
from tests.providers.conftest import live  # noqa: F401 - the live app fixture, reused


def redis_keys(prefix: str) -> list[str]:
    client = redis.Redis.from_url(SHARED_REDIS)
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
