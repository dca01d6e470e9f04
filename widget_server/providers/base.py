"""The interface every telephony provider adapter implements, and its shared HTTP work.

An adapter gets a ``CallOrder`` (who to ring first, who second, our
idempotency key) and tells the worker what happens through a ``CallReport``:
state changes, each raw provider exchange (already redacted), the provider's
own call id, and whether to poll again later. It raises a ``ProviderError``
chosen by what the worker should do next, never a bare exception.

Adapters speak in reason codes only: each maps a provider's answers onto an
``Outcome`` (state, reason, error) in one table, and every sentence a
visitor or an admin reads about a reason is written once, in calls/status.py.

``HttpProvider.send`` is the one place that talks HTTP: the session the
caller hands in (services/provider_accounts.py gives one whose connections go
only to checked, public addresses), connect and read timeouts, a size cap on
answers, strict UTF-8, credential redaction (redaction.py), and the mapping
of transport failures onto those errors. The package imports no other part
of widget_server but ``call_states``, so it stays a client library.

An account whose base URL a tenant sets (``shows_answers`` false) keeps no
text of the provider's: its exchanges and errors tell the status, size and
our reason, so a base URL aimed at some other server cannot read its answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import requests
from urllib3.exceptions import NewConnectionError

from widget_server.call_states import CallState
from widget_server.providers.options import CustomFields, Field, parse_values
from widget_server.providers.redaction import Redactor

# Answers larger than this are not read further: no provider documents one.
MAX_ANSWER_BYTES = 64 * 1024
# Stands for the provider's words where the account's address is a tenant's.
WITHHELD = "[answer withheld: the provider address is set by a tenant]"


@dataclass(frozen=True)
class CallOrder:
    # Our public call id: passed on where a provider de-duplicates requests.
    call_id: str
    # Rung first: the business. The visitor is rung only once it answered.
    business_number: str
    # Rung second: the visitor, E.164.
    visitor_number: str
    # The page the visitor asked from (its origin), for providers that report it.
    page: str = ""
    # A signed URL of ours for providers that call back, else empty.
    callback_url: str = ""
    # A per-call secret (30 characters) that such providers echo in the callback.
    callback_secret: str = ""
    # The same call's secret under older keys: a callback after a key rotation
    # echoes the secret the call was placed with.
    earlier_callback_secrets: tuple[str, ...] = ()
    # The provider's own options: the provider account's, overlaid by the widget's.
    options: dict = field(default_factory=dict)
    # Where ``business_number`` stands in the widget's ring order (0: the first).
    ring_position: int = 0


class CallReport(Protocol):
    """How an adapter tells the worker what happened; each call stores an event."""

    def progress(self, status: str, reason: str | None = None, **detail: object) -> None: ...

    def exchange(self, **evidence: object) -> None: ...

    def provider_call_id(self, value: str) -> None: ...

    def provider_report(self, **figures: object) -> None: ...


class AddressRefused(requests.RequestException):
    """Raised by a handed-in session that refuses to connect to an address (its rule's words)."""


class ProviderError(Exception):
    """A provider refused or failed. ``reason`` is our code (calls/status.py words it)."""

    # The state the call ends in when this error ends it.
    final_state = CallState.FAILED
    # Whether placing the call again could not ring anyone twice.
    retry_safe = False
    # Whether this failure counts towards opening the provider account's circuit.
    trips_circuit = False

    def __init__(self, reason: str, *, provider: str = "", excerpt: str = "",
                 retry_safe: bool | None = None):
        super().__init__(f"{provider or 'provider'}: {reason}: {excerpt[:200]}")
        self.reason = reason
        self.provider = provider
        self.excerpt = excerpt[:500]
        if retry_safe is not None:
            self.retry_safe = retry_safe


class CallRejected(ProviderError):
    """The provider answered and refused the request (credit, number, flood, credentials)."""

    final_state = CallState.REJECTED


class ProviderUnavailable(ProviderError):
    """The provider could not be reached, so it cannot have acted: safe to try again."""

    retry_safe = True
    trips_circuit = True


class ProviderNoAnswer(ProviderError):
    """The request may have reached the provider but no usable answer came back.

    Only safe to retry where the provider de-duplicates on our key.
    """

    trips_circuit = True


class MalformedAnswer(ProviderError):
    """The provider answered something its documents do not describe."""

    trips_circuit = True


class OptionsInvalid(ProviderError):
    """Stored options the adapter cannot use (saved before they were checked): nothing is sent."""


@dataclass(frozen=True)
class Outcome:
    """What one provider answer means: the state the call moves to and our reason code.

    With ``error`` the outcome ends the call by raising that ``ProviderError``
    (``raise_for``), and ``state`` must be the one that error ends in; without
    it the adapter reports the state (``report``).
    """

    state: CallState
    reason: str | None = None
    error: type[ProviderError] | None = None

    def __post_init__(self):
        if self.error is not None and self.error.final_state != self.state:
            raise ValueError(f"{self.error.__name__} ends a call {self.error.final_state}, "
                             f"not {self.state}")

    def report(self, report: CallReport, **detail: object) -> None:
        """Tell the worker this outcome's state (an outcome without an error)."""
        report.progress(self.state, self.reason, **detail)

    def raise_for(self, provider: str, excerpt: str = "") -> ProviderError:
        """This outcome's error, to raise; a ``TypeError`` for an outcome that raises none."""
        if self.error is None or self.reason is None:
            raise TypeError(f"{self} ends the call with no error to raise")
        return self.error(self.reason, provider=provider, excerpt=excerpt)


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    content_type: str


class Provider:
    """Base adapter: subclasses set ``kind`` and their fields, and implement ``place_call``."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    credential_fields: ClassVar[tuple[Field, ...]] = ()
    option_fields: ClassVar[tuple[Field, ...]] = ()
    # Options taken under any name with a prefix (Voicenter's ``var_*``), or None.
    custom_fields: ClassVar[CustomFields | None] = None
    default_base_url: ClassVar[str] = ""
    # Whether the adapter talks to an address at all (the simulator does not).
    takes_base_url: ClassVar[bool] = True
    # Whether the provider ignores a repeated request with the same key of ours.
    dedupes_requests: ClassVar[bool] = False
    # Whether the adapter follows calls by polling the provider after placing them.
    polls: ClassVar[bool] = False

    def __init__(self, *, base_url: str | None, credentials: dict, options: dict,
                 shows_answers: bool = True):
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.credentials = credentials
        self.options = options
        # False where a tenant sets the base URL: the provider's text is never kept.
        self.shows_answers = shows_answers

    @classmethod
    def parse_options(cls, options: dict, *, partial: bool = False
                      ) -> tuple[dict, dict[str, str]]:
        """(the options parsed, each bad option's name -> a sentence), all problems at once.

        ``partial``: a widget's own options, checked alone before they lie over
        its provider account's (required options may come from there).
        """
        parsed, errors = parse_values(cls.option_fields, options, custom=cls.custom_fields,
                                      partial=partial)
        problem = None if errors or partial else cls.option_problem(parsed)
        if problem:
            name = next((n for n in [*parsed, *(f.name for f in cls.option_fields)]
                         if problem.startswith(n + " ")), "")
            errors[name] = problem
        return parsed, errors

    @classmethod
    def options_or_refusal(cls, options: dict) -> dict:
        """The options parsed for a call, or ``OptionsInvalid`` before anything is sent."""
        parsed, errors = cls.parse_options(options)
        if errors:
            raise OptionsInvalid("provider_options_invalid", provider=cls.kind,
                                 excerpt=" ".join(errors.values()))
        return parsed

    @classmethod
    def option_problem(cls, options: dict) -> str | None:
        """A sentence on what is wrong with these parsed options together, or None.

        The field declarations check each value's type, range and form; an
        adapter whose rules span fields checks them here, so a bad value is
        refused when it is saved, not when a visitor calls. A sentence that
        starts with an option's name is shown next to that option.
        """
        return None

    def place_call(self, order: CallOrder, report: CallReport) -> None:
        raise NotImplementedError

    def poll(self, order: CallOrder, provider_call_id: str, report: CallReport) -> bool:
        """Ask the provider how the call went; True once nothing more will change."""
        return True

    def handle_callback(self, order: CallOrder, params: dict, report: CallReport) -> None:
        """A provider's callback for ``order``; raise ``ProviderError`` to refuse it."""
        raise CallRejected("callback_unexpected", provider=self.kind)

    def check(self, report: CallReport, *, test_from: str | None = None,
              test_to: str | None = None) -> CheckResult:
        """Validate the account where the API allows (a test call otherwise)."""
        if not (test_from and test_to):
            return CheckResult(False, (
                f"{self.label or self.kind} has no way to check credentials without "
                "placing a call: give a number to ring first and one to ring second."))
        self.place_call(CallOrder(call_id=f"check{int(time.time())}",
                                  business_number=test_from, visitor_number=test_to,
                                  options=self.options), report)
        return CheckResult(True, "The test call was accepted by the provider.")


@dataclass(frozen=True)
class CheckResult:
    """What a check found, in a sentence; ``checked`` False when nothing was sent to the
    provider (it has no way to check without a call), so nobody reads it as a pass."""

    checked: bool
    sentence: str


class HttpProvider(Provider):
    """An adapter that speaks HTTP: ``send`` does the shared, careful part."""

    # (connect, read) seconds; an adapter whose answer waits for a leg raises read.
    timeouts: ClassVar[tuple[float, float]] = (3.05, 15.0)

    def __init__(self, *, session: requests.Session, **kwargs):
        """``session``: the caller's, which decides where connections may go."""
        super().__init__(**kwargs)
        self.session = session

    def secrets(self) -> list[str]:
        """Values never stored or shown: every credential, secret or not (a uid too)."""
        return [str(v) for v in self.credentials.values() if v]

    @property
    def redactor(self) -> Redactor:
        return Redactor([f.name for f in self.credential_fields], self.secrets())

    def remote(self, text: str) -> str:
        """The provider's own words for an excerpt: redacted, or withheld (``shows_answers``)."""
        return self.redactor.answer(text) if self.shows_answers else WITHHELD

    def _redact_params(self, params: dict | None) -> dict | None:
        return None if params is None else self.redactor.value(
            {k: str(v) for k, v in params.items()})

    def send(self, method: str, path: str, report: CallReport, *, params: dict | None = None,
             data: dict | None = None, headers: dict | None = None,
             read_timeout: float | None = None, url: str | None = None) -> Answer:
        """One HTTP exchange, recorded (redacted) as evidence, or a ``ProviderError``."""
        target = url or f"{self.base_url}{path}"
        timeout = (self.timeouts[0], read_timeout or self.timeouts[1])
        evidence: dict = {"method": method, "url": self.redactor.url(target),
                          "params": self._redact_params(params),
                          "form": self._redact_params(data)}
        if headers:
            evidence["headers"] = self._redact_params(headers)
        started = time.monotonic()
        try:
            with self.session.request(method, target, params=params, data=data,
                                      headers=headers, timeout=timeout, stream=True,
                                      allow_redirects=False) as response:
                body = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
                status, content_type = response.status_code, response.headers.get(
                    "Content-Type", "")
        except AddressRefused as error:
            evidence["error"] = f"address refused: {error}"
            report.exchange(**evidence, elapsed_ms=_ms(started))
            raise CallRejected("provider_address_refused", provider=self.kind,
                               excerpt=str(error)) from None
        except requests.ConnectionError as error:
            evidence["error"] = type(error).__name__
            report.exchange(**evidence, elapsed_ms=_ms(started))
            if isinstance(error, requests.ConnectTimeout) or not _may_have_sent(error):
                raise ProviderUnavailable("provider_unreachable", provider=self.kind,
                                          excerpt=type(error).__name__) from error
            raise ProviderNoAnswer("provider_timeout", provider=self.kind,
                                   excerpt=type(error).__name__,
                                   retry_safe=self.dedupes_requests) from error
        except requests.Timeout as error:
            evidence["error"] = type(error).__name__
            report.exchange(**evidence, elapsed_ms=_ms(started))
            raise ProviderNoAnswer("provider_timeout", provider=self.kind,
                                   excerpt=type(error).__name__,
                                   retry_safe=self.dedupes_requests) from error
        except requests.RequestException as error:
            evidence["error"] = type(error).__name__
            report.exchange(**evidence, elapsed_ms=_ms(started))
            raise ProviderUnavailable("provider_unreachable", provider=self.kind,
                                      excerpt=type(error).__name__) from error
        too_large = len(body) > MAX_ANSWER_BYTES
        text = body[:MAX_ANSWER_BYTES].decode("utf-8", errors="replace")
        if self.shows_answers:
            evidence["answer"] = self.redactor.answer(text[:2000])
        report.exchange(**evidence, status=status, content_type=content_type,
                        answer_bytes=len(body), elapsed_ms=_ms(started))
        if status >= 500:
            raise ProviderNoAnswer("provider_server_error", provider=self.kind,
                                   excerpt=f"HTTP {status}", retry_safe=self.dedupes_requests)
        if too_large:
            raise MalformedAnswer("provider_answer_too_large", provider=self.kind,
                                  excerpt=f"more than {MAX_ANSWER_BYTES} bytes")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedAnswer("provider_answer_not_utf8", provider=self.kind,
                                  excerpt=self.remote(text[:200])) from None
        return Answer(status=status, text=text, content_type=content_type)

    def malformed(self, answer: Answer | str) -> MalformedAnswer:
        """The error for an answer its documents do not describe; ``answer`` is the provider's."""
        if isinstance(answer, Answer):
            excerpt = f"HTTP {answer.status}, {len(answer.text.encode())} bytes: " + self.remote(
                answer.text[:200])
        else:
            excerpt = self.remote(answer[:200])
        return MalformedAnswer("provider_answer_unexpected", provider=self.kind,
                               excerpt=excerpt)


def exchange_line(evidence: dict) -> str:
    """One exchange as a line for a check's output: status and size, the answer if kept."""
    size = evidence.get("answer_bytes")
    told = evidence.get("answer", evidence.get("error", ""))
    return (f"{evidence.get('method')} {evidence.get('url')} -> {evidence.get('status', '')}"
            + (f" ({size} bytes)" if size is not None else "") + f" {str(told)[:200]}").rstrip()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _may_have_sent(error: requests.ConnectionError) -> bool:
    """A refused connection or a failed lookup never reached the provider."""
    cause = error.args[0] if error.args else None
    reason = getattr(cause, "reason", cause)
    return not isinstance(reason, NewConnectionError)
