"""A loopback Voicenter: ``/ForwardDialer/click2call.aspx`` as seed 003 documents it.

It checks each request as the document states (POST or GET; ``code`` and
``action`` mandatory; per action its documented parameters only, names
matched without case as ASP.NET does; numbers in E.164 without the plus or
Israeli ``0…``; seconds as whole numbers; ``record`` true/false; at most 10
``var_*``) and answers ``ERRORCODE`` 1 with a sentence when something is
wrong (also for a wrong ``code``, which the document gives no code of its
own; the sentence echoes the code, so redaction is tested). It answers in
XML-RPC (the default) or JSON (``format=JSON``), with
``ERRORCODE`` a string in XML and an integer in JSON, as the examples do.

Tests steer it: ``next_code`` (answer that ERRORCODE), ``delay`` (seconds
before answering, after the call was placed), ``fault`` (``"5xx"``,
``"huge"``, ``"not_utf8"``) or ``raw`` (a body sent as is). ``dials`` counts
requests that rang someone (call, message, callference), ``call_ids`` the
CALLIDs handed out (32 characters, as documented); ``terminated`` lists the
extensions hung up.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from xml.sax.saxutils import escape

from tests.fakes.http import FakeHttpServer, Request

PATH = "/ForwardDialer/click2call.aspx"
CODE = "vc-Secret-Code-1234"
_COMMON = {"code", "action", "format"}
# action -> (mandatory, optional) parameters, from sections 1.2 to 1.5.
_ACTIONS = {
    "call": ({"phone", "target"}, {
        "record", "phonecallerid", "phonecallername", "targetcallerid", "targetcallername",
        "phonemaxdialtime", "targetmaxdialtime", "maxduration", "phoneautoanswer",
        "targetautoanswer", "checkphonedevicestate", "checktargetdevicestate", "language",
        "vm_id", "phonelogincode"}),
    "message": ({"phone"}, {
        "pre_rec", "dtmf", "loop_rec", "post_rec", "record", "targetcallerid",
        "targetcallername", "phonemaxdialtime", "maxduration", "phoneautoanswer"}),
    "callference": ({"phone"}, {
        "bbbcode", "targetcallerid", "targetcallername", "phonemaxdialtime", "maxduration",
        "phoneautoanswer"}),
    "terminate": ({"phone"}, set()),
}
_MESSAGES = {0: "OK", 1: "Invalid request parameters", 2: "Application error",
             3: "Extension representative offline", 4: "Extension blocked for Click2Call calls"}
_NUMBER = re.compile(r"[1-9][0-9]{6,14}|0[0-9]{8,9}")
_EXTENSION = re.compile(r"[0-9]{2,15}")
_SECONDS = re.compile(r"[1-9][0-9]{0,5}")


class VoicenterFake:
    def __init__(self, code: str = CODE):
        self.code = code
        self.server = FakeHttpServer(self.handle)
        self.reset()

    def reset(self) -> None:
        """Forget every request and instruction: one server can serve many tests."""
        self.next_code: int | None = None
        self.delay = 0.0
        self.fault: str | None = None
        self.raw: bytes | str | None = None
        self.dials: list[dict[str, str]] = []
        self.call_ids: list[str] = []
        self.terminated: list[str] = []
        self.server.requests.clear()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def __enter__(self) -> VoicenterFake:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def handle(self, request: Request):
        params = {name.lower(): value for name, value in request.params.items()}
        answer_format = params.get("format", "XML").upper()
        if request.path.lower() != PATH.lower() or request.method not in ("GET", "POST"):
            return 404, {"Content-Type": "text/html"}, "<h1>Not Found</h1>"
        problem = self.problem(params)
        if problem:
            return self.answer(answer_format, 1, problem)
        if self.next_code not in (None, 0):
            return self.answer(answer_format, self.next_code, _MESSAGES.get(self.next_code, "?"))
        call_id = ""
        if params["action"] == "terminate":
            self.terminated.append(params["phone"])
        else:
            self.dials.append(params)
            call_id = secrets.token_hex(16)
            self.call_ids.append(call_id)
        if self.delay:
            time.sleep(self.delay)
        if self.fault == "5xx":
            return 503, {"Content-Type": "text/html"}, "<h1>Service Unavailable</h1>"
        if self.fault == "huge":
            return 200, {"Content-Type": "application/json"}, '{"ERRORCODE":0,' + " " * 70_000 + "}"
        if self.fault == "not_utf8":
            return 200, {"Content-Type": "application/json"}, (
                b'{"ERRORCODE":0,"ERRORMESSAGE":"' + "שלום".encode("cp1255")
                + f'","CALLID":"{call_id}"}}'.encode())
        if self.raw is not None:
            return 200, {"Content-Type": "text/plain"}, self.raw
        return self.answer(answer_format, 0, "OK", call_id)

    def problem(self, params: dict[str, str]) -> str | None:
        """What the document's rules find wrong with a request, as Voicenter would say it."""
        action = params.get("action", "").lower()
        if action not in _ACTIONS:
            return "Action is missing" if not action else f"Unknown action {action}"
        if not params.get("code"):
            return "Code is missing"
        if params["code"] != self.code:
            return f"Code {params['code']} is not valid"
        mandatory, optional = _ACTIONS[action]
        custom = [name for name in params if name.startswith("var_")]
        unknown = set(params) - _COMMON - mandatory - optional - set(custom)
        if unknown:
            return f"Unknown parameter {min(unknown)}"
        for name in sorted(mandatory):
            if not params.get(name):
                return f"{name.capitalize()} is missing"
        if params.get("format", "XML").upper() not in ("XML", "JSON"):
            return "Format must be XML or JSON"
        number = _EXTENSION if action == "terminate" else _NUMBER
        if action != "call" and _EXTENSION.fullmatch(params["phone"]):
            number = _EXTENSION
        for name in ("phone", "target"):
            if name in params and not number.fullmatch(params[name]):
                return f"{name.capitalize()} must be E164 without the plus sign"
        for name in ("phonecallerid", "targetcallerid"):
            if name in params and not re.fullmatch(r"[0-9]{3,15}", params[name]):
                return f"{name} must be digits"
        for name in ("phonemaxdialtime", "targetmaxdialtime", "maxduration"):
            if name in params and not _SECONDS.fullmatch(params[name]):
                return f"{name} must be a number of seconds"
        for name in ("record", "phoneautoanswer", "targetautoanswer"):
            if name in params and params[name].lower() not in ("true", "false", "1", "0"):
                return f"{name} must be true or false"
        if "language" in params and not re.fullmatch(r"[a-z]{2,3}", params["language"]):
            return "Language must be like he, en or ru"
        if "dtmf" in params and not params["dtmf"].isdigit():
            return "Dtmf must be numeric"
        for name in ("pre_rec", "loop_rec", "post_rec"):
            if name in params and "." in params[name]:
                return f"{name} is a record name without extension"
        if len(custom) > 10:
            return "Too many custom parameters"
        return None

    @staticmethod
    def answer(answer_format: str, code: int, message: str, call_id: str = ""):
        if answer_format == "JSON":
            return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(
                {"ERRORCODE": code, "ERRORMESSAGE": message, "CALLID": call_id})
        return 200, {"Content-Type": "text/xml; charset=utf-8"}, xml_answer(
            ERRORCODE=str(code), ERRORMESSAGE=message, CALLID=call_id)


def xml_answer(**members: str) -> str:
    """An answer shaped like the document's XML example (an XML-RPC struct)."""
    body = "".join(f"<member><name>{name}</name><value><string>{escape(value)}</string>"
                   f"</value></member>" for name, value in members.items())
    return (f"<methodResponse><params><param><value><struct>{body}</struct></value></param>"
            f"</params></methodResponse>")
