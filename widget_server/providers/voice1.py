"""voice1 Click-2-Call v2: asks the business's own PBX to ring two numbers.

What we use (seed 001):

- ``GET <base>/c2c/v2`` (the API "currently accepts HTTP GET" only) with
  ``Content-type`` and ``Accept`` set to ``application/json``, and the query
  parameters ``api_key``, ``dial_first`` (the business), ``dial_second`` (the
  visitor), ``pbx`` (``asterisk`` | ``switchvox`` | ``other``), ``timeout``
  (seconds each leg rings) and ``dail_as`` -- spelled so in the document, and
  sent exactly so; our option is called ``dial_as``.
- The answer: always 200 with JSON ``response.request_id`` /
  ``response.status`` (``success`` | ``fail``) / ``response.errors``. The
  document's own examples are not valid JSON (trailing commas, a list holding
  ``"error": {...}``, a missing closing brace), so answers are read with a
  lenient reader that accepts exactly those slips.
- ``GET <base>/c2c/v2/status/<request_id>``: a log of the request, of what
  voice1 sent to the PBX and of the PBX's response, each with ``utc.time``.
  We store it as the call's provider report.

What it cannot tell us: "success" only means the PBX returned no error. The
call then rings the business and the visitor, but nobody -- neither voice1
nor we -- learns whether anyone answered. So a success is shown as
``ringing``/``pbx_accepted``, and once the status log holds the PBX's
response the call ends ``completed``/``outcome_unknown_pbx_accepted`` (or
``failed``/``pbx_error`` if that response is an error after all).

Numbers: the document states no format; these are PBX dial strings. We send
E.164 digits without ``+`` by default (``12025550123``), because PBX dial
plans match digit patterns and most Asterisk and Switchvox outbound routes do
not match a ``+``; ``number_format=plus`` sends ``+12025550123`` for dial
plans written for it.

Base URL: the document allows HTTP and HTTPS; we default to
``https://api.voice1.me`` because the API key travels in the query string.

Retries: voice1 has no idempotency key, so a request that may have reached it
(a read timeout, a 5xx, a garbled answer) is never sent again: it may already
be ringing the business. Only a request that never left (connection refused,
DNS failure, connect timeout) is retried. The status endpoint only reads a
log, so polling it is always safe.
"""

from __future__ import annotations

import contextlib
import json
import re

# The C scanner json uses, which typeshed leaves out of json.decoder.
from json.decoder import scanstring  # type: ignore[attr-defined]
from urllib.parse import quote

from widget_server.call_states import CallState
from widget_server.providers import numbers
from widget_server.providers.base import (
    Answer,
    CallOrder,
    CallRejected,
    CallReport,
    CheckResult,
    HttpProvider,
    Outcome,
    ProviderError,
)
from widget_server.providers.options import Field

PATH = "/c2c/v2"
STATUS_PATH = "/c2c/v2/status/"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
PBX_KINDS = ("asterisk", "switchvox", "other")
NUMBER_FORMATS = ("digits", "plus")
# Leg timeouts we accept (seconds); the document sets no bounds, a phone rings ~2 min at most.
LEG_TIMEOUT_RANGE = (5, 300)
# An Asterisk originate waits for the first leg for 30 s by default: a PBX that answers
# synchronously answers voice1 -- and voice1 us -- only then.
DEFAULT_READ_TIMEOUT = 40.0
# The read timeout when a leg timeout is set: that many seconds more.
READ_MARGIN = 10.0

# response.status -> outcome: "success" goes on ringing, "fail" is the PBX's own error,
# passed on unmodified: voice1 has no error codes, so the PBX's message is kept as
# evidence. It is not retried: a PBX that refused will refuse again, and voice1 does
# not promise that a refused request rang no one.
ANSWERS: dict[str, Outcome] = {
    "success": Outcome(CallState.RINGING, "pbx_accepted"),
    "fail": Outcome(CallState.REJECTED, "pbx_error", CallRejected),
}
# How a followed call ends: the PBX's logged response is an error, or nobody can see.
PBX_ERROR = Outcome(CallState.FAILED, "pbx_error")
OUTCOME_UNKNOWN = Outcome(CallState.COMPLETED, "outcome_unknown_pbx_accepted")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


class Voice1Provider(HttpProvider):
    kind = "voice1"
    label = "voice1 Click-2-Call v2"
    default_base_url = "https://api.voice1.me"
    credential_fields = (Field("api_key", "API token", secret=True, max_length=200),)
    option_fields = (
        Field("pbx", "PBX kind", choices=PBX_KINDS, required=False, default="asterisk"),
        Field("timeout", "Leg timeout", "how long each leg rings before giving up", type=int,
              unit="seconds", minimum=LEG_TIMEOUT_RANGE[0], maximum=LEG_TIMEOUT_RANGE[1],
              required=False),
        Field("dial_as", "Dial as", "the PBX extension to dial as (sent as 'dail_as')",
              required=False, max_length=40),
        Field("number_format", "Number format", "digits: 12025550123, plus: +12025550123",
              choices=NUMBER_FORMATS, required=False, default="digits"),
    )
    dedupes_requests = False
    polls = True
    timeouts = (3.05, DEFAULT_READ_TIMEOUT)

    def place_call(self, order: CallOrder, report: CallReport) -> None:
        params, read_timeout = self._request(order)
        report.progress(CallState.DIALING, leg="business")
        answer = self.send("GET", PATH, report, params=params, headers=HEADERS,
                           read_timeout=read_timeout)
        body = self._json(answer)
        response = body.get("response")
        if answer.status != 200 or not isinstance(response, dict):
            raise self.malformed(answer)
        status = response.get("status")
        if status not in ANSWERS:
            raise self.malformed(answer)
        outcome = ANSWERS[status]
        request_id = response.get("request_id")
        request_id = request_id if isinstance(request_id, str) and _REQUEST_ID.fullmatch(
            request_id) else ""
        if request_id:
            report.provider_call_id(request_id)
        errors = _errors(response.get("errors"))
        if errors and self.shows_answers:
            report.provider_report(errors=self.redactor.value(errors))
        if outcome.error is None:
            outcome.report(report, request_id=request_id)
            return
        status_url = self._status_url(request_id, errors)
        if status_url:
            # The log is evidence only; the PBX's refusal stands without it.
            with contextlib.suppress(ProviderError):
                self._store_log(status_url, report)
        excerpt = "; ".join(e["message"] for e in errors if e.get("message")) or status
        raise outcome.raise_for(self.kind, self.remote(excerpt))

    def poll(self, order: CallOrder, provider_call_id: str, report: CallReport) -> bool:
        """Fetch the status log; the call is settled once it holds the PBX's response."""
        if not provider_call_id:
            OUTCOME_UNKNOWN.report(report)
            return True
        log = self._store_log(self._status_url(provider_call_id, []), report)
        response = log.get("response")
        if not isinstance(response, dict):
            return False
        (PBX_ERROR if _pbx_error(response.get("response_data")) else OUTCOME_UNKNOWN).report(
            report)
        return True

    def check(self, report: CallReport, *, test_from: str | None = None,
              test_to: str | None = None) -> CheckResult:
        """voice1 has no endpoint that validates a key; only a real request can."""
        if not (test_from and test_to):
            return CheckResult(False, (
                "voice1 has no way to check an API key without placing a call (its status "
                "endpoint only reads the log of a real request): give a number to ring "
                "first and one to ring second."))
        super().check(report, test_from=test_from, test_to=test_to)
        return CheckResult(True, (
            "voice1 passed the test call to the PBX without an error. That proves the key "
            "and the PBX settings, not that the phones rang: check the PBX's log."))

    def _request(self, order: CallOrder) -> tuple[dict, float]:
        """The documented query and our read timeout, from options parsed on save."""
        options = order.options
        pbx = options.get("pbx", "asterisk")
        dial = numbers.plus if options.get("number_format") == "plus" else numbers.digits
        leg_timeout = options.get("timeout")
        dial_as = options.get("dial_as")
        params = {"api_key": self.credentials.get("api_key", ""),
                  "dial_first": dial(order.business_number),
                  "dial_second": dial(order.visitor_number),
                  "pbx": pbx}
        if leg_timeout:
            params["timeout"] = str(leg_timeout)
        if dial_as:
            params["dail_as"] = dial_as
        return params, leg_timeout + READ_MARGIN if leg_timeout else self.timeouts[1]

    def _status_url(self, request_id: str, errors: list[dict]) -> str:
        """Our own status URL; an answer's URL only when it lies under our base URL."""
        prefix = self.base_url + STATUS_PATH
        for error in errors:
            url = error.get("url") or ""
            if url.startswith(prefix) and _REQUEST_ID.fullmatch(url[len(prefix):]):
                return url
        return prefix + quote(request_id, safe="") if request_id else ""

    def _store_log(self, url: str, report: CallReport) -> dict:
        """Fetch a status log and keep its three sections (credentials scrubbed).

        Only for an account that shows answers: a tenant-aimed base URL's log is
        read to settle the call but none of its text is kept.
        """
        answer = self.send("GET", "", report, headers=HEADERS, url=url)
        log = self._json(answer, unclosed=True).get("c2c_status")
        if answer.status != 200 or not isinstance(log, dict):
            raise self.malformed(answer)
        sections = {name: log[name] for name in ("request", "pbx_request", "response")
                    if isinstance(log.get(name), dict)}
        if sections and self.shows_answers:
            report.provider_report(**self.redactor.value(sections))
        return sections

    def _json(self, answer: Answer, *, unclosed: bool = False) -> dict:
        try:
            value = lenient_json(answer.text, unclosed=unclosed)
        except ValueError:
            raise self.malformed(answer) from None
        if not isinstance(value, dict):
            raise self.malformed(answer)
        return value


def _errors(value: object) -> list[dict]:
    """Each error's message and url, from ``[{"error": {...}}]`` or ``[{...}]``."""
    found = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and isinstance(item.get("error"), dict):
            item = item["error"]
        if isinstance(item, dict):
            found.append({k: str(item[k])[:500] for k in ("message", "url") if item.get(k)})
        elif isinstance(item, str):
            found.append({"message": item[:500]})
    return found


def _pbx_error(data: object) -> bool:
    """Whether the PBX's response says, in its own words, that it failed.

    The document leaves ``response_data`` to the PBX; we read only what PBXs
    themselves write: Asterisk's ``Response: Error`` and a non-empty
    ``error``/``errors`` member. Anything else is not an error we can see.
    """
    if not isinstance(data, dict):
        return False
    for key, value in data.items():
        name = key.lower()
        if name == "response" and str(value).strip().lower() in {"error", "fail", "failure"}:
            return True
        if name in {"error", "errors"} and value not in (None, "", [], {}, 0, False):
            return True
    return False


_WS = re.compile(r"[ \t\r\n]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_MAX_DEPTH = 32


def lenient_json(text: str, *, unclosed: bool = False) -> object:
    """JSON, plus the slips of voice1's own examples.

    Accepted beyond JSON: trailing commas, ``"key": value`` members inside a
    list (read as ``{"key": value}``, the document's ``errors`` shape) and,
    with ``unclosed``, objects left open at the end (its status example). Any
    other deviation is a ``ValueError``.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError:
        pass
    reader = _Reader(text, unclosed)
    value = reader.value(0)
    reader.skip()
    if reader.pos != len(text):
        raise ValueError(f"unexpected text at {reader.pos}")
    return value


class _Reader:
    def __init__(self, text: str, unclosed: bool):
        self.text, self.pos, self.unclosed = text, 0, unclosed

    def skip(self) -> None:
        match = _WS.match(self.text, self.pos)
        assert match is not None, "the pattern matches the empty string"
        self.pos = match.end()

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos:self.pos + 1]

    def value(self, depth: int) -> object:
        if depth > _MAX_DEPTH:
            raise ValueError("nested too deeply")
        char = self.peek()
        if char in ("{", "["):
            return self.container(char, depth)
        if char == '"':
            text, self.pos = scanstring(self.text, self.pos + 1)
            return text
        for literal, meaning in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(literal, self.pos):
                self.pos += len(literal)
                return meaning
        match = _NUMBER.match(self.text, self.pos)
        if not match:
            raise ValueError(f"no value at {self.pos}")
        self.pos = match.end()
        return json.loads(match.group())

    def container(self, opening: str, depth: int) -> object:
        closing = "}" if opening == "{" else "]"
        items: dict | list = {} if opening == "{" else []
        self.pos += 1
        while True:
            char = self.peek()
            if char == closing:
                self.pos += 1
                return items
            if not char and self.unclosed and opening == "{":
                return items
            key = self.value(depth + 1)
            if self.peek() == ":":
                if not isinstance(key, str):
                    raise ValueError(f"a key that is not a string at {self.pos}")
                self.pos += 1
                member = self.value(depth + 1)
                if isinstance(items, dict):
                    items[key] = member
                else:
                    items.append({key: member})
            elif isinstance(items, list):
                items.append(key)
            else:
                raise ValueError(f"':' expected at {self.pos}")
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != closing and not (not char and self.unclosed and opening == "{"):
                raise ValueError(f"',' or '{closing}' expected at {self.pos}")
