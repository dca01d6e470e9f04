"""Waiting on readiness, not on a clock: poll a condition, fail saying what never came.

The limits are generous because the machine may be busy (two cores shared by
several runs); a test only waits that long when something is broken, and a
server process that exits fails the wait at once.
"""

from __future__ import annotations

import subprocess
import time

import requests


def wait_until(predicate, timeout: float = 60, what: str = "the condition",
               interval: float = 0.05, process: subprocess.Popen | None = None):
    """The first truthy value of ``predicate()``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process exited ({process.returncode}) before {what}")
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def get_when_up(url: str, process: subprocess.Popen | None = None, timeout: float = 120,
                **kwargs) -> requests.Response:
    """GET ``url`` once the server behind it listens (whatever it answers)."""

    def answer():
        try:
            return requests.get(url, timeout=10, **kwargs)
        except requests.ConnectionError:
            return None

    return wait_until(answer, timeout, f"an answer at {url}", 0.1, process)
