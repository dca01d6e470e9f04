"""Log lines carry the request id from the POST into the worker, and no secret."""

from __future__ import annotations

import json
import logging

import requests
from sqlalchemy import select

from tests.fakes.c2c_php import C2CPhpFake
from tests.providers.conftest import PAGE_ORIGIN
from widget_server.calls.service import widget_for_token
from widget_server.extensions import db
from widget_server.logging import JsonFormatter
from widget_server.models import CallRequest
from widget_server.security import tokens


def post_with_request_id(live, token: str, request_id: str | None) -> requests.Response:
    with live.app.app_context():
        nonce = tokens.form_nonce(widget_for_token(token))
        db.session.remove()
    headers = {"Origin": live.url} | ({"X-Request-ID": request_id} if request_id else {})
    return requests.post(f"{live.url}/embed/v1/calls", timeout=10, headers=headers,
                         json={"token": token, "nonce": nonce, "phone": "+12025550123",
                               "captcha": live.solve_captcha(), "consent": True,
                               "page_origin": PAGE_ORIGIN})


def c2c_token(live, fake) -> str:
    return live.provider_widget(kind="c2c-php", base_url=fake.url,
                                credentials={"uid": fake.uid, "pin": fake.pin},
                                options={"holdfile": "17"})


def test_the_workers_lines_about_a_call_carry_the_request_id_of_its_post(live, caplog):
    caplog.set_level(logging.INFO)
    with C2CPhpFake() as fake:
        response = post_with_request_id(live, c2c_token(live, fake), "edge-7f3a91c2-0001")
        shown = live.follow(response.json())
    public_id = shown["call_id"]
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records
             if r.name == "widget_server" and public_id in r.getMessage()]
    worker_lines = [line for line in lines if line["message"].endswith(": completed")]

    assert response.headers["X-Request-ID"] == "edge-7f3a91c2-0001"
    assert shown["status"] == "completed"
    assert worker_lines and all(line["request_id"] == "edge-7f3a91c2-0001"
                                for line in lines)
    assert worker_lines[0]["call"] == public_id and worker_lines[0]["status"] == "completed"
    with live.app.app_context():
        stored = db.session.scalar(select(CallRequest.request_id).where(
            CallRequest.public_id == public_id))
    assert stored == "edge-7f3a91c2-0001"


def test_a_malformed_request_id_is_replaced_by_one_of_ours(live):
    with C2CPhpFake() as fake:
        token = c2c_token(live, fake)
        forged = post_with_request_id(live, token, "bad id; with <spaces>")
        absent = post_with_request_id(live, token, None)

    for response in (forged, absent):
        assert response.status_code == 202
        assert len(response.headers["X-Request-ID"]) == 32
    assert forged.headers["X-Request-ID"] != absent.headers["X-Request-ID"]


def test_no_log_line_of_a_call_carries_the_providers_pin(live, caplog):
    caplog.set_level(logging.DEBUG)
    with C2CPhpFake() as fake:
        fake.place_script.append(("body", f"Error,PIN {fake.pin} has no API access"))
        token = c2c_token(live, fake)
        refused = live.place_call(token, "+12025550135")
        completed = live.place_call(token, "+12025550136")
        pin = fake.pin

    assert refused["status"] == "rejected" and completed["status"] == "completed"
    text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert refused["call_id"] in text and completed["call_id"] in text
    assert pin not in text and "pin-9f3Kx" not in text
