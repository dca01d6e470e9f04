"""The limiter's memory storage counts simultaneous hits without losing one to an error."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits.storage import storage_from_string

import widget_server.extensions  # noqa: F401  (the app's registration of memory://)
from widget_server.abuse.limiter_storage import LockedMemoryStorage

THREADS = 16


def hit_together(storage, start: threading.Barrier) -> int:
    start.wait()
    return storage.incr("ip", 60)


@pytest.fixture
def busy_interpreter():
    """Switch threads as often as possible, so that unlocked races show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_the_app_uses_the_locked_storage_for_memory_uris():
    assert isinstance(storage_from_string("memory://"), LockedMemoryStorage)


def test_simultaneous_first_hits_all_count(busy_interpreter):
    """Each round starts with the expiry timer run out, where limits 5.8 raced."""
    for _ in range(150):
        storage = storage_from_string("memory://")
        time.sleep(0.012)
        start = threading.Barrier(THREADS)

        with ThreadPoolExecutor(THREADS) as pool:
            hits = [pool.submit(hit_together, storage, start) for _ in range(THREADS)]
            counts = [hit.result() for hit in hits]  # re-raises any hit's error
        assert sorted(counts) == list(range(1, THREADS + 1))


def test_hits_start_no_thread_and_expired_counters_are_still_swept(monkeypatch):
    storage = LockedMemoryStorage()
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))

    for n in range(50):
        storage.incr(f"burst/{n}", expiry=0.01)
    time.sleep(0.02)
    storage._next_sweep = 0.0  # a second has passed
    storage.incr("burst/last", expiry=60)

    assert started == []
    assert set(storage.storage) == {"burst/last"}
