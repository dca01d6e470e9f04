"""A loopback DialogTech: ``GET /ibp_api.php?action=clickto.call`` as seed 004 documents it.

It checks the parameters the document lists (names, the two keys, ``type``
1 or 2, unformatted digits, ``page`` at most 255 and ``ref`` at most 32
characters), holds the answer while the first leg "rings", then answers
``Call Connected`` or ``No Answer`` in plain text. ``mode`` makes it
misbehave: ``"500"``, ``"garbage"``, ``"huge"``, ``"latin1"``.
"""

from __future__ import annotations

import time

from tests.fakes.http import FakeHttpServer, Request

ACCESS_KEY = "ak-1f2e3d"
SECRET_ACCESS_KEY = "sak-9c8b7a6f5e"


class FakeDialogTech(FakeHttpServer):
    def __init__(self):
        super().__init__(self.answer)
        self.first_leg_seconds = 0.0
        self.first_leg_answers = True
        self.mode = ""
        self.dials: list[dict] = []

    def problem(self, params: dict) -> str | None:
        """What is wrong with a request, in the provider's terms; None when it is valid."""
        if params.get("action") != "clickto.call":
            return "Invalid action"
        if (params.get("access_key"), params.get("secret_access_key")) != (
                ACCESS_KEY, SECRET_ACCESS_KEY):
            return "Invalid access key"
        if params.get("type") not in ("1", "2"):
            return "Invalid type"
        for name in ("id", "phone_to_call", "first_callerid", "second_callerid"):
            if name in params and not params[name].isdigit():
                return f"Invalid {name}"
        if not params.get("id") or not params.get("phone_to_call"):
            return "Missing number"
        if len(params.get("page", "")) > 255 or len(params.get("ref", "")) > 32:
            return "Parameter too long"
        return None

    def answer(self, request: Request):
        if request.method != "GET" or request.path != "/ibp_api.php":
            return 404, {}, "Not Found"
        if self.mode == "500":
            return 500, {}, "Internal Server Error"
        problem = self.problem(request.query)
        if problem:
            return 200, {"Content-Type": "text/plain"}, problem
        self.dials.append(request.query)
        time.sleep(self.first_leg_seconds)
        if self.mode == "garbage":
            return 200, {"Content-Type": "text/html"}, "<html>Service moved</html>"
        if self.mode == "huge":
            return 200, {"Content-Type": "text/plain"}, "Call Connected" + " " * 200_000
        if self.mode == "latin1":
            return 200, {"Content-Type": "text/plain"}, "Call Connect\xe9".encode("latin-1")
        text = "Call Connected" if self.first_leg_answers else "No Answer"
        return 200, {"Content-Type": "text/plain"}, text
