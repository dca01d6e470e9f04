"""DialogTech click-to-call (seed 004): ``GET ibp_api.php?action=clickto.call``.

What we use: ``access_key`` and ``secret_access_key`` (with both, any two
numbers may be dialled), ``type`` to choose which field is rung first, ``id``
and ``phone_to_call`` as unformatted digits, ``page`` (at most 255
characters: the page the visitor asked from), ``ref`` (at most 32: our call
id, so the call can be found in DialogTech's own report) and the optional
per-leg caller ids.

The business is always rung first: with ``type`` 2 (the default) it is
``id`` and the visitor ``phone_to_call``; with ``type`` 1 the fields swap.

The answer is plain text sent only once the first leg (the business) has
answered or not: ``Call Connected`` or ``No Answer``. So the worker holds the
request with a read timeout longer than the first leg's dial time
(``first_leg_timeout`` + a margin). Nothing tells us about the second leg,
and there is no status API: after ``Call Connected`` the visitor is being
rung, and the call ends as completed with reason ``business_answered``.

Retries: never after the request may have reached DialogTech. Its document
says nothing of de-duplicating on ``ref``, and a timeout here usually means
the business phone is ringing, so a second request would ring it twice.
"""

from __future__ import annotations

from widget_server.call_states import CallState
from widget_server.providers import numbers
from widget_server.providers.base import CallOrder, CallReport, HttpProvider, Outcome
from widget_server.providers.options import Field

# The plain-text answers the document lists.
ANSWERS = {
    "Call Connected": Outcome(CallState.COMPLETED, "business_answered"),
    "No Answer": Outcome(CallState.FAILED, "business_no_answer"),
}
# Seconds the read timeout adds to the first leg's dial time.
ANSWER_MARGIN = 15
DEFAULT_FIRST_LEG_TIMEOUT = 60
# A caller id as people write one: digits, maybe a +, spaces, brackets, dots, dashes.
CALLER_ID = r"\+?[0-9][0-9 ().-]{2,23}"


class DialogTechProvider(HttpProvider):
    kind = "dialogtech"
    label = "DialogTech click-to-call"
    default_base_url = "https://secure.dialogtech.com"
    credential_fields = (
        Field("access_key", "Access key", secret=True),
        Field("secret_access_key", "Secret access key", secret=True),
    )
    option_fields = (
        Field("type", "Field rung first", "2: id, 1: phone_to_call", choices=("2", "1"),
              required=False, default="2"),
        Field("first_callerid", "Caller id on the first leg", "a phone number (its digits "
              "are sent), shown to the business", pattern=CALLER_ID, required=False),
        Field("second_callerid", "Caller id on the second leg", "a phone number (its digits "
              "are sent), shown to the visitor", pattern=CALLER_ID, required=False),
        Field("first_leg_timeout", "Business answer time", "how long the business may take "
              "to answer", type=float, unit="seconds", minimum=0.1, maximum=300,
              required=False, default=DEFAULT_FIRST_LEG_TIMEOUT),
    )

    def first_leg_timeout(self) -> float:
        return self.options.get("first_leg_timeout") or DEFAULT_FIRST_LEG_TIMEOUT

    def request_params(self, order: CallOrder) -> dict:
        business, visitor = (numbers.north_american_national(order.business_number),
                             numbers.north_american_national(order.visitor_number))
        dial_type = self.options.get("type", "2")
        first_field, second_field = ("id", "phone_to_call") if dial_type == "2" else (
            "phone_to_call", "id")
        params = {
            "action": "clickto.call",
            "access_key": self.credentials["access_key"],
            "secret_access_key": self.credentials["secret_access_key"],
            "type": dial_type,
            first_field: business,
            second_field: visitor,
            "page": order.page[:255],
            "ref": order.call_id[:32],
        }
        for name in ("first_callerid", "second_callerid"):
            if self.options.get(name):
                params[name] = numbers.digits(str(self.options[name]))
        return params

    def place_call(self, order: CallOrder, report: CallReport) -> None:
        report.progress(CallState.DIALING, leg="business")
        answer = self.send("GET", "/ibp_api.php", report, params=self.request_params(order),
                           read_timeout=self.first_leg_timeout() + ANSWER_MARGIN)
        outcome = ANSWERS.get(answer.text.strip())
        if outcome is None:
            raise self.malformed(answer)
        if outcome.state == CallState.COMPLETED:
            report.progress(CallState.RINGING, leg="visitor")
        outcome.report(report)
