"""A loopback called.in: ``GET /api/clicktocall/`` as seed 002 documents it, and its callback.

It validates the parameters as the document states them (names, digits
only, 10-digit numbers in North America, minutes, a URL, a secret of at most
30 characters) and answers the bare integer codes from its own state: known
and disabled keys, credits, a DoNotCall list, a one-minute flood guard on
the number called second (the document does not say which "phone_number";
the business takes many calls), supported countries and area codes. After
answering 0 it "places" the call and, like the real service, GETs
``callback_url`` a moment later with both numbers, ``minutes``, ``secret``,
``answered`` and ``reason``.

A test can also make it slow (``delay``), fail (``status``), or answer a raw
body of its choosing (``raw``: malformed, huge, not UTF-8).
"""

from __future__ import annotations

import threading
import time
from typing import Self
from urllib.parse import urlencode, urlsplit

import requests

from tests.fakes.http import FakeHttpServer, Request

API_PATH = "/api/clicktocall/"
REQUIRED = ("api_key", "caller_phone_number", "caller_country_code", "callee_phone_number",
            "callee_country_code")
OPTIONAL = ("max_duration", "caller_id", "callback_url", "secret")
FLOOD_SECONDS = 60


class FakeCalledIn:
    def __init__(self, api_key: str = "ci-key-7f3a9b1c2d", *, callback_delay: float = 0.2):
        self.api_keys = {api_key}
        self.disabled_keys: set[str] = set()
        self.credits: int | None = None
        self.do_not_call: set[str] = set()
        self.countries = {"1", "44"}
        self.unsupported_area_codes: set[str] = set()
        # National number -> when it was last dialled (monotonic seconds).
        self.last_dialled: dict[str, float] = {}
        # How the next calls end: the callback's answered, reason and minutes.
        self.outcome = {"answered": "1", "reason": "", "minutes": "2"}
        self.auto_callback = True
        self.callback_delay = callback_delay
        self.delay = 0.0
        self.status = 200
        self.raw: bytes | str | None = None
        # Calls accepted (answered 0): each would ring the business.
        self.dials: list[dict[str, str]] = []
        # (params sent, HTTP status and JSON body of our server's answer) per callback.
        self.callbacks: list[tuple[dict, int, dict]] = []
        self._threads: list[threading.Thread] = []
        self.server = FakeHttpServer(self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        return [r for r in self.server.requests if r.path == API_PATH]

    def __enter__(self) -> Self:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for thread in self._threads:
            thread.join(timeout=5)
        self.server.__exit__(*exc)

    def handle(self, request: Request):
        if self.delay:
            time.sleep(self.delay)
        if request.path != API_PATH:
            return 404, {"Content-Type": "text/html"}, "<h1>Not Found</h1>"
        if self.status != 200:
            return self.status, {"Content-Type": "text/html"}, "<h1>Server Error</h1>"
        if self.raw is not None:
            return 200, {"Content-Type": "text/html"}, self.raw
        code = self.answer(request)
        return 200, {"Content-Type": "text/html; charset=UTF-8"}, str(code)

    def answer(self, request: Request) -> int:
        """The documented code for this request, checked in the order a service would."""
        p = request.query
        if request.method != "GET":
            return 4
        if p.get("api_key") not in self.api_keys:
            return 1
        if p["api_key"] in self.disabled_keys:
            return 5
        if not self.well_formed(p):
            return 4
        if p["caller_country_code"] not in self.countries:
            return 8
        if p["callee_country_code"] not in self.countries:
            return 10
        if self.area_code(p, "caller") in self.unsupported_area_codes:
            return 7
        if self.area_code(p, "callee") in self.unsupported_area_codes:
            return 9
        if {p["caller_phone_number"], p["callee_phone_number"]} & self.do_not_call:
            return 3
        now = time.monotonic()
        if now - self.last_dialled.get(p["callee_phone_number"], -1e9) < FLOOD_SECONDS:
            return 6
        if self.credits is not None:
            if self.credits <= 0:
                return 2
            self.credits -= 1
        self.last_dialled[p["callee_phone_number"]] = now
        self.dials.append(dict(p))
        if self.auto_callback and p.get("callback_url"):
            thread = threading.Thread(target=self._call_back, args=(dict(p),), daemon=True)
            self._threads.append(thread)
            thread.start()
        return 0

    @staticmethod
    def area_code(p: dict, leg: str) -> str:
        return p[f"{leg}_phone_number"][:3] if p[f"{leg}_country_code"] == "1" else ""

    @staticmethod
    def well_formed(p: dict) -> bool:
        if any(not p.get(name) for name in REQUIRED):
            return False
        if set(p) - set(REQUIRED) - set(OPTIONAL):
            return False
        for leg in ("caller", "callee"):
            number, country = p[f"{leg}_phone_number"], p[f"{leg}_country_code"]
            if not (number.isdigit() and country.isdigit() and 1 <= len(country) <= 3):
                return False
            if country == "1" and len(number) != 10:
                return False
            if not 4 <= len(number) <= 14:
                return False
        if p.get("max_duration", "") and not p["max_duration"].isdigit():
            return False
        if "caller_id" in p and not p["caller_id"].isdigit():
            return False
        if "callback_url" in p and urlsplit(p["callback_url"]).scheme not in ("http", "https"):
            return False
        return len(p.get("secret", "")) <= 30

    def callback_params(self, sent: dict, **override: str) -> dict:
        """The GET parameters the document lists, for a call placed with ``sent``."""
        minutes = self.outcome["minutes"] if self.outcome["answered"] == "1" else "0"
        if sent.get("max_duration") and minutes.isdigit():
            minutes = str(min(int(minutes), int(sent["max_duration"])))
        return {"caller_phone_number": sent["caller_phone_number"],
                "callee_phone_number": sent["callee_phone_number"],
                "minutes": minutes, "secret": sent.get("secret", ""),
                "answered": self.outcome["answered"], "reason": self.outcome["reason"],
                **override}

    def deliver(self, sent: dict, params: dict, *, url: str | None = None) -> requests.Response:
        """GET the callback URL as called.in does; recorded in ``callbacks``."""
        target = url or sent["callback_url"]
        joiner = "&" if urlsplit(target).query else "?"
        response = requests.get(f"{target}{joiner}{urlencode(params)}", timeout=5)
        self.callbacks.append((params, response.status_code, response.json()))
        return response

    def _call_back(self, sent: dict) -> None:
        time.sleep(self.callback_delay)
        self.deliver(sent, self.callback_params(sent))
