"""Voicenter (seed 003) through the whole widget flow, against a loopback Voicenter.

Live tests go the visitor's way (frame nonce, captcha, POST, queue, adapter,
the status the frame polls) on SQLite and PostgreSQL. The actions the widget
does not use itself (message, callference, terminate) and the many shapes of
a broken answer are driven on the adapter directly, against the same fake.
"""

from __future__ import annotations

import json
import logging

import pytest
import requests

from tests.fakes.voicenter import CODE, VoicenterFake, xml_answer
from tests.providers.conftest import FAKE_SESSION, PAGE_ORIGIN
from widget_server.calls.status import reason_sentence
from widget_server.providers.base import CallOrder, CallRejected, MalformedAnswer, ProviderError
from widget_server.providers.voicenter import ERRORS, PATH, VoicenterProvider

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def voicenter_server():
    with VoicenterFake() as fake:
        yield fake


@pytest.fixture
def voicenter(voicenter_server):
    """The module's loopback Voicenter, reset (stopping a server takes half a second)."""
    voicenter_server.reset()
    yield voicenter_server
    voicenter_server.reset()


def widget(live, fake, *, code: str = CODE, **settings) -> str:
    return live.provider_widget(kind="voicenter", base_url=fake.url,
                                credentials={"code": code}, **settings)


def steps(shown: dict) -> list[str]:
    return [event["status"] for event in shown["events"]]


# --- the call, end to end ---------------------------------------------------------------


def test_an_accepted_call_is_on_its_way_and_ends_with_an_honestly_unknown_outcome(
        live, voicenter):
    shown = live.place_call(widget(live, voicenter))
    assert shown["status"] == "completed"
    assert shown["reason"] == "outcome_unknown"
    assert shown["message"] == "The call was placed; we cannot see how it ended."
    assert ("ringing", "provider_accepted") in [(e["status"], e["reason"])
                                                for e in shown["events"]]
    assert steps(shown)[-3:] == ["dialing", "ringing", "completed"]
    assert live.call(shown["call_id"]).provider_call_id == voicenter.call_ids[0]
    assert len(voicenter.call_ids[0]) == 32


def test_the_request_is_a_form_post_ringing_the_business_first_and_the_visitor_second(
        live, voicenter):
    live.place_call(widget(live, voicenter, numbers=("+442071838750",)), "+12025550123")
    [sent] = voicenter.requests
    assert (sent.method, sent.path, sent.query) == ("POST", PATH, {})
    assert sent.headers["Content-Type"] == FORM
    # E.164 without the plus; the documented defaults (60 s, 7200 s, no record) left to it.
    assert sent.form == {"code": CODE, "action": "call", "phone": "442071838750",
                         "target": "12025550123", "format": "JSON"}


def test_account_and_widget_options_are_sent_by_voicenter_names_in_seconds(live, voicenter):
    token = widget(live, voicenter, options={
        "phonemaxdialtime": 45, "targetmaxdialtime": "30", "maxduration": 600,
        "record": True, "language": "HE", "phonecallerid": "+972501234567",
        "phonecallername": "Website lead", "targetcallerid": "035551234",
        "targetcallername": "Shop", "var_source": "widget", "format": "XML",
    }, widget_options={"maxduration": "300", "var_page": "contact"})
    shown = live.place_call(token)
    assert shown["status"] == "completed"
    assert voicenter.requests[0].form == {
        "code": CODE, "action": "call", "phone": "12025550100", "target": "12025550123",
        "phonecallerid": "972501234567", "phonecallername": "Website lead",
        "targetcallerid": "035551234", "targetcallername": "Shop",
        "phonemaxdialtime": "45", "targetmaxdialtime": "30", "maxduration": "300",
        "record": "true", "language": "he", "format": "XML",
        "var_page": "contact", "var_source": "widget",
    }
    # The XML-RPC answer's CALLID (a <string>) is the one kept.
    assert voicenter.requests and live.call(shown["call_id"]).provider_call_id == \
        voicenter.call_ids[0]


def test_an_errorcode_ends_the_call_with_its_reason_and_sentence_without_a_retry(
        live, voicenter):
    voicenter.next_code = 3
    shown = live.place_call(widget(live, voicenter, options={"format": "XML"}))
    assert (shown["status"], shown["reason"], shown["message"]) == (
        "rejected", "business_offline", reason_sentence("business_offline"))
    assert len(voicenter.requests) == 1
    assert "queued" not in steps(shown)[1:]
    assert live.call(shown["call_id"]).provider_call_id is None


def test_the_documents_own_xml_error_answer_rejects_the_call_as_an_invalid_request(
        live, voicenter):
    voicenter.raw = xml_answer(ERRORCODE="1", ERRORMESSAGE="Phone is missing", CALLID="")
    shown = live.place_call(widget(live, voicenter))
    assert (shown["status"], shown["reason"]) == ("rejected", "provider_invalid_request")


def test_an_answer_voicenter_never_documents_fails_the_call_and_the_worker_goes_on(
        live, voicenter):
    token = widget(live, voicenter)
    voicenter.raw = '{"ERRORCODE": 9, "ERRORMESSAGE": "What?", "CALLID": ""}'
    shown = live.place_call(token, "+12025550123")
    assert (shown["status"], shown["reason"]) == ("failed", "provider_answer_unexpected")
    voicenter.raw = None
    assert live.place_call(token, "+12025550124")["status"] == "completed"


# --- transport failures: never dial twice ------------------------------------------------


def test_a_server_error_fails_the_call_and_is_never_sent_again(live, voicenter):
    voicenter.fault = "5xx"
    shown = live.place_call(widget(live, voicenter))
    assert (shown["status"], shown["reason"]) == ("failed", "provider_server_error")
    assert len(voicenter.requests) == 1
    assert "retrying" not in [event["reason"] for event in shown["events"]]


# --- credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", [CODE, "wrong+Code/42&x"])
def test_the_code_appears_in_no_event_response_page_or_log(live, voicenter, caplog, code):
    caplog.set_level(logging.DEBUG)
    token = widget(live, voicenter, code=code, owner_kind="operator")
    accepted = live.request_call(token)
    shown = live.follow(accepted.json())
    # A wrong code: the fake's sentence echoes it, and the answer is still redacted.
    assert shown["status"] == ("completed" if code == CODE else "rejected")
    [exchange] = live.exchanges(shown["call_id"])
    assert exchange["form"]["code"] == "[redacted]"
    if code != CODE:
        assert "[redacted]" in exchange["answer"]
    frame = requests.get(f"{live.url}/embed/v1/frame/{token}", params={"origin": PAGE_ORIGIN},
                         timeout=5)
    assert frame.status_code == 200
    stored = json.dumps([event.detail for event in live.events(shown["call_id"])])
    for seen in (stored, accepted.text, json.dumps(shown), frame.text, caplog.text):
        assert code not in seen
        assert requests.utils.quote(code, safe="") not in seen


# --- options -------------------------------------------------------------------------------


def custom_fields(count: int, start: int = 0) -> dict:
    return {f"var_field{n}": str(n) for n in range(start, start + count)}


def test_ten_custom_fields_are_accepted_and_an_eleventh_is_refused_with_a_sentence():
    assert VoicenterProvider.parse_options(custom_fields(10))[1] == {}
    assert VoicenterProvider.parse_options(custom_fields(11))[1] == {
        "var_": "At most 10 var_* custom fields are taken; 11 are set."}


@pytest.mark.parametrize("options,problem", [
    ({"phonemaxdialtime": "1 minute"}, "phonemaxdialtime must be a whole number of seconds"),
    ({"maxduration": 0}, "maxduration must be a whole number of seconds"),
    ({"record": "maybe"}, "record must be true or false"),
    ({"language": "hebrew"}, "language must be a two- or three-letter code"),
    ({"format": "CSV"}, "format must be one of JSON, XML"),
    ({"targetcallerid": "shop"}, "targetcallerid must be digits"),
    ({"var_bad-name": "x"}, "var_bad-name is not a valid custom field name"),
])
def test_an_option_value_voicenter_would_not_take_is_refused_when_it_is_saved(
        options, problem):
    errors = VoicenterProvider.parse_options(options)[1]
    assert list(errors) == list(options) and errors[next(iter(options))].startswith(problem)


def test_widget_and_account_custom_fields_together_beyond_ten_fail_before_anything_is_sent(
        live, voicenter):
    token = widget(live, voicenter, options=custom_fields(6),
                   widget_options=custom_fields(5, start=6))
    shown = live.place_call(token)
    assert (shown["status"], shown["reason"]) == ("failed", "provider_options_invalid")
    assert voicenter.requests == []


# --- the adapter's other actions, and every answer shape, on the adapter directly ---------


class Notes:
    """What an adapter reported about work outside the widget flow (a CallReport)."""

    def __init__(self):
        self.steps: list[tuple[str, str | None]] = []
        self.exchanges: list[dict] = []
        self.call_ids: list[str] = []

    def progress(self, status, reason=None, **detail):
        self.steps.append((status, reason))

    def exchange(self, **evidence):
        self.exchanges.append(evidence)

    def provider_call_id(self, value):
        self.call_ids.append(value)

    def provider_report(self, **figures):
        pass


def adapter(fake: VoicenterFake, **options) -> VoicenterProvider:
    return VoicenterProvider(base_url=fake.url, credentials={"code": CODE}, options=options,
                             session=FAKE_SESSION)


def test_a_message_rings_a_number_and_plays_the_named_recordings_and_digits(voicenter):
    notes = Notes()
    call_id = adapter(voicenter).play_message(
        "+972501234567", notes, pre_rec="welcome", dtmf="4521", loop_rec="number",
        post_rec="goodbye", phonemaxdialtime=20, maxduration=30)
    assert call_id == voicenter.call_ids[0] == notes.call_ids[0]
    assert voicenter.requests[0].form == {
        "code": CODE, "action": "message", "phone": "972501234567", "pre_rec": "welcome",
        "dtmf": "4521", "loop_rec": "number", "post_rec": "goodbye",
        "phonemaxdialtime": "20", "maxduration": "30", "format": "JSON"}


@pytest.mark.parametrize("options", [{"pre_rec": "welcome.wav"}, {"dtmf": "12#"},
                                     {"language": "he"}])
def test_a_message_with_a_recording_file_name_or_foreign_option_is_not_sent(voicenter,
                                                                            options):
    with pytest.raises(ProviderError) as refused:
        adapter(voicenter).play_message("972501234567", Notes(), **options)
    assert refused.value.reason == "provider_options_invalid"
    assert voicenter.requests == []


def test_a_callference_rings_a_number_into_the_conference_with_its_entry_code(voicenter):
    notes = Notes()
    call_id = adapter(voicenter, format="XML").callference("035551234", notes, bbbcode="7788",
                                                           phoneautoanswer=False)
    assert call_id == voicenter.call_ids[0]
    assert voicenter.requests[0].form == {
        "code": CODE, "action": "callference", "phone": "035551234", "bbbcode": "7788",
        "phoneautoanswer": "false", "format": "XML"}


def test_cancelling_terminates_the_business_extension_not_the_call_id(voicenter):
    notes = Notes()
    order_id = adapter(voicenter).play_message("972501234567", Notes())
    provider = adapter(voicenter, extension="201")
    provider.cancel(_order(), order_id, notes)
    assert voicenter.terminated == ["201"]
    assert voicenter.requests[-1].form == {"code": CODE, "action": "terminate",
                                           "phone": "201", "format": "JSON"}
    assert notes.steps == [("completed", "cancelled")]


def test_cancelling_without_the_extension_option_says_so_and_sends_nothing(voicenter):
    with pytest.raises(ProviderError, match="set the extension option"):
        adapter(voicenter).cancel(_order(), "abc", Notes())
    assert voicenter.requests == []


def test_a_terminate_voicenter_refuses_raises_its_reason(voicenter):
    voicenter.next_code = 3
    with pytest.raises(CallRejected) as refused:
        adapter(voicenter).terminate("201", Notes())
    assert refused.value.reason == "business_offline"


def _order():
    return CallOrder(call_id="c1", business_number="+12025550100",
                     visitor_number="+12025550123")


@pytest.mark.parametrize("answer_format", ["JSON", "XML"])
@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_errorcode_in_either_format_maps_to_its_error(voicenter, code, answer_format):
    voicenter.next_code = code
    outcome = ERRORS[code]
    with pytest.raises(outcome.error) as raised:
        adapter(voicenter, format=answer_format).place_call(_order(), Notes())
    assert (type(raised.value), raised.value.reason, raised.value.final_state) == (
        outcome.error, outcome.reason, outcome.state)
    assert raised.value.retry_safe is False


@pytest.mark.parametrize("body,call_id", [
    # The document's JSON example: an integer code and a 31-character CALLID.
    ('{"ERRORCODE":0,"ERRORMESSAGE":"OK","CALLID":"sdfsdfsdfsdfsdfsdfsdfsdfsdf0brp"}',
     "sdfsdfsdfsdfsdfsdfsdfsdfsdf0brp"),
    ('\ufeff{"ERRORCODE":"0","CALLID":"a1b2"}', "a1b2"),
    ("<?xml version='1.0'?>\n" + xml_answer(ERRORCODE="0", ERRORMESSAGE="OK",
                                            CALLID="x" * 32), "x" * 32),
    (("<methodResponse><params><param><value><struct><member><name>ERRORCODE</name>"
      "<value><int>0</int></value></member><member><name>CALLID</name><value>c-9</value>"
      "</member></struct></value></param></params></methodResponse>"), "c-9"),
])
def test_every_documented_success_shape_is_read_and_its_callid_kept(voicenter, body,
                                                                    call_id):
    voicenter.raw = body
    notes = Notes()
    adapter(voicenter).place_call(_order(), notes)
    assert notes.call_ids == [call_id]
    assert notes.steps == [("ringing", "provider_accepted"), ("completed", "outcome_unknown")]


@pytest.mark.parametrize("body", [
    "Server Error",
    "",
    "[0]",
    '{"ERRORCODE": true, "CALLID": "abc"}',
    '{"ERRORCODE": -1, "CALLID": "abc"}',
    '{"ERRORCODE": 0, "ERRORMESSAGE": "OK", "CALLID": ""}',
    '{"ERRORCODE": 0, "ERRORMESSAGE": "OK", "CALLID": "<script>"}',
    '{"ERRORCODE": 0, "ERRORMESSAGE": "OK", "CALLID": "' + "a" * 65 + '"}',
    '{"ERRORCODE": 0, "CALLID": {"id": 1}}',
    '{"ERRORCODE": 0, "CALLID": "abc"',
    xml_answer(ERRORCODE="zero", CALLID="abc"),
    xml_answer(ERRORCODE="0", CALLID="abc")[:60],
    # Entities expand to a well-formed CALLID: only refusing the DTD refuses this.
    ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
     '"&lol;&lol;&lol;">]>') + xml_answer(ERRORCODE="0", CALLID="@").replace("@", "&lol2;"),
    ("<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4"
     "</int></value></member></struct></value></fault></methodResponse>"),
    ("<methodResponse><params><param><value><struct><member><name>ERRORCODE</name><value>"
     "<string>0</string></value></member><member><name>ERRORCODE</name><value><string>1"
     "</string></value></member></struct></value></param></params></methodResponse>"),
    ("<methodResponse><params><param><value><struct><member><name>ERRORCODE</name><value>"
     "<array/></value></member></struct></value></param></params></methodResponse>"),
])
def test_an_undocumented_answer_is_refused_as_malformed(voicenter, body):
    voicenter.raw = body
    notes = Notes()
    with pytest.raises(MalformedAnswer) as refused:
        adapter(voicenter).place_call(_order(), notes)
    assert refused.value.reason == "provider_answer_unexpected"
    assert notes.call_ids == [] and notes.steps == []
