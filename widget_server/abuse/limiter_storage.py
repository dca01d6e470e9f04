"""The limiter's in-process storage, exact under concurrent requests.

limits 5.8's ``MemoryStorage`` is not safe for threads: it restarts its expiry
timer without a lock, so two simultaneous hits can start one timer twice (the
hit raises ``RuntimeError``, Flask-Limiter swallows it and the call endpoint
refuses the request with 503; alisaifee/limits#352, unreleased), and it reads
the count it returns after releasing the key's lock, so two hits can both see
the same count. One lock around each change fixes both. It also starts a new
timer thread 10 ms after a hit to sweep expired counters: under traffic, one
thread started per request, a fifth of a call request's time in the embedded
set-up. A counter already expires when it is read; the others are swept
inline here, at most once a second. Defining this class registers it for the
``memory://`` scheme in place of the library's.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from limits.storage import MemoryStorage


class LockedMemoryStorage(MemoryStorage):
    # limits declares it without ClassVar, on the instance.
    STORAGE_SCHEME: ClassVar[list[str]] = ["memory"]  # type: ignore[misc]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._change_lock = threading.RLock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    # The library's private hook, named as Python mangles it inside MemoryStorage.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + 1.0
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        with self._change_lock:
            return super().incr(key, expiry, amount)

    def decr(self, key: str, amount: int = 1) -> int:
        with self._change_lock:
            return super().decr(key, amount)
