"""Voicenter Click2Call (seed 003): ``POST <base>/ForwardDialer/click2call.aspx``.

What we use: one form-encoded POST with ``code`` (the caller identity, our
secret credential) and ``action=call``: ``phone`` is rung first (the
business), ``target`` second (the visitor), both E.164 without the plus.
Per-leg caller ids and names, the legs' maximum dial times and the call's
maximum duration (all in seconds), ``record``, ``language`` and up to ten
``var_*`` custom fields come from the account's and the widget's options.
The answer is an XML-RPC struct (Voicenter's default) or JSON
(``format=JSON``, our default): ``ERRORCODE`` (a string in XML, an integer
in JSON), ``ERRORMESSAGE`` and ``CALLID``. Both are parsed whichever format
was asked for; XML with a DOCTYPE or entities is refused unread.

Voicenter documents no status report and no callback, so after ``ERRORCODE``
0 the call is honestly "on its way": ringing, then completed with reason
``outcome_unknown``; the CALLID is kept for the site owner's records.

The adapter also drives the other documented actions: ``message`` (dial and
play recordings), ``callference`` (ring a number into a conference) and
``terminate`` (hang up a Voicenter *extension*, not a call id: ``cancel``
uses the ``extension`` option).

Retries: Voicenter does not de-duplicate requests, so nothing that may have
reached it is sent again: a timeout, a 5xx or an answer we cannot read fails
the call. Only a connection that was never made (refused, no route) is
retried by the worker, because then Voicenter cannot have dialled.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from xml.etree import ElementTree

from widget_server.call_states import CallState
from widget_server.providers.base import (
    Answer,
    CallOrder,
    CallRejected,
    CallReport,
    HttpProvider,
    OptionsInvalid,
    Outcome,
    ProviderError,
)
from widget_server.providers.options import CustomFields, Field

PATH = "/ForwardDialer/click2call.aspx"
# "var_*: any custom parameter with var_ prefix ... The limit is 10 parameters."
MAX_CUSTOM_FIELDS = 10


class ApplicationError(ProviderError):
    """Voicenter answered that it failed itself: the call ends, and the circuit counts it."""

    trips_circuit = True


# ERRORCODE -> outcome. None of them is retried: Voicenter does not de-duplicate,
# and an error may come after dialling began.
ERRORS: dict[int, Outcome] = {
    1: Outcome(CallState.REJECTED, "provider_invalid_request", CallRejected),
    2: Outcome(CallState.FAILED, "provider_application_error", ApplicationError),
    3: Outcome(CallState.REJECTED, "business_offline", CallRejected),
    4: Outcome(CallState.REJECTED, "business_blocked", CallRejected),
}
# After ERRORCODE 0 Voicenter tells nothing more: accepted, and then we cannot see.
ACCEPTED = Outcome(CallState.RINGING, "provider_accepted")
UNKNOWN = Outcome(CallState.COMPLETED, "outcome_unknown")
CANCELLED = Outcome(CallState.COMPLETED, "cancelled")

_DIGITS = re.compile(r"\+?[0-9]{3,15}")
_E164 = re.compile(r"\+?[1-9][0-9]{6,14}")
_SECONDS = re.compile(r"[0-9]{1,6}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_CUSTOM_NAME = re.compile(r"var_[A-Za-z0-9_]{1,40}")
_RECORDING = re.compile(r"[A-Za-z0-9_-]{1,100}")
_CALL_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_BOOLEANS = {"true": "true", "false": "false", "1": "true", "0": "false"}


@dataclass(frozen=True)
class Result:
    code: int
    message: str
    call_id: str


class VoicenterProvider(HttpProvider):
    kind = "voicenter"
    label = "Voicenter Click2Call"
    default_base_url = "https://api.voicenter.co.il"
    credential_fields = (Field("code", "Code (caller identity)", secret=True),)
    option_fields = (
        Field("phonecallerid", "Caller id shown to the business", "digits",
              pattern=_DIGITS.pattern, required=False),
        Field("phonecallername", "Caller name shown to the business", max_length=100,
              required=False),
        Field("targetcallerid", "Caller id shown to the visitor", "digits",
              pattern=_DIGITS.pattern, required=False),
        Field("targetcallername", "Caller name shown to the visitor", max_length=100,
              required=False),
        Field("phonemaxdialtime", "Business ring time", type=int, unit="seconds", minimum=1,
              maximum=999999, required=False, default=60),
        Field("targetmaxdialtime", "Visitor ring time", type=int, unit="seconds", minimum=1,
              maximum=999999, required=False, default=60),
        Field("maxduration", "Longest call", type=int, unit="seconds", minimum=1,
              maximum=999999, required=False, default=7200),
        Field("record", "Record the call", type=bool, required=False, default=False),
        Field("language", "Language of prompts", "a two- or three-letter code such as he, "
              "en or ru", pattern=r"[A-Za-z]{2,3}", required=False),
        Field("format", "Answer format asked for", choices=("JSON", "XML"), required=False,
              default="JSON"),
        Field("extension", "Business extension", "the Voicenter extension the business "
              "answers on (to hang up); digits", pattern=_DIGITS.pattern, required=False),
    )
    custom_fields = CustomFields(
        "var_", MAX_CUSTOM_FIELDS, "Custom fields (var_*)", _CUSTOM_NAME.pattern,
        Field("value", "Value", "printable text, sent with each call", max_length=100))

    # --- options -----------------------------------------------------------------

    @classmethod
    def option_problem(cls, options: dict) -> str | None:
        try:
            cls._call_options(options)
        except ValueError as problem:
            return str(problem)
        return None

    @classmethod
    def _call_options(cls, options: dict) -> dict[str, str]:
        """The options as Voicenter's parameters; ``ValueError`` saying what is wrong."""
        params: dict[str, str] = {}
        for name in ("phonecallerid", "targetcallerid"):
            if options.get(name) not in (None, ""):
                params[name] = _number(options[name], name, _DIGITS)
        for name in ("phonecallername", "targetcallername"):
            if options.get(name) not in (None, ""):
                params[name] = _text(options[name], name)
        for name in ("phonemaxdialtime", "targetmaxdialtime", "maxduration"):
            if options.get(name) not in (None, ""):
                params[name] = _seconds(options[name], name)
        if options.get("record") not in (None, ""):
            params["record"] = _boolean(options["record"], "record")
        if options.get("language") not in (None, ""):
            language = str(options["language"]).strip().lower()
            if not _LANGUAGE.fullmatch(language):
                raise ValueError("language must be a two- or three-letter code such as he, "
                                 "en or ru.")
            params["language"] = language
        if options.get("extension") not in (None, ""):
            _number(options["extension"], "extension", _DIGITS)
        params["format"] = cls._format(options)
        custom = {k: v for k, v in options.items() if k.startswith("var_")}
        if len(custom) > MAX_CUSTOM_FIELDS:
            raise ValueError(f"Voicenter takes at most {MAX_CUSTOM_FIELDS} var_* custom "
                             f"fields; {len(custom)} are set.")
        for name, value in sorted(custom.items()):
            if not _CUSTOM_NAME.fullmatch(name):
                raise ValueError(f"{name} is not a valid custom field name: use var_ followed "
                                 "by letters, digits or underscores.")
            params[name] = _text(value, name)
        return params

    @staticmethod
    def _format(options: dict) -> str:
        answer_format = str(options.get("format") or "JSON").strip().upper()
        if answer_format not in ("JSON", "XML"):
            raise ValueError("format must be JSON or XML.")
        return answer_format

    def _refuse(self, problem: ValueError) -> ProviderError:
        """Our own refusal before anything is sent: the site owner's settings are wrong."""
        return OptionsInvalid("provider_options_invalid", provider=self.kind,
                              excerpt=str(problem))

    # --- actions -----------------------------------------------------------------

    def place_call(self, order: CallOrder, report: CallReport) -> None:
        try:
            params = {"phone": _number(order.business_number, "the business number", _E164),
                      "target": _number(order.visitor_number, "the visitor's number", _E164),
                      **self._call_options(order.options)}
        except ValueError as problem:
            raise self._refuse(problem) from None
        result = self._request("call", params, report)
        report.provider_call_id(result.call_id)
        ACCEPTED.report(report, leg="business")
        # Voicenter has no status report or callback: this is as far as we can see.
        UNKNOWN.report(report)

    def play_message(self, number: str, report: CallReport, *, pre_rec: str = "",
                     dtmf: str = "", loop_rec: str = "", post_rec: str = "",
                     **options: object) -> str:
        """Ring ``number`` and play recordings (names without extension) and digits."""
        try:
            params = {"phone": _number(number, "phone", _DIGITS)}
            for name, value in (("pre_rec", pre_rec), ("loop_rec", loop_rec),
                                ("post_rec", post_rec)):
                if value:
                    params[name] = _number(value, name, _RECORDING)
            if dtmf:
                if not str(dtmf).isdigit():
                    raise ValueError("dtmf must be a sequence of digits.")
                params["dtmf"] = str(dtmf)
            params.update(self._short_call_options(options))
        except ValueError as problem:
            raise self._refuse(problem) from None
        return self._placed(self._request("message", params, report), report)

    def callference(self, number: str, report: CallReport, *, bbbcode: str = "",
                    **options: object) -> str:
        """Ring ``number`` into a Callference conference, entering ``bbbcode`` if given."""
        try:
            params = {"phone": _number(number, "phone", _DIGITS)}
            if bbbcode:
                params["bbbcode"] = _number(bbbcode, "bbbcode", _RECORDING)
            params.update(self._short_call_options(options))
        except ValueError as problem:
            raise self._refuse(problem) from None
        return self._placed(self._request("callference", params, report), report)

    def terminate(self, extension: str, report: CallReport) -> None:
        """Hang up whatever call the Voicenter ``extension`` is on."""
        try:
            params = {"phone": _number(extension, "extension", _DIGITS),
                      "format": self._format(self.options)}
        except ValueError as problem:
            raise self._refuse(problem) from None
        self._request("terminate", params, report, call_id_expected=False)

    def cancel(self, order: CallOrder, provider_call_id: str, report: CallReport) -> None:
        """Cancel a placed call: Voicenter hangs up an extension, never a call id.

        So it needs the ``extension`` option, the Voicenter extension the
        business answers on; ``provider_call_id`` cannot be used.
        """
        extension = self.options.get("extension")
        if not extension:
            raise self._refuse(ValueError("Voicenter hangs up an extension, not a call id: "
                                          "set the extension option to cancel calls."))
        self.terminate(str(extension), report)
        CANCELLED.report(report)

    def _short_call_options(self, options: dict) -> dict[str, str]:
        """The options ``message`` and ``callference`` document (their defaults: 30 s)."""
        known = {"record", "targetcallerid", "targetcallername", "phonemaxdialtime",
                 "maxduration", "phoneautoanswer", "format"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"Unknown options: {', '.join(unknown)}.")
        params = self._call_options({"format": self.options.get("format"), **{
            k: v for k, v in options.items() if k != "phoneautoanswer"}})
        if options.get("phoneautoanswer") not in (None, ""):
            params["phoneautoanswer"] = _boolean(options["phoneautoanswer"], "phoneautoanswer")
        return params

    def _placed(self, result: Result, report: CallReport) -> str:
        report.provider_call_id(result.call_id)
        return result.call_id

    # --- the exchange --------------------------------------------------------------

    def _request(self, action: str, params: dict[str, str], report: CallReport, *,
                 call_id_expected: bool = True) -> Result:
        """One POST, its answer read in either format; an ``ERRORCODE`` but 0 raises."""
        form = {"code": str(self.credentials.get("code", "")), "action": action, **params}
        answer = self.send("POST", PATH, report, data=form)
        if answer.status != 200:
            raise self.malformed(answer)
        result = self._parse(answer)
        if result.code in ERRORS:
            raise ERRORS[result.code].raise_for(
                self.kind, f"ERRORCODE {result.code}: {self.remote(result.message)}")
        if result.code != 0:
            raise self.malformed(answer)
        if call_id_expected and not _CALL_ID.fullmatch(result.call_id):
            raise self.malformed(answer)
        return result

    def _parse(self, answer: Answer) -> Result:
        text = answer.text.lstrip("\ufeff \t\r\n")
        if text.startswith("{"):
            fields = self._json_fields(answer, text)
        elif text.startswith("<"):
            fields = self._xml_fields(answer, text)
        else:
            raise self.malformed(answer)
        code, message, call_id = (fields.get(k) for k in ("ERRORCODE", "ERRORMESSAGE",
                                                           "CALLID"))
        if isinstance(code, str) and code.strip().isdigit():
            code = int(code.strip())
        if (not isinstance(code, int) or isinstance(code, bool)
                or not isinstance(message, (str, type(None)))
                or not isinstance(call_id, (str, type(None)))):
            raise self.malformed(answer)
        return Result(code=code, message=message or "", call_id=(call_id or "").strip())

    def _json_fields(self, answer: Answer, text: str) -> dict:
        try:
            fields = json.loads(text)
        except ValueError:
            raise self.malformed(answer) from None
        if not isinstance(fields, dict):
            raise self.malformed(answer)
        return fields

    def _xml_fields(self, answer: Answer, text: str) -> dict:
        """The members of the XML-RPC struct, each a string (or an int from <int>/<i4>)."""
        # A DTD is the only way to declare entities: refusing it refuses entity bombs.
        if re.search(r"<!\s*(DOCTYPE|ENTITY)", text, re.IGNORECASE):
            raise self.malformed(answer)
        try:
            root = ElementTree.fromstring(text)
        except ElementTree.ParseError:
            raise self.malformed(answer) from None
        members = root.findall("./params/param/value/struct/member")
        if root.tag != "methodResponse" or not members:
            raise self.malformed(answer)
        fields: dict[str, object] = {}
        for member in members:
            name, value = member.findtext("name"), member.find("value")
            if not name or value is None or name in fields:
                raise self.malformed(answer)
            typed = list(value)
            if len(typed) > 1:
                raise self.malformed(answer)
            if typed and typed[0].tag in ("int", "i4"):
                fields[name] = (typed[0].text or "").strip()
            elif typed and typed[0].tag != "string":
                raise self.malformed(answer)
            else:
                fields[name] = (typed[0].text if typed else value.text) or ""
        return fields


def _number(value: object, name: str, pattern: re.Pattern) -> str:
    text = str(value).strip()
    if not pattern.fullmatch(text):
        raise ValueError(f"{name} is not in a form Voicenter accepts: {text[:20]!r}.")
    return text.removeprefix("+")


def _text(value: object, name: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError(f"{name} must be text.")
    text = str(value).strip()
    # No length is documented; 100 characters keeps a mistaken paste out.
    if not text or len(text) > 100 or any(ord(c) < 32 for c in text):
        raise ValueError(f"{name} must be 1 to 100 characters of printable text.")
    return text


def _seconds(value: object, name: str) -> str:
    text = str(value).strip()
    if isinstance(value, bool) or not _SECONDS.fullmatch(text) or int(text) < 1:
        raise ValueError(f"{name} is a whole number of seconds, such as 60.")
    return str(int(text))


def _boolean(value: object, name: str) -> str:
    text = str(value).strip().lower()
    if text not in _BOOLEANS:
        raise ValueError(f"{name} must be true or false.")
    return _BOOLEANS[text]

