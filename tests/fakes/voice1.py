"""A loopback voice1 Click-2-Call v2 server, as seed 001 documents it.

``GET /c2c/v2`` checks what the document states: GET only, ``Content-type``
and ``Accept`` of ``application/json``, ``api_key``, ``dial_first`` and
``dial_second`` present, ``pbx`` one of the three kinds, ``timeout`` whole
seconds, ``dail_as`` so spelled, and no parameter the document does not name.
The numbers must be PBX dial strings in the format the fake is told
(``digits`` or ``plus``). Anything wrong is listed in ``violations`` and
answered as the PBX error it would likely cause.

It answers with the document's own text shapes, invalid JSON included
(trailing commas, ``"errors": ["error": {...}, ]``), and serves
``GET /c2c/v2/status/<request_id>`` in the document's shape (its missing
closing brace too), echoing the request with the key, as a real log would.
Tell it what to do through its attributes: ``outcome`` ("success", "fail",
"http_500", "malformed", "huge", "non_utf8", "no_request_id",
"unknown_status"), ``delay`` seconds before answering, ``pbx_message``,
``error_url`` (where the error's status url points), ``pending_polls`` (status
fetches before the PBX response appears) and ``pbx_response`` (its data).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Self

from tests.fakes.http import FakeHttpServer, Request

DOCUMENTED = {"api_key", "dial_first", "dial_second", "pbx", "timeout", "dail_as"}
_FORMATS = {"digits": re.compile(r"\d{6,15}"), "plus": re.compile(r"\+\d{6,15}")}


class FakeVoice1:
    def __init__(self, api_key: str, *, number_format: str = "digits"):
        self.api_key = api_key
        self.number_format = number_format
        self.outcome = "success"
        self.delay = 0.0
        self.pbx_message = "Extension 100 is not allowed to dial out"
        self.error_url: str | None = None
        self.pending_polls = 0
        self.pbx_response: dict = {"Response": "Success", "Message": "Originate queued"}
        self.dials: list[Request] = []
        self.status_fetches: list[Request] = []
        self.violations: list[str] = []
        self.logs: dict[str, dict] = {}
        self.server = FakeHttpServer(self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> Self:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def handle(self, request: Request):
        if request.path.startswith("/c2c/v2/status/"):
            return self.status(request, request.path.removeprefix("/c2c/v2/status/"))
        if request.path != "/c2c/v2":
            return 404, {}, "not found"
        if request.method != "GET":
            self.violations.append(f"method {request.method}")
            return 405, {}, "GET only"
        self.dials.append(request)
        time.sleep(self.delay)
        problems = self.check(request)
        self.violations += problems
        request_id = str(uuid.uuid4())
        self.logs[request_id] = {"request": request, "polls": 0}
        if problems:
            return self.answer("fail", request_id, "; ".join(problems))
        return self.answer(self.outcome, request_id, self.pbx_message)

    def check(self, request: Request) -> list[str]:
        headers = {k.lower(): v for k, v in request.headers.items()}
        problems = [f"header {name} is not application/json" for name in ("content-type", "accept")
                    if headers.get(name) != "application/json"]
        params = request.query
        problems += [f"unknown parameter {name}" for name in sorted(set(params) - DOCUMENTED)]
        problems += [f"missing {name}" for name in ("api_key", "dial_first", "dial_second")
                     if not params.get(name)]
        if params.get("api_key") and params["api_key"] != self.api_key:
            problems.append("invalid api_key")
        for name in ("dial_first", "dial_second"):
            if params.get(name) and not _FORMATS[self.number_format].fullmatch(params[name]):
                problems.append(f"{name} {params[name]!r} is not a {self.number_format} number")
        if "pbx" in params and params["pbx"] not in ("asterisk", "switchvox", "other"):
            problems.append(f"pbx {params['pbx']!r}")
        if "timeout" in params and not params["timeout"].isdigit():
            problems.append(f"timeout {params['timeout']!r} is not whole seconds")
        if "dail_as" in params and not params["dail_as"]:
            problems.append("empty dail_as")
        return problems

    def answer(self, outcome: str, request_id: str, message: str):
        json_headers = {"Content-Type": "application/json"}
        if outcome == "http_500":
            return 500, {}, "Internal Server Error"
        if outcome == "malformed":
            return 200, {"Content-Type": "text/html"}, "<html><body>Bad gateway</body></html>"
        if outcome == "huge":
            return 200, json_headers, '{"response": {"status": "success", "pad": "' + (
                "x" * 70_000) + '"}}'
        if outcome == "non_utf8":
            return 200, json_headers, b'{"response": {"status": "success", "x": "\xff\xfe"}}'
        if outcome == "unknown_status":
            return 200, json_headers, json.dumps(
                {"response": {"request_id": request_id, "status": "queued", "errors": []}})
        if outcome == "no_request_id":
            return 200, json_headers, '{"response": {"status": "success", "errors": [],},}'
        if outcome == "fail":
            url = self.error_url or f"{self.url}/c2c/v2/status/{request_id}"
            # The document's shape, invalid JSON and all.
            return 200, json_headers, f"""{{
    "response": {{
        "request_id": "{request_id}",
        "status": "fail",
        "errors": [
            "error": {{
               "message": {json.dumps(message)},
               "url": "{url}"
          }},
        ],
    }},
    "method":"asterisk.call",
    "server_id": "mia-216.voice1.me"
}}"""
        return 200, json_headers, f"""{{
    "response": {{
        "request_id": "{request_id}",
        "status": "success",
        "errors": [],
    }},
    "method":"asterisk.call",
    "server_id": "mia-216.voice1.me"
}}"""

    def status(self, request: Request, request_id: str):
        self.status_fetches.append(request)
        log = self.logs.get(request_id)
        if log is None:
            return 404, {}, "no such request"
        log["polls"] += 1
        sent = log["request"]
        now = int(time.time())
        request_data = json.dumps(sent.query)
        response = "" if log["polls"] <= self.pending_polls else f""",
    "response": {{
          "utc.time": "{now}",
          "response_data": {json.dumps(self.pbx_response)},
   }},"""
        # The document's shape: trailing commas, and the outer brace never closed.
        return 200, {"Content-Type": "application/json"}, f"""{{
   "c2c_status" : {{
    "request": {{
           "utc.time": "{now - 2}",
            "request_url": "{self.url}/c2c/v2?api_key={sent.query.get('api_key', '')}",
            "http_method": "GET",
            "request_data": {request_data},
     }},
    "pbx_request" :{{
            "utc.time": "{now - 1}",
            "pbx_data": {{"Action": "Originate", "Channel": "SIP/{sent.query.get('dial_first')}",
                          "Exten": "{sent.query.get('dial_second')}"}},
     }}{response}
}}"""
