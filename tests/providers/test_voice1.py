"""voice1 through the whole widget flow, against a loopback fake of seed 001."""

import json
import socket

import pytest
import requests

from tests.fakes.http import FakeHttpServer
from tests.fakes.voice1 import FakeVoice1
from tests.providers.conftest import RecordingReport, adapter, order
from widget_server.providers.base import OptionsInvalid, ProviderError
from widget_server.providers.voice1 import lenient_json

API_KEY = "v1-Key+with/odd=chars-8c41f0"
CREDENTIALS = {"api_key": API_KEY}
# What the visitor reads (calls/status.py) for each of voice1's outcomes.
PBX_ACCEPTED = ("The business's phone system is calling: it rings the business first, then "
                "your phone. We cannot see whether the call is answered.")
PBX_ERROR = ("The business's phone system could not place the call. Please try again later "
             "or contact the business another way.")
OUTCOME_UNKNOWN = ("Your call was handed to the business's phone system. We cannot see how it "
                   "went; if your phone did not ring, please try again later.")
MISCONFIGURED = "This site cannot place calls right now."


@pytest.fixture
def fake():
    with FakeVoice1(API_KEY) as server:
        yield server


def widget(live, fake, *, widget_options=None, owner_kind="client", **options):
    return live.provider_widget(kind="voice1", base_url=fake.url, credentials=CREDENTIALS,
                                options=options, widget_options=widget_options,
                                owner_kind=owner_kind)


def test_accepted_call_rings_then_ends_with_an_honest_unknown_outcome(live, fake):
    fake.pending_polls = 1
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"]) == ("completed", "outcome_unknown_pbx_accepted")
    assert shown["message"] == OUTCOME_UNKNOWN
    steps = [(e["status"], e["reason"]) for e in shown["events"]]
    assert ("ringing", "pbx_accepted") in steps
    assert steps[-1] == ("completed", "outcome_unknown_pbx_accepted")
    assert len(fake.dials) == 1
    assert len(fake.status_fetches) == 2, "polled until the PBX's response was logged"
    assert fake.violations == []


def test_while_the_pbx_works_the_visitor_is_told_it_rings_but_not_that_anyone_answered(
        live, fake):
    fake.pending_polls = 10_000
    accepted = live.request_call(widget(live, fake)).json()
    shown = live.follow(accepted, until=("ringing",))
    assert (shown["status"], shown["reason"], shown["message"]) == (
        "ringing", "pbx_accepted", PBX_ACCEPTED)


def test_status_log_is_kept_as_the_provider_report_with_its_times(live, fake):
    shown = live.place_call(widget(live, fake, owner_kind="operator"))
    call = live.call(shown["call_id"])
    request_id = fake.status_fetches[0].path.rsplit("/", 1)[1]
    assert call.provider_call_id == request_id
    report = call.provider_report
    assert set(report) == {"request", "pbx_request", "response"}
    assert all(report[name]["utc.time"].isdigit() for name in report)
    assert report["request"]["request_data"]["dial_second"] == "12025550123"
    assert report["response"]["response_data"] == fake.pbx_response


def test_a_tenants_account_reads_the_status_log_but_keeps_none_of_its_text(live, fake):
    """Its base URL is the tenant's to aim: what a status log there says is not kept."""
    fake.pbx_response = {"Response": "Success", "Message": "ami-0abc internal AKIA-INSIDE"}
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"]) == ("completed", "outcome_unknown_pbx_accepted")
    assert fake.status_fetches, "the log was read to settle the call"
    call = live.call(shown["call_id"])
    assert not call.provider_report
    stored = json.dumps([e.detail for e in live.events(shown["call_id"])])
    assert "AKIA-INSIDE" not in stored


def test_request_is_exactly_as_documented_with_the_business_first(fake):
    provider = adapter("voice1", fake.url, CREDENTIALS)
    provider.place_call(order(provider), RecordingReport())
    sent = fake.dials[0]
    assert (sent.method, sent.path) == ("GET", "/c2c/v2")
    assert sent.body == b""
    assert (sent.headers["Content-Type"], sent.headers["Accept"]) == (
        "application/json", "application/json")
    assert sent.query == {"api_key": API_KEY, "dial_first": "12025550100",
                          "dial_second": "12025550123", "pbx": "asterisk"}


def test_options_send_pbx_timeout_and_the_documents_dail_as_spelling():
    with FakeVoice1(API_KEY, number_format="plus") as fake:
        provider = adapter("voice1", fake.url, CREDENTIALS, {
            "pbx": "switchvox", "timeout": "25", "dial_as": "201", "number_format": "plus"})
        provider.place_call(order(provider), RecordingReport())
    assert fake.violations == []
    assert fake.dials[0].query == {"api_key": API_KEY, "dial_first": "+12025550100",
                                   "dial_second": "+12025550123", "pbx": "switchvox",
                                   "timeout": "25", "dail_as": "201"}


def test_widget_options_overlay_the_provider_accounts(live, fake):
    live.place_call(widget(live, fake, pbx="switchvox", widget_options={"pbx": "other"}))
    assert fake.dials[0].query["pbx"] == "other"


@pytest.mark.parametrize("options", [{"pbx": "freeswitch"}, {"timeout": "ten"},
                                     {"timeout": "0"}, {"number_format": "national"}])
def test_an_option_voice1_would_not_understand_is_refused_before_any_request(fake, options):
    with pytest.raises(OptionsInvalid) as refused:
        adapter("voice1", fake.url, CREDENTIALS, options)
    assert refused.value.reason == "provider_options_invalid"
    assert fake.server.requests == []


def test_stored_options_voice1_would_not_understand_fail_the_call_untried(live, fake):
    shown = live.place_call(widget(live, fake, timeout="ten"))
    assert (shown["status"], shown["reason"], shown["message"]) == (
        "failed", "provider_options_invalid", MISCONFIGURED)
    assert fake.server.requests == []


def test_pbx_error_in_the_documents_invalid_json_shape_rejects_the_call(live, fake):
    fake.outcome = "fail"
    fake.pbx_message = 'Dial plan: no route for "12025550123", try 9,]'
    shown = live.place_call(widget(live, fake, owner_kind="operator"))
    assert (shown["status"], shown["reason"], shown["message"]) == (
        "rejected", "pbx_error", PBX_ERROR)
    assert len(fake.dials) == 1, "a refused call is not placed again"
    report = live.call(shown["call_id"]).provider_report
    assert report["errors"][0]["message"] == fake.pbx_message
    assert {"request", "pbx_request", "response"} <= set(report), "the error's log was fetched"


def test_an_error_url_on_another_host_is_not_followed(live, fake):
    with FakeHttpServer(lambda request: (200, {}, "{}")) as elsewhere:
        fake.outcome = "fail"
        fake.error_url = f"{elsewhere.url}/c2c/v2/status/stolen"
        shown = live.place_call(widget(live, fake))
    assert shown["status"] == "rejected"
    assert elsewhere.requests == []
    assert len(fake.status_fetches) == 1, "the log came from the configured base URL"


def test_wrong_api_key_comes_back_as_a_pbx_error_and_rejects_the_call(live, fake):
    token = live.provider_widget(kind="voice1", base_url=fake.url,
                                 credentials={"api_key": "not-the-key"})
    shown = live.place_call(token)
    assert (shown["status"], shown["reason"]) == ("rejected", "pbx_error")
    assert fake.violations == ["invalid api_key"]


def test_a_logged_pbx_error_after_success_fails_the_call(live, fake):
    fake.pbx_response = {"Response": "Error", "Message": "Originate failed"}
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"], shown["message"]) == (
        "failed", "pbx_error", PBX_ERROR)


def test_success_without_a_request_id_is_not_polled_and_ends_unknown(live, fake):
    fake.outcome = "no_request_id"
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"]) == ("completed", "outcome_unknown_pbx_accepted")
    assert fake.status_fetches == []


@pytest.mark.parametrize("outcome, reason", [
    ("http_500", "provider_server_error"),
    ("malformed", "provider_answer_unexpected"),
    ("unknown_status", "provider_answer_unexpected"),
    ("huge", "provider_answer_too_large"),
    ("non_utf8", "provider_answer_not_utf8"),
])
def test_bad_answers_fail_the_call_and_are_never_retried(fake, outcome, reason):
    fake.outcome = outcome
    provider = adapter("voice1", fake.url, CREDENTIALS)
    with pytest.raises(ProviderError) as raised:
        provider.place_call(order(provider), RecordingReport())
    assert (raised.value.reason, raised.value.final_state, raised.value.retry_safe) == (
        reason, "failed", False)
    assert len(fake.dials) == 1


def test_after_a_bad_answer_the_call_fails_once_and_the_worker_goes_on(live, fake):
    fake.outcome = "malformed"
    token = widget(live, fake)
    shown = live.place_call(token)
    assert (shown["status"], shown["reason"]) == ("failed", "provider_answer_unexpected")
    assert len(fake.dials) == 1, "a request that reached voice1 is never sent again"
    fake.outcome = "success"
    assert live.place_call(token, "+12025550124")["status"] == "completed"


def test_an_unreachable_voice1_is_retried_because_nothing_was_sent(live):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    token = live.provider_widget(kind="voice1", base_url=closed, credentials=CREDENTIALS)
    shown = live.place_call(token)
    assert (shown["status"], shown["reason"]) == ("failed", "provider_unreachable")
    assert [e["reason"] for e in shown["events"]].count("retrying") == 2


def test_no_credential_appears_in_events_reports_answers_or_the_frame(live, fake):
    fake.outcome = "fail"
    fake.pbx_message = f"bad key {API_KEY}"
    token = widget(live, fake)
    accepted = live.request_call(token).json()
    shown = live.follow(accepted)
    assert shown["status"] == "rejected"
    assert any(API_KEY in r.path or API_KEY in r.body.decode() or API_KEY in str(r.query)
               for r in fake.server.requests), "the fake echoed the key: the check is real"
    events = live.events(shown["call_id"])
    assert len(live.exchanges(shown["call_id"])) == 2
    call = live.call(shown["call_id"])
    frame = requests.get(f"{live.url}/embed/v1/frame/{token}", timeout=5).text
    for text in (json.dumps([e.detail for e in events]), json.dumps(call.provider_report),
                 json.dumps(shown), frame):
        for form in (API_KEY, requests.utils.quote(API_KEY, safe="")):
            assert form not in text


def test_check_says_plainly_that_voice1_cannot_validate_a_key_without_a_call(fake):
    result = adapter("voice1", fake.url, CREDENTIALS).check(Collected())
    assert not result.checked
    assert "no way to check an API key without placing a call" in result.sentence
    assert fake.server.requests == []


def test_check_with_numbers_places_a_test_call_and_says_what_it_proves(fake):
    seen = Collected()
    result = adapter("voice1", fake.url, CREDENTIALS).check(
        seen, test_from="+12025550100", test_to="+12025550123")
    assert result.checked and "not that the phones rang" in result.sentence
    assert fake.dials[0].query["dial_first"] == "12025550100"
    assert seen.steps[-1] == ("ringing", "pbx_accepted")


def test_lenient_reader_takes_the_documents_slips_and_nothing_else():
    assert lenient_json('{"errors": ["error": {"message": "a,]", "url": "u"},],}') == {
        "errors": [{"error": {"message": "a,]", "url": "u"}}]}
    assert lenient_json('{"c2c_status": {"request": {},},', unclosed=True) == {
        "c2c_status": {"request": {}}}
    for bad in ('{"a": 1', '{"a" 1}', "[" * 5000, "<html>", '{"a": 1} x', '{"a": 1,,}'):
        with pytest.raises(ValueError):
            lenient_json(bad)


class Collected:
    """A CallReport that keeps what an adapter reports, for calls outside the app."""

    def __init__(self):
        self.steps, self.evidence = [], []

    def progress(self, status, reason=None, **detail):
        self.steps.append((status, reason))

    def exchange(self, **evidence):
        self.evidence.append(evidence)

    def provider_call_id(self, value):
        pass

    def provider_report(self, **figures):
        pass
