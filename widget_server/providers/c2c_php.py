"""The white-label "Click 2 Call API" (seed 000): ``click2call.php`` on a reseller's domain.

What we use of it:

* ``POST <base>/api/voice/click2call.php`` with ``uid``, ``pin``, ``number1``
  (the business, rung first), ``number2`` (the visitor, rung "after answering
  the first number"), ``holdfile`` (the sound file played to the business
  when it answers), ``duration`` (the longest session, in **seconds**) and
  ``uniqueid`` (our public call id). The API takes GET or POST; POST keeps the
  PIN out of the query strings that proxies and access logs keep.
* The answer is comma-separated: a bare numeric Call ID on success. No error
  format is documented, so anything else is a failure whose text is kept,
  redacted, in the exchange event (table ``PLACE_FAILURES``).
* ``POST <base>/api/voice/report-click2call.php`` with ``uniqueid=<ours>``
  answers ``Your_Unique_ID,dur1,dur2,credit``; a duration of 0 means that leg
  was "not answered/busy/invalid/not reachable" (table ``REPORT_OUTCOMES``).
  We assume the line appears once the call has ended: until then (an empty
  answer) we keep polling. A 0,0 line written while a call still rings would
  end it early as ``business_not_reached``; the document does not say.

The product is white-label: there is no default host. Every provider account
needs a base URL (the reseller's domain), and the adapter refuses to place a
call without one, or without a hold file.

Retries: ``uniqueid`` is ours to choose and the reports are looked up by it,
so the provider keeps one call per unique id; we therefore treat a repeated
request with the same id as de-duplicated (``dedupes_requests``) and retry a
request that may have reached the provider (timeout, 5xx). The risk: the
document does not promise that a repeat is refused. A provider that does not
enforce it could ring the business twice after a timeout; retries are
bounded (``PLACE_RETRIES``) and happen only when no answer came back.
Refusals and malformed answers are not retried: they would come again.

Number format: none is documented. The default ``digits`` sends E.164
without the plus (``12025550123``): digits only survive any form or panel
handling, and keep the country code so international numbers work.
``00`` (``0012025550123``) and ``plus`` (``+12025550123``) suit switches
that want an international prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from widget_server.call_states import CallState
from widget_server.providers import numbers
from widget_server.providers.base import (
    Answer,
    CallOrder,
    CallRejected,
    CallReport,
    CheckResult,
    HttpProvider,
    MalformedAnswer,
    Outcome,
    ProviderError,
)
from widget_server.providers.options import Field

PLACE_PATH = "/api/voice/click2call.php"
REPORT_PATH = "/api/voice/report-click2call.php"

# What a failed answer to click2call.php becomes: the document lists no error
# codes, so failures are told apart by shape only. None is retried: it would
# come again.
UNEXPECTED = Outcome(CallState.FAILED, "provider_answer_unexpected", MalformedAnswer)
PLACE_FAILURES: dict[str, Outcome] = {
    # Plain text that is not a Call ID: the provider refused (credentials, credit,
    # API access disabled, number, sound file); its words are in the exchange event.
    "refused": Outcome(CallState.REJECTED, "provider_refused", CallRejected),
    # Nothing at all, an HTML page (a wrong base URL, a login page, a PHP error)
    # or an HTTP status other than 200: not this API speaking.
    "empty": UNEXPECTED,
    "markup": UNEXPECTED,
    "http_status": UNEXPECTED,
}
# Transport failures come from HttpProvider.send: unreachable, timeouts and 5xx
# are retried (de-duplicated by uniqueid); oversized or non-UTF-8 answers are not.

# (business leg answered?, visitor leg answered?) -> how the call ended.
REPORT_OUTCOMES: dict[tuple[bool, bool], Outcome] = {
    (True, True): Outcome(CallState.COMPLETED),
    (True, False): Outcome(CallState.FAILED, "visitor_not_reached"),
    (False, False): Outcome(CallState.FAILED, "business_not_reached"),
    # The visitor is only rung once the business answered; kept for safety.
    (False, True): Outcome(CallState.FAILED, "business_not_reached"),
}

NUMBER_FORMATS = {"digits": numbers.digits, "00": numbers.double_zero, "plus": numbers.plus}
DEFAULT_MAX_DURATION = 600
_NUMBER = re.compile(r"[0-9]+")
_CREDIT = re.compile(r"[0-9]+(\.[0-9]+)?")


class NotConfigured(ProviderError):
    """The provider account lacks a setting the API needs: the call fails, untried."""


class C2CPhpProvider(HttpProvider):
    kind = "c2c-php"
    label = ("White-label Click 2 Call API (click2call.php); base URL required: "
             "the reseller's domain")
    credential_fields = (
        Field("uid", "API UID"),
        Field("pin", "API PIN", "not the panel password", secret=True),
    )
    option_fields = (
        Field("holdfile", "Hold file", "the id of the sound file played when the business "
              "answers", max_length=100),
        Field("max_duration", "Longest call", type=int, unit="seconds", minimum=1,
              maximum=86400, required=False, default=DEFAULT_MAX_DURATION),
        Field("number_format", "Number format", "digits: 12025550123, 00: 0012025550123, "
              "plus: +12025550123", choices=tuple(NUMBER_FORMATS), required=False,
              default="digits"),
    )
    default_base_url = ""
    dedupes_requests = True
    polls = True

    def place_call(self, order: CallOrder, report: CallReport) -> None:
        params = {**self._auth(), **self._call_params(order)}
        answer = self.send("POST", PLACE_PATH, report, data=params)
        call_id = self._call_id(answer)
        report.provider_call_id(call_id)
        report.progress(CallState.DIALING, leg="business", provider_call_id=call_id)

    def poll(self, order: CallOrder, provider_call_id: str, report: CallReport) -> bool:
        self._require_base_url()
        answer = self.send("POST", REPORT_PATH, report,
                           data={**self._auth(), "uniqueid": order.call_id})
        if answer.status != 200:
            raise self.malformed(answer)
        lines = [line for line in answer.text.splitlines() if line.strip()]
        if not lines:
            return False  # no report line yet: the call is still going on
        business, visitor, credit = self._report_line(lines[0], order)
        report.provider_report(business_seconds=business, visitor_seconds=visitor,
                               credit=credit)
        REPORT_OUTCOMES[(business > 0, visitor > 0)].report(
            report, business_seconds=business, visitor_seconds=visitor)
        return True

    def check(self, report: CallReport, *, test_from: str | None = None,
              test_to: str | None = None) -> CheckResult:
        self._settings()
        return super().check(report, test_from=test_from, test_to=test_to)

    def _auth(self) -> dict:
        return {"uid": self.credentials.get("uid", ""), "pin": self.credentials.get("pin", "")}

    def _require_base_url(self) -> None:
        if not self.base_url:
            raise NotConfigured("provider_not_configured", provider=self.kind,
                                excerpt="no base URL: the reseller's domain is required")

    def _settings(self) -> tuple[str, int, Callable[[str], str]]:
        """Hold file, duration and number format (parsed on save), or ``NotConfigured``."""
        self._require_base_url()
        holdfile = str(self.options.get("holdfile") or "").strip()
        if not holdfile:
            raise NotConfigured("provider_not_configured", provider=self.kind,
                                excerpt="no holdfile option (a sound file id)")
        duration = self.options.get("max_duration") or DEFAULT_MAX_DURATION
        return holdfile, duration, NUMBER_FORMATS[self.options.get("number_format", "digits")]

    def _call_params(self, order: CallOrder) -> dict:
        holdfile, duration, dial = self._settings()
        return {"number1": dial(order.business_number), "number2": dial(order.visitor_number),
                "holdfile": holdfile, "duration": str(duration), "uniqueid": order.call_id}

    def _call_id(self, answer: Answer) -> str:
        """The Call ID of a success answer, else the error ``PLACE_FAILURES`` names."""
        text = answer.text.strip()
        fields = [field.strip() for field in text.split(",")]
        if answer.status == 200 and _NUMBER.fullmatch(fields[0]) and not any(fields[1:]):
            return fields[0]
        if answer.status != 200:
            shape, excerpt = "http_status", f"HTTP {answer.status}: {self.remote(text[:150])}"
        elif not text:
            shape, excerpt = "empty", "empty answer"
        elif text.startswith("<"):
            shape, excerpt = "markup", self.remote(text[:200])
        else:
            shape, excerpt = "refused", self.remote(text[:200])
        raise PLACE_FAILURES[shape].raise_for(self.kind, excerpt)

    def _report_line(self, line: str, order: CallOrder) -> tuple[int, int, str]:
        """``Your_Unique_ID,dur1,dur2,credit`` for our call; credit kept as the text given."""
        fields = [field.strip() for field in line.split(",")]
        if (len(fields) != 4 or fields[0] != order.call_id
                or not all(_NUMBER.fullmatch(f) for f in fields[1:3])
                or not _CREDIT.fullmatch(fields[3])):
            raise self.malformed(line)
        return int(fields[1]), int(fields[2]), fields[3]

