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

from widget_server.i18n import N_
from widget_server.providers import numbers
from widget_server.providers.base import (
    CallOrder,
    CallRejected,
    CallReport,
    HttpProvider,
    ProviderError,
)
from widget_server.providers.options import Field

CANNOT = N_("This site cannot place calls right now.")

# Answer code -> (our reason, error class, the visitor's sentence, retry-safe).
# A refusal means called.in dialled nobody; "retry-safe" says whether the
# worker should try again by itself.
ERRORS: dict[int, tuple[str, type[ProviderError], str, bool]] = {
    1: ("provider_credentials", CallRejected, CANNOT, False),
    2: ("no_credit", CallRejected, CANNOT, False),
    3: ("do_not_call", CallRejected,
        N_("This number is on a do-not-call list, so we cannot call it."), False),
    4: ("provider_invalid_request", CallRejected, CANNOT, False),
    5: ("provider_account_disabled", CallRejected, CANNOT, False),
    # Safe in principle, but called.in asks for a minute: the visitor retries.
    6: ("provider_flood", CallRejected,
        N_("This number was called a moment ago. Please wait a minute and try again."), False),
    7: ("business_number_unsupported", CallRejected, CANNOT, False),
    8: ("business_number_unsupported", CallRejected, CANNOT, False),
    9: ("number_area_unsupported", CallRejected,
        N_("Calls to your area code are not possible yet. Please try another number."), False),
    10: ("number_country_unsupported", CallRejected,
         N_("Calls to your country are not possible yet. Please try another number."), False),
}

# Callback ``reason`` (with answered=0) -> (our reason, the visitor's sentence); the call
# ends failed. The callback does not say which leg it was, so no sentence blames one.
CALLBACK_REASONS = {
    "0": ("call_failed", N_("The call could not be connected. Please try again later.")),
    "1": ("hung_up", N_("The call was hung up before it was connected.")),
    "3": ("ring_timeout", N_("Nobody answered in time. Please try again later.")),
    "5": ("line_busy", N_("A line was busy. Please try again in a few minutes.")),
    "8": ("congestion",
          N_("The phone network was too busy to connect the call. Please try again later.")),
}

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
        return CallRejected(reason, CANNOT, provider=self.kind, excerpt=excerpt)

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
                report.progress("dialing", None, leg="business", awaiting="callback")
            else:
                # No public URL of ours: called.in cannot tell us how the call ends.
                report.progress("completed", "outcome_unknown", leg="business",
                                note="no callback URL configured (PUBLIC_URL)")
            return
        if int(code) not in ERRORS:
            raise self.malformed(answer)
        reason, error_class, sentence, retry_safe = ERRORS[int(code)]
        raise error_class(reason, sentence, provider=self.kind, excerpt=f"code {code}",
                          retry_safe=retry_safe)

    def handle_callback(self, order: CallOrder, params: dict, report: CallReport) -> None:
        """Believe a callback only with our secret and our numbers; then the call ends.

        Every check runs before anything is recorded, so a refused callback
        changes nothing (and does not use up the call's one callback).
        """
        given = str(params.get("secret", "")).encode()
        if not any(secret and hmac.compare_digest(given, secret.encode())
                   for secret in (order.callback_secret, *order.earlier_callback_secrets)):
            raise CallRejected("callback_forged", CANNOT, provider=self.kind,
                               excerpt="secret does not match")
        business, visitor = numbers.split(order.business_number)[1], numbers.split(
            order.visitor_number)[1]
        if (params.get("caller_phone_number"), params.get("callee_phone_number")) != (
                business, visitor):
            raise CallRejected("callback_wrong_numbers", CANNOT, provider=self.kind,
                               excerpt="numbers do not match the call")
        answered, reason = params.get("answered"), str(params.get("reason", ""))
        minutes = _minutes(str(params.get("minutes", "")))
        report.exchange(direction="callback",
                        params=self.redactor.value({k: str(v)[:100]
                                                    for k, v in params.items()}))
        report.provider_report(minutes=minutes, answered=answered == "1")
        if answered == "1":
            report.progress("completed", None, minutes=minutes)
        elif answered == "0":
            ours, sentence = CALLBACK_REASONS.get(reason, CALLBACK_REASONS["0"])
            report.progress("failed", ours, message=sentence, provider_reason=reason[:10])
        else:
            report.progress("completed", "outcome_unknown", answered=str(answered)[:10])

