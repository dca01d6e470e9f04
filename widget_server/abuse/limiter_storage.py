"""The limiter's in-process storage, exact under concurrent requests.

limits 5.8's ``MemoryStorage`` is not safe for threads: it restarts its expiry
timer without a lock, so two simultaneous hits can start one timer twice (the
hit raises ``RuntimeError``, Flask-Limiter swallows it and the call endpoint
refuses the request with 503; alisaifee/limits#352, unreleased), and it reads
the count it returns after releasing the key's lock, so two hits can both see
the same count. One lock around each change fixes both. Defining this class
registers it for the ``memory://`` scheme in place of the library's.
"""

from __future__ import annotations

import threading
from typing import ClassVar

from limits.storage import MemoryStorage


class LockedMemoryStorage(MemoryStorage):
    # limits declares it without ClassVar, on the instance.
    STORAGE_SCHEME: ClassVar[list[str]] = ["memory"]  # type: ignore[misc]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._change_lock = threading.RLock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        with self._change_lock:
            return super().incr(key, expiry, amount)

    def decr(self, key: str, amount: int = 1) -> int:
        with self._change_lock:
            return super().decr(key, amount)
