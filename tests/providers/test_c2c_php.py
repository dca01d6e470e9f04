"""The white-label click2call.php provider (seed 000) through the whole widget flow."""

from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from tests.fakes.c2c_php import C2CPhpFake
from tests.providers.conftest import PAGE_ORIGIN, RecordingReport, adapter, order
from widget_server.calls.status import reason_sentence
from widget_server.cli import main
from widget_server.extensions import db
from widget_server.models import Account, ProviderAccount
from widget_server.providers.base import MalformedAnswer, OptionsInvalid
from widget_server.providers.c2c_php import C2CPhpProvider

CANNOT_CALL = "This site cannot place calls right now."
SOMETHING_WRONG = "Something went wrong placing the call. Please try again later."


@pytest.fixture
def fake():
    with C2CPhpFake() as server:
        yield server


def c2c_widget(live, fake, *, credentials=None, options=None, **fields):
    return live.provider_widget(
        kind="c2c-php", base_url=fields.pop("base_url", fake.url),
        credentials=credentials or {"uid": fake.uid, "pin": fake.pin},
        options={"holdfile": "17"} if options is None else options, **fields)


def test_a_call_rings_the_business_then_the_visitor_and_completes_with_the_report(live, fake):
    shown = live.place_call(c2c_widget(live, fake), "+12025550123")

    assert shown["status"] == "completed"
    assert shown["message"] == "The call has ended. Thank you!"
    [sent] = fake.place_requests
    assert sent.method == "POST"
    assert sent.query == {}
    assert sent.form == {"uid": "reseller42", "pin": fake.pin, "number1": "12025550100",
                         "number2": "12025550123", "holdfile": "17", "duration": "600",
                         "uniqueid": shown["call_id"]}
    call = live.call(shown["call_id"])
    assert call.provider_call_id == fake.dials[0].call_id
    assert call.provider_report == {"business_seconds": 23, "visitor_seconds": 45,
                                    "credit": "12"}
    assert [r.form["uniqueid"] for r in fake.report_requests] == [shown["call_id"]] * 2
    assert [r.form["pin"] for r in fake.report_requests] == [fake.pin] * 2


@pytest.mark.parametrize("durations, reason, sentence", [
    ((0, 0, "0"), "business_not_reached",
     "The business could not take the call just now. Please try again later."),
    ((31, 0, "2.5"), "visitor_not_reached",
     ("We rang your phone but could not reach you (no answer, busy or unreachable). "
      "Please try again later.")),
])
def test_a_leg_with_zero_seconds_in_the_report_fails_the_call_with_its_reason(
        live, fake, durations, reason, sentence):
    fake.outcomes["12025550124"] = durations
    shown = live.place_call(c2c_widget(live, fake), "+12025550124")

    assert (shown["status"], shown["reason"], shown["message"]) == ("failed", reason, sentence)
    assert live.call(shown["call_id"]).provider_report == {
        "business_seconds": durations[0], "visitor_seconds": durations[1],
        "credit": durations[2]}


def test_widget_options_set_hold_file_duration_in_seconds_and_number_format_under_a_prefix(
        live):
    with C2CPhpFake(prefix="/reseller", sound_files=("17", "22"),
                    number_pattern=r"00[0-9]{8,15}") as fake:
        token = c2c_widget(live, fake, options={"holdfile": "17", "max_duration": "300"},
                           widget_options={"holdfile": "22", "max_duration": "90",
                                           "number_format": "00"})
        shown = live.place_call(token, "+12025550125")

    assert shown["status"] == "completed"
    [sent] = fake.place_requests
    assert sent.path == "/reseller/api/voice/click2call.php"
    assert (sent.form["number1"], sent.form["number2"]) == ("0012025550100", "0012025550125")
    assert (sent.form["holdfile"], sent.form["duration"]) == ("22", "90")


@pytest.mark.parametrize("change, answer", [
    ({"credentials": {"uid": "reseller42", "pin": "wrong-pin"}}, "Error,Invalid UID or PIN"),
    ({"options": {"holdfile": "99"}}, "Error,Invalid sound file"),
    ({"options": {"holdfile": "17", "number_format": "plus"}}, "Error,Invalid number1"),
])
def test_a_refusal_ends_the_call_rejected_untried_again_and_keeps_the_providers_words(
        live, fake, change, answer):
    shown = live.place_call(c2c_widget(live, fake, **change, owner_kind="operator"), "+12025550126")

    assert (shown["status"], shown["reason"], shown["message"]) == (
        "rejected", "provider_refused", CANNOT_CALL)
    assert len(fake.place_requests) == 1 and fake.dials == []
    assert live.exchanges(shown["call_id"])[-1]["answer"] == answer


def test_an_account_without_base_url_fails_without_any_request(live, fake):
    shown = live.place_call(c2c_widget(live, fake, base_url=""), "+12025550127")

    assert (shown["status"], shown["reason"], shown["message"]) == (
        "failed", "provider_not_configured", CANNOT_CALL)
    assert fake.server.requests == []


@pytest.mark.parametrize("options", [
    {}, {"holdfile": "17", "max_duration": "ten minutes"},
    {"holdfile": "17", "number_format": "e.123"}])
def test_options_saved_before_they_were_checked_are_refused_before_anything_is_sent(
        fake, options):
    with pytest.raises(OptionsInvalid) as refused:
        adapter("c2c-php", fake.url, {"uid": fake.uid, "pin": fake.pin}, options)
    assert refused.value.reason == "provider_options_invalid"
    assert reason_sentence(refused.value.reason) == CANNOT_CALL
    assert fake.server.requests == []


@pytest.mark.parametrize("step", [
    ("status", 404, "<html>Not Found</html>"),
    ("body", "<html><body>Please log in</body></html>"),
    ("body", ""),
])
def test_an_answer_that_is_not_this_api_is_malformed_and_not_retried(fake, step):
    fake.place_script.append(step)
    provider = adapter("c2c-php", fake.url, {"uid": fake.uid, "pin": fake.pin},
                       {"holdfile": "17"})
    with pytest.raises(MalformedAnswer) as raised:
        provider.place_call(order(provider), RecordingReport())
    assert (raised.value.reason, raised.value.retry_safe) == ("provider_answer_unexpected", False)
    assert len(fake.place_requests) == 1


def test_an_answer_that_is_not_this_api_fails_the_call_once_and_the_worker_goes_on(
        live, fake):
    fake.place_script.append(("body", "<html><body>Please log in</body></html>"))
    token = c2c_widget(live, fake)
    shown = live.place_call(token, "+12025550128")

    assert (shown["status"], shown["reason"], shown["message"]) == (
        "failed", "provider_answer_unexpected", SOMETHING_WRONG)
    assert len(fake.place_requests) == 1
    assert live.place_call(token, "+12025550129")["status"] == "completed"


def test_a_timed_out_request_is_retried_with_the_same_uniqueid_and_rings_the_business_once(
        live, fake, monkeypatch):
    monkeypatch.setattr(C2CPhpProvider, "timeouts", (1.0, 0.3))
    fake.place_script.append(("delay", 0.8))
    shown = live.place_call(c2c_widget(live, fake), "+12025550130")

    assert shown["status"] == "completed"
    assert [r.form["uniqueid"] for r in fake.place_requests] == [shown["call_id"]] * 2
    assert len(fake.dials) == 1
    assert [e["reason"] for e in shown["events"]].count("retrying") == 1


def test_a_dropped_connection_is_retried_without_a_second_dial(live, fake):
    fake.place_script.append(("drop",))
    shown = live.place_call(c2c_widget(live, fake), "+12025550131")

    assert shown["status"] == "completed"
    assert len(fake.place_requests) == 2 and len(fake.dials) == 1


def test_a_report_that_does_not_parse_is_asked_again_until_a_real_line_comes(live, fake):
    fake.report_after = 0
    fake.report_script += [("body", "Error,Database busy"), ("body", "someone-else,1,1,1")]
    shown = live.place_call(c2c_widget(live, fake), "+12025550132")

    assert shown["status"] == "completed"
    assert len(fake.report_requests) == 3
    assert live.call(shown["call_id"]).provider_report["visitor_seconds"] == 45


def test_repeated_server_errors_open_the_circuit_and_the_next_call_fails_at_once(live, fake):
    fake.place_script += [("status", 503, "Service Unavailable")] * 3
    token = c2c_widget(live, fake)
    first = live.place_call(token, "+12025550133")

    assert (first["status"], first["reason"]) == ("failed", "provider_server_error")
    assert len(fake.place_requests) == 3 and fake.dials == []

    second = live.place_call(token, "+12025550134", timeout=5)
    assert (second["status"], second["reason"]) == ("failed", "provider_unavailable")
    assert second["message"] == (
        "Calls cannot be placed right now. Please try again in a few minutes.")
    assert len(fake.place_requests) == 3


def test_no_pin_reaches_an_event_the_status_or_the_frame(live, fake):
    fake.place_script.append(("body", f"Error,PIN {fake.pin} has no API access"))
    token = c2c_widget(live, fake)
    refused = live.place_call(token, "+12025550135")
    completed = live.place_call(token, "+12025550136")

    assert refused["status"] == "rejected" and completed["status"] == "completed"
    for shown in (refused, completed):
        stored = json.dumps([e.detail for e in live.events(shown["call_id"])])
        assert fake.pin not in stored and "pin-9f3Kx%2Bs3cret" not in stored
        assert "[redacted]" in stored
        assert fake.pin not in json.dumps(shown)
    frame = requests.get(f"{live.url}/embed/v1/frame/{token}", timeout=5,
                         params={"origin": PAGE_ORIGIN})
    assert frame.status_code == 200 and fake.pin not in frame.text


def test_provider_check_names_a_missing_base_url_and_places_a_test_call_otherwise(live, fake):
    c2c_widget(live, fake, base_url="")
    c2c_widget(live, fake)
    with live.app.app_context():
        unset, ready = db.session.scalars(select(ProviderAccount).order_by(ProviderAccount.id))
        accounts = [db.session.get(Account, a.account_id).name for a in (unset, ready)]
    def run(*args):
        return CliRunner().invoke(main, ["provider", "check", *args],
                                  obj=ScriptInfo(create_app=lambda: live.app))

    refused = run("--account", accounts[0], "--name", "main", "--from", "+12025550100",
                  "--to", "+12025550137")
    assert refused.exit_code != 0
    assert "no base URL" in refused.output and fake.server.requests == []

    placed = run("--account", accounts[1], "--name", "main", "--from", "+12025550100",
                 "--to", "+12025550137")
    assert placed.exit_code == 0, placed.output
    assert "The test call was accepted by the provider." in placed.output
    assert fake.pin not in placed.output
    assert [(d.number1, d.number2) for d in fake.dials] == [("12025550100", "12025550137")]


def test_a_tenants_account_keeps_the_status_and_size_never_the_providers_words(live, fake):
    """Its base URL is the tenant's to aim: what answers there is not read back."""
    inside = "Error,ami-0abc internal metadata token AKIA-INSIDE"
    fake.place_script.append(("body", inside))
    shown = live.place_call(c2c_widget(live, fake), "+12025550138")

    assert (shown["status"], shown["reason"]) == ("rejected", "provider_refused")
    [exchange] = live.exchanges(shown["call_id"])
    assert (exchange["status"], exchange["answer_bytes"]) == (200, len(inside))
    assert "answer" not in exchange
    stored = json.dumps([e.detail for e in live.events(shown["call_id"])])
    for seen in (stored, json.dumps(shown)):
        assert "AKIA-INSIDE" not in seen and "metadata" not in seen
