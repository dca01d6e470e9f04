"""called.in click-to-call (seed 002): ``GET <base>/api/clicktocall/``, a callback at the end.

What we use: ``api_key``; ``caller_phone_number`` is the business (called
first) and ``callee_phone_number`` the visitor (called second), each sent as
the national significant number in digits only with its own
``caller_country_code`` / ``callee_country_code`` (the document's "10-digit"
holds for North America; elsewhere the national number has another length,
and called.in answers 7..10 for what it does not serve); ``max_duration`` in
minutes (option ``max_duration_minutes``, left out for no limit);
``caller_id``; ``callback_url`` (our signed ``/hooks/calledin/<token>``) and
``secret`` (a per-call HMAC, at most 30 characters).

The answer is a bare integer: 0 means called.in will place the call shortly,
1..10 are refusals (table below), anything else is malformed. How the call
ended arrives later as a GET to ``callback_url`` with both numbers,
``minutes``, ``secret``, ``answered`` and ``reason``; ``handle_callback``
checks the secret and the numbers before believing it. Without a public URL
of ours there is no callback, and the status says the outcome is unknown.

Retries: called.in does not de-duplicate requests, so a request that may have
reached it (a read timeout, a 5xx, a garbled answer) is never sent again. A
connection that was never made is retried by the worker. Every refusal code
means nothing was dialled; even so none is retried automatically: flood
protection (6) asks for a full minute, longer than the worker's retry delay,
so the visitor is asked to try again instead.
"""

from __future__ import annotations

import hmac
import re

import phonenumbers

from widget_server.call_states import CallState
from widget_server.providers import numbers
from widget_server.providers.base import (
    CallOrder,
    CallRejected,
    CallReport,
    HttpProvider,
    Outcome,
)
from widget_server.providers.options import Field


def _refusal(reason: str) -> Outcome:
    return Outcome(CallState.REJECTED, reason, CallRejected)


# Answer code -> outcome. A refusal means called.in dialled nobody; even so none
# is retried by the worker: flood protection (6) asks for a full minute, so the
# visitor is asked to try again instead.
ERRORS: dict[int, Outcome] = {
    1: _refusal("provider_credentials"),
    2: _refusal("no_credit"),
    3: _refusal("do_not_call"),
    4: _refusal("provider_invalid_request"),
    5: _refusal("provider_account_disabled"),
    6: _refusal("provider_flood"),
    7: _refusal("business_number_unsupported"),
    8: _refusal("business_number_unsupported"),
    9: _refusal("number_area_unsupported"),
    10: _refusal("number_country_unsupported"),
}

# Callback ``reason`` (with answered=0) -> how the call ended. The callback does not
# say which leg it was, so no reason blames one.
CALLBACK_REASONS = {
    "0": Outcome(CallState.FAILED, "call_failed"),
    "1": Outcome(CallState.FAILED, "hung_up"),
    "3": Outcome(CallState.FAILED, "ring_timeout"),
    "5": Outcome(CallState.FAILED, "line_busy"),
    "8": Outcome(CallState.FAILED, "congestion"),
}
ANSWERED = Outcome(CallState.COMPLETED)
# Without a callback (no public URL of ours, or a garbled ``answered``) we cannot know.
UNKNOWN = Outcome(CallState.COMPLETED, "outcome_unknown")

SECRET_MAX = 30
_CODE = re.compile(r"\d{1,3}")
_MINUTES = re.compile(r"\d{1,6}(\.\d{1,3})?")


def _minutes(raw: str) -> int | float | None:
    """The callback's ``minutes`` (documented as a length in minutes), or None if garbled."""
    if not _MINUTES.fullmatch(raw):
        return None
    return float(raw) if "." in raw else int(raw)


class CalledInProvider(HttpProvider):
    kind = "calledin"
    label = "called.in click-to-call"
    default_base_url = "https://called.in"
    credential_fields = (Field("api_key", "API key", secret=True),)
    option_fields = (
        Field("max_duration_minutes", "Longest call", "empty: no limit", type=int,
              unit="minutes", minimum=1, maximum=1440, required=False),
        Field("caller_id", "Caller id", "digits, or an international number starting with +; "
              "shown to both legs, empty: the business number",
              pattern=r"[0-9]{3,15}|\+[0-9 ().-]{3,24}", required=False),
    )
    path = "/api/clicktocall/"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._callback_secret = ""

    def secrets(self) -> list[str]:
        """The per-call callback secret is proof of a genuine callback: never stored."""
        return super().secrets() + ([self._callback_secret] if self._callback_secret else [])

    def _refuse(self, reason: str, excerpt: str) -> CallRejected:
        return CallRejected(reason, provider=self.kind, excerpt=excerpt)

    def max_duration(self) -> str | None:
        minutes = self.options.get("max_duration_minutes")
        return str(minutes) if minutes else None

    def caller_id(self) -> str | None:
        """Digits as given; an E.164 caller id as its national number, as called.in takes it."""
        raw = self.options.get("caller_id")
        if not raw or not raw.startswith("+"):
            return raw or None
        try:
            return numbers.split(raw)[1]
        except phonenumbers.NumberParseException:
            raise self._refuse("provider_options_invalid",
                               "caller_id must be digits only or an E.164 number") from None

    def request_params(self, order: CallOrder) -> dict:
        """The documented parameters, the business first; a refusal if we cannot form them."""
        try:
            caller_cc, caller = numbers.split(order.business_number)
            callee_cc, callee = numbers.split(order.visitor_number)
        except phonenumbers.NumberParseException as error:
            raise self._refuse("provider_invalid_request", str(error)) from None
        params = {
            "api_key": self.credentials.get("api_key", ""),
            "caller_phone_number": caller,
            "caller_country_code": caller_cc,
            "callee_phone_number": callee,
            "callee_country_code": callee_cc,
        }
        minutes, caller_id = self.max_duration(), self.caller_id()
        if minutes:
            params["max_duration"] = minutes
        if caller_id:
            params["caller_id"] = caller_id
        if order.callback_url:
            if not order.callback_secret or len(order.callback_secret) > SECRET_MAX:
                raise self._refuse("provider_invalid_request",
                                   f"callback secret must be 1..{SECRET_MAX} characters")
            params["callback_url"] = order.callback_url
            params["secret"] = order.callback_secret
        return params

    def place_call(self, order: CallOrder, report: CallReport) -> None:
        params = self.request_params(order)
        self._callback_secret = params.get("secret", "")
        answer = self.send("GET", self.path, report, params=params)
        code = answer.text.strip()
        if answer.status != 200 or not _CODE.fullmatch(code):
            raise self.malformed(answer)
        if int(code) == 0:
            if order.callback_url:
                report.progress(CallState.DIALING, None, leg="business", awaiting="callback")
            else:
                # No public URL of ours: called.in cannot tell us how the call ends.
                UNKNOWN.report(report, leg="business",
                               note="no callback URL configured (PUBLIC_URL)")
            return
        if int(code) not in ERRORS:
            raise self.malformed(answer)
        raise ERRORS[int(code)].raise_for(self.kind, f"code {code}")

    def handle_callback(self, order: CallOrder, params: dict, report: CallReport) -> None:
        """Believe a callback only with our secret and our numbers; then the call ends.

        Every check runs before anything is recorded, so a refused callback
        changes nothing (and does not use up the call's one callback).
        """
        given = str(params.get("secret", "")).encode()
        if not any(secret and hmac.compare_digest(given, secret.encode())
                   for secret in (order.callback_secret, *order.earlier_callback_secrets)):
            raise CallRejected("callback_forged", provider=self.kind,
                               excerpt="secret does not match")
        business, visitor = numbers.split(order.business_number)[1], numbers.split(
            order.visitor_number)[1]
        if (params.get("caller_phone_number"), params.get("callee_phone_number")) != (
                business, visitor):
            raise CallRejected("callback_wrong_numbers", provider=self.kind,
                               excerpt="numbers do not match the call")
        answered, reason = params.get("answered"), str(params.get("reason", ""))
        minutes = _minutes(str(params.get("minutes", "")))
        report.exchange(direction="callback",
                        params=self.redactor.value({k: str(v)[:100]
                                                    for k, v in params.items()}))
        report.provider_report(minutes=minutes, answered=answered == "1")
        if answered == "1":
            ANSWERED.report(report, minutes=minutes)
        elif answered == "0":
            CALLBACK_REASONS.get(reason, CALLBACK_REASONS["0"]).report(
                report, provider_reason=reason[:10])
        else:
            UNKNOWN.report(report, answered=str(answered)[:10])

