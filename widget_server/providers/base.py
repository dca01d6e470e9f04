"""The interface every telephony provider adapter implements.

An adapter gets a ``CallOrder`` (who to ring first, who second, the
idempotency key) and reports each step through ``report``, which stores it
as a call event. It raises ``ProviderError`` subclasses chosen by what the
caller should do next, never a bare exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

# The states a call request moves through, in order; failed and rejected end it.
STATES = ("queued", "dialing", "ringing", "connected", "completed", "failed", "rejected")
FINAL_STATES = {"completed", "failed", "rejected"}


@dataclass(frozen=True)
class CallOrder:
    # Our public call id: passed on where a provider de-duplicates requests.
    idempotency_key: str
    # Rung first: the business. The visitor is rung only once it answered.
    business_number: str
    # Rung second: the visitor, E.164.
    visitor_number: str
    options: dict = field(default_factory=dict)


class Report(Protocol):
    def __call__(self, status: str, reason: str | None = None, **detail: object) -> None: ...


class ProviderError(Exception):
    """A provider refused or failed; ``reason`` is ours, ``message`` for the visitor."""

    # Whether placing the call again could ring someone twice.
    retry_safe = False

    def __init__(self, reason: str, message: str, *, provider: str = "", excerpt: str = ""):
        super().__init__(f"{provider}: {reason}: {excerpt[:200]}")
        self.reason = reason
        self.message = message
        self.provider = provider


class CallRejected(ProviderError):
    """The provider refused the request (credit, number, flood): the call ends as rejected."""


class ProviderUnavailable(ProviderError):
    """The provider could not be reached before it acted: safe to try again."""

    retry_safe = True


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    secret: bool = False
    required: bool = True


class Provider:
    """Base adapter. Subclasses set ``kind`` and the fields, and implement ``place_call``."""

    kind = ""
    credential_fields: tuple[Field, ...] = ()
    option_fields: tuple[Field, ...] = ()
    default_base_url = ""

    def __init__(self, *, base_url: str | None, credentials: dict, options: dict,
                 settings: dict):
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.credentials = credentials
        self.options = options
        self.settings = settings

    def place_call(self, order: CallOrder, report: Report) -> None:
        raise NotImplementedError


ReportFactory = Callable[[int], Report]
