"""The states a call request moves through, named once.

A leaf module (the standard library only), so the models, the provider
adapters, the queue tasks and the reports all import it without importing
each other. The values are what the database stores.
"""

from __future__ import annotations

from enum import StrEnum


class CallState(StrEnum):
    QUEUED = "queued"
    DIALING = "dialing"
    RINGING = "ringing"
    CONNECTED = "connected"
    COMPLETED = "completed"
    FAILED = "failed"
    REJECTED = "rejected"


# The states that end a call: once stored, a call never leaves them.
FINAL_STATES = frozenset({CallState.COMPLETED, CallState.FAILED, CallState.REJECTED})
