"""Redaction: credentials by name in structured text, long values in free text; every
credential, the c2c-php uid too. Against the c2c-php fake, through the worker."""

from __future__ import annotations

import json

from tests.fakes.c2c_php import C2CPhpFake
from widget_server.providers.redaction import REDACTED, Redactor


def c2c_call(live, fake, phone="+12025550123", **kwargs) -> tuple[dict, list[dict]]:
    token = live.provider_widget(kind="c2c-php", base_url=fake.url,
                                 credentials={"uid": fake.uid, "pin": fake.pin},
                                 options={"holdfile": "17"}, owner_kind="operator", **kwargs)
    shown = live.place_call(token, phone)
    return shown, live.exchanges(shown["call_id"])


def test_a_one_letter_pin_garbles_no_url_or_answer(live):
    with C2CPhpFake(pin="p") as fake:
        shown, exchanges = c2c_call(live, fake)
    assert shown["status"] == "completed"
    place, *reports = exchanges
    assert place["url"] == fake.url + "/api/voice/click2call.php"
    assert reports[-1]["url"] == fake.url + "/api/voice/report-click2call.php"
    assert place["form"]["pin"] == REDACTED and place["form"]["holdfile"] == "17"
    assert place["answer"] == fake.dials[0].call_id


def test_a_short_numeric_pin_cannot_be_read_off_masked_digits(live):
    with C2CPhpFake(pin="12") as fake:
        shown, exchanges = c2c_call(live, fake)
    assert shown["status"] == "completed"
    stored = json.dumps(exchanges)
    assert "[redacted]0" not in stored and "5[redacted]" not in stored
    assert exchanges[0]["form"]["number1"] == "12025550100"
    assert exchanges[-1]["answer"].rstrip().endswith(",23,45,12")
    assert all(e["form"]["pin"] == REDACTED for e in exchanges)


def test_the_uid_is_redacted_in_forms_and_answers_like_the_pin(live):
    with C2CPhpFake(uid="reseller-4242") as fake:
        fake.place_script.append(("body", "Error,UID reseller-4242 has no API access"))
        shown, exchanges = c2c_call(live, fake)
    assert shown["status"] == "rejected"
    assert exchanges[0]["form"]["uid"] == REDACTED
    assert exchanges[0]["answer"] == "Error,UID [redacted] has no API access"
    events = json.dumps([e.detail for e in live.events(shown["call_id"])])
    assert "reseller-4242" not in events and "reseller-4242" not in json.dumps(shown)


def test_names_find_credentials_in_queries_json_and_headers_whatever_their_length():
    redactor = Redactor(["uid", "code"], ["u7", "a-long-credential"])
    assert redactor.url("https://pbx.example/u7/p?code=u7&page=1&token=x") == (
        "https://pbx.example/u7/p?code=[redacted]&page=1&token=[redacted]")
    assert json.loads(redactor.answer('{"request": {"code": "u7", "to": "u7"}, "ok": 1}')) == {
        "request": {"code": REDACTED, "to": "u7"}, "ok": 1}
    assert redactor.value({"Authorization": "Bearer x", "Accept": "text/plain"}) == {
        "Authorization": REDACTED, "Accept": "text/plain"}
    assert redactor.text("echo a-long-credential, a-long-credential") == (
        f"echo {REDACTED}, {REDACTED}")
