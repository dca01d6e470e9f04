"""A loopback server speaking the white-label "Click 2 Call API" (seed 000).

``click2call.php`` takes ``uid``, ``pin``, ``number1``, ``number2``,
``holdfile``, ``duration`` (seconds) and an optional ``uniqueid`` by GET or
POST, and answers a bare numeric Call ID. ``report-click2call.php`` answers
``Your_Unique_ID,dur1,dur2,credit`` for ``uniqueid=`` (or
``Unique_ID,...`` for ``id=``). The document states no error format and no
number format; this fake's choices:

* failures are one line of text, ``Error,<what is wrong>``;
* numbers must match ``number_pattern`` (default: digits, 8 to 15);
* a repeated ``uniqueid`` returns the first Call ID and rings nobody again;
* a call still in progress has no report line yet: the report answers empty
  for the first ``report_after`` polls of each call.

``place_script`` / ``report_script`` make the next requests misbehave, in
order: ``("delay", seconds)`` (act, then answer late), ``("status", code,
body)``, ``("body", bytes or str)`` (answer this instead), ``("drop",)``
(close the connection without answering).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Self

from tests.fakes.http import FakeHttpServer, Request

PLACE_PATH = "/api/voice/click2call.php"
REPORT_PATH = "/api/voice/report-click2call.php"
REQUIRED = ("uid", "pin", "number1", "number2", "holdfile", "duration")


@dataclass
class Dial:
    """A call the fake placed: who it rang first and second, for how long at most."""

    call_id: str
    number1: str
    number2: str
    holdfile: str
    duration: int
    uniqueid: str
    reports: int = 0


class C2CPhpFake:
    def __init__(self, *, uid: str = "reseller42", pin: str = "pin-9f3Kx+s3cret/",
                 sound_files=("17",), prefix: str = "", number_pattern: str = r"[0-9]{8,15}"):
        self.uid, self.pin = uid, pin
        self.sound_files = set(sound_files)
        self.prefix = prefix
        self.number_pattern = re.compile(number_pattern)
        self.dials: list[Dial] = []
        # number2 -> (dur1, dur2, credit); anything else talks 23 s + 45 s for 12 credits.
        self.outcomes: dict[str, tuple[int, int, str]] = {}
        self.report_after = 1
        self.place_script: list[tuple] = []
        self.report_script: list[tuple] = []
        self._lock = threading.Lock()
        self.server = FakeHttpServer(self.handle)

    @property
    def url(self) -> str:
        return self.server.url + self.prefix

    @property
    def place_requests(self) -> list[Request]:
        return [r for r in self.server.requests if r.path.endswith(PLACE_PATH)]

    @property
    def report_requests(self) -> list[Request]:
        return [r for r in self.server.requests if r.path.endswith(REPORT_PATH)]

    def __enter__(self) -> Self:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def handle(self, request: Request) -> tuple[int, dict, bytes | str]:
        if request.method not in ("GET", "POST"):
            return 405, {}, "Method Not Allowed"
        if request.path == self.prefix + PLACE_PATH:
            return self._scripted(self.place_script, request, self._place)
        if request.path == self.prefix + REPORT_PATH:
            return self._scripted(self.report_script, request, self._report)
        return 404, {"Content-Type": "text/html"}, "<html><h1>404 Not Found</h1></html>"

    def _scripted(self, script: list[tuple], request: Request, serve):
        with self._lock:
            step = script.pop(0) if script else ("normal",)
        if step[0] == "drop":
            serve(request)
            raise ConnectionAbortedError
        if step[0] == "status":
            return step[1], {}, step[2]
        if step[0] == "body":
            return 200, {"Content-Type": "text/html; charset=UTF-8"}, step[1]
        answer = serve(request)
        if step[0] == "delay":
            time.sleep(step[1])
        return 200, {"Content-Type": "text/html; charset=UTF-8"}, answer

    def _place(self, request: Request) -> str:
        params = request.params
        missing = [name for name in REQUIRED if not params.get(name)]
        if missing:
            return f"Error,Missing parameter {missing[0]}"
        if (params["uid"], params["pin"]) != (self.uid, self.pin):
            return "Error,Invalid UID or PIN"
        for name in ("number1", "number2"):
            if not self.number_pattern.fullmatch(params[name]):
                return f"Error,Invalid {name}"
        if params["holdfile"] not in self.sound_files:
            return "Error,Invalid sound file"
        if not params["duration"].isdigit() or int(params["duration"]) == 0:
            return "Error,Invalid duration"
        with self._lock:
            unique = params.get("uniqueid", "")
            for dial in self.dials:
                if unique and dial.uniqueid == unique:
                    return dial.call_id
            dial = Dial(call_id=str(880000 + len(self.dials) + 1), number1=params["number1"],
                        number2=params["number2"], holdfile=params["holdfile"],
                        duration=int(params["duration"]), uniqueid=unique)
            self.dials.append(dial)
        return dial.call_id

    def _report(self, request: Request) -> str:
        params = request.params
        if (params.get("uid"), params.get("pin")) != (self.uid, self.pin):
            return "Error,Invalid UID or PIN"
        with self._lock:
            if params.get("uniqueid"):
                found = [d for d in self.dials if d.uniqueid == params["uniqueid"]]
                key = "uniqueid"
            else:
                found = [d for d in self.dials if d.call_id == params.get("id")]
                key = "call_id"
            if not found:
                return "Error,No such call"
            dial = found[0]
            dial.reports += 1
            if dial.reports <= self.report_after:
                return ""
        dur1, dur2, credit = self.outcomes.get(dial.number2, (23, 45, "12"))
        return f"{getattr(dial, key)},{dur1},{dur2},{credit}\n"
