"""called.in through the whole widget flow, against a loopback fake of seed 002.

The fake answers the bare integer codes and calls our signed hook back, as
the real service does, so each test goes frame -> POST -> queue -> adapter ->
called.in -> callback -> the status the visitor sees.
"""

import threading
import time

import pytest
import requests
from sqlalchemy import select

from tests.fakes.calledin import API_PATH, FakeCalledIn
from tests.providers.conftest import RecordingReport, adapter, order
from tests.waiting import wait_until
from widget_server.calls.placing import StoredCallReport
from widget_server.calls.recovery import recover_stalled_calls
from widget_server.calls.status import reason_sentence
from widget_server.extensions import db
from widget_server.models import UnansweredNumber
from widget_server.providers.base import CallOrder, CallRejected, ProviderError
from widget_server.providers.numbers import split

API_KEY = "ci-key-7f3a9b1c2d"
VISITOR = "+12025550123"


@pytest.fixture
def fake():
    with FakeCalledIn(API_KEY) as server:
        yield server


def widget(live, fake, *, options=None, widget_options=None, **kwargs):
    return live.provider_widget(kind="calledin", base_url=fake.url,
                                credentials={"api_key": API_KEY}, options=options,
                                widget_options=widget_options, **kwargs)


def status_now(live, accepted):
    """What the frame would show right now."""
    return requests.get(live.url + accepted["status_url"], timeout=5,
                        headers={"X-Call-Token": accepted["call_token"]}).json()


def placed_without_callback(live, fake, token, phone=VISITOR):
    """A call called.in accepted, its callback held back by the test: (shown, sent params)."""
    fake.auto_callback = False
    response = live.request_call(token, phone)
    assert response.status_code == 202, response.text
    shown = response.json()
    # Dialled, and the worker recorded the placement (its second "dialing" event), so
    # recovery sees a placed call, never one whose worker was lost while placing it.
    wait_until(lambda: sum(e.status == "dialing" for e in live.events(shown["call_id"])) >= 2)
    return shown, fake.dials[0]


def wait_until_awaiting_callback(live, accepted):
    """The worker has stored called.in's acceptance: the call now only waits."""
    wait_until(lambda: any((e.detail or {}).get("awaiting") == "callback"
                         for e in live.events(accepted["call_id"])))


def test_call_rings_the_business_first_and_completes_when_called_in_calls_back(live, fake):
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"]) == ("completed", None)
    assert shown["message"] == "The call has ended. Thank you!"
    assert [e["status"] for e in shown["events"]] == ["queued", "dialing", "dialing",
                                                      "completed"]
    assert live.call(shown["call_id"]).provider_report == {"minutes": 2, "answered": True}
    # The fake records its callback once it has read our answer, which can be after
    # the visitor's page already shows the call ended.
    wait_until(lambda: fake.callbacks)
    assert [status for _, status, _ in fake.callbacks] == [200]


def place(fake, options=None, **fields) -> RecordingReport:
    """Place ``order(**fields)`` through a called.in adapter; what it reported."""
    report = RecordingReport()
    provider = adapter("calledin", fake.url, {"api_key": API_KEY}, options)
    provider.place_call(order(provider, **fields), report)
    return report


def test_request_is_exactly_as_documented_business_first_minutes_and_digits(fake):
    fake.auto_callback = False
    place(fake, {"max_duration_minutes": "5", "caller_id": "+1 202-555-0199"},
          callback_url=f"{fake.url}/hooks/calledin/t0ken", callback_secret="s" * 30)
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("GET", API_PATH)
    assert sent.query == {
        "api_key": API_KEY,
        "caller_phone_number": "2025550100", "caller_country_code": "1",
        "callee_phone_number": "2025550123", "callee_country_code": "1",
        "max_duration": "5", "caller_id": "2025550199",
        "callback_url": f"{fake.url}/hooks/calledin/t0ken", "secret": "s" * 30,
    }


def test_the_live_request_carries_our_signed_hook_and_a_30_character_secret(live, fake):
    live.place_call(widget(live, fake))
    [sent] = fake.requests
    assert sent.query["callback_url"].startswith(f"{live.url}/hooks/calledin/")
    assert len(sent.query["secret"]) == 30


def test_widget_can_lift_the_accounts_duration_limit_by_leaving_it_blank(live, fake):
    live.place_call(widget(live, fake, options={"max_duration_minutes": "10"},
                           widget_options={"max_duration_minutes": ""}))
    assert "max_duration" not in fake.requests[0].query


def test_a_stored_duration_that_is_not_whole_minutes_is_refused_before_calling(live, fake):
    shown = live.place_call(widget(live, fake, options={"max_duration_minutes": "90s"}))
    assert (shown["status"], shown["reason"]) == ("failed", "provider_options_invalid")
    assert fake.requests == []


def test_a_visitor_abroad_is_sent_as_country_code_and_national_number(fake):
    fake.countries = {"1", "44"}
    place(fake, visitor_number="+447400123456")
    query = fake.requests[0].query
    assert (query["callee_country_code"], query["callee_phone_number"]) == ("44", "7400123456")


def test_national_numbers_keep_a_leading_zero_where_the_country_dials_it():
    assert split("+390612345678") == ("39", "0612345678")
    assert split("+4930123456") == ("49", "30123456")


def refuse_key(fake):
    fake.api_keys = {"another-key"}


@pytest.mark.parametrize("arrange, phone, code, reason, sentence", [
    (refuse_key, VISITOR, "1", "provider_credentials",
     "This site cannot place calls right now."),
    (lambda f: setattr(f, "credits", 0), VISITOR, "2", "no_credit",
     "This site cannot place calls right now."),
    (lambda f: f.do_not_call.add("2025550123"), VISITOR, "3", "do_not_call",
     "This number is on a do-not-call list, so we cannot call it."),
    # Our adapter never sends a badly formed request; the fake is told to say so.
    (lambda f: setattr(f, "raw", "4"), VISITOR, "4", "provider_invalid_request",
     "The call could not be placed with these details. Please check your number, or try "
     "again later."),
    (lambda f: f.disabled_keys.add(API_KEY), VISITOR, "5", "provider_account_disabled",
     "This site cannot place calls right now."),
    (lambda f: f.last_dialled.update({"2025550123": time.monotonic()}), VISITOR, "6",
     "provider_flood",
     "This number was called a moment ago. Please wait a minute and try again."),
    (lambda f: f.unsupported_area_codes.add("202"), VISITOR, "7",
     "business_number_unsupported", "This site cannot place calls right now."),
    (lambda f: setattr(f, "countries", {"44"}), "+447400123456", "8",
     "business_number_unsupported", "This site cannot place calls right now."),
    (lambda f: f.unsupported_area_codes.add("212"), "+12125550123", "9",
     "number_area_unsupported",
     "Calls to your area code are not possible yet. Please try another number."),
    (lambda f: setattr(f, "countries", {"1"}), "+447400123456", "10",
     "number_country_unsupported",
     "Calls to your country are not possible yet. Please try another number."),
])
def test_each_refusal_code_rejects_the_call_with_its_reason_and_sentence(
        fake, arrange, phone, code, reason, sentence):
    arrange(fake)
    report = RecordingReport()
    provider = adapter("calledin", fake.url, {"api_key": API_KEY})
    with pytest.raises(CallRejected) as refused:
        provider.place_call(order(provider, visitor_number=phone), report)
    assert (refused.value.reason, refused.value.retry_safe) == (reason, False)
    assert reason_sentence(reason) == sentence
    assert report.exchanges[-1]["answer"] == code
    # Refused, so nothing was dialled.
    assert (len(fake.requests), fake.dials) == (1, [])


def test_a_refusal_is_what_the_visitor_reads_and_is_not_sent_again(live, fake):
    fake.do_not_call.add("2025550123")
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"], shown["message"]) == (
        "rejected", "do_not_call", "This number is on a do-not-call list, so we cannot call it.")
    assert (len(fake.requests), fake.dials) == (1, [])


# The last column: whether the harassment guard counts it against the visitor's number
# (a phone did not take the call; failures of the network are not counted).
@pytest.mark.parametrize("reason_code, reason, sentence, counted", [
    ("0", "call_failed", "The call could not be connected. Please try again later.", False),
    ("1", "hung_up", "The call was hung up before it was connected.", True),
    ("3", "ring_timeout", "Nobody answered in time. Please try again later.", True),
    ("5", "line_busy", "A line was busy. Please try again in a few minutes.", True),
    ("8", "congestion",
     "The phone network was too busy to connect the call. Please try again later.", False),
])
def test_an_unanswered_call_fails_with_the_callbacks_reason(live, fake, reason_code, reason,
                                                            sentence, counted):
    fake.outcome = {"answered": "0", "reason": reason_code, "minutes": "0"}
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"], shown["message"]) == ("failed", reason, sentence)
    assert live.call(shown["call_id"]).provider_report == {"minutes": 0, "answered": False}
    with live.app.app_context():
        count = db.session.scalar(select(UnansweredNumber.count)
                                  .where(UnansweredNumber.e164 == VISITOR))
    assert count == (1 if counted else None)


def test_without_a_public_url_the_status_says_the_outcome_cannot_be_learned(live, fake):
    live.app.config["PUBLIC_URL"] = ""
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"]) == ("completed", "outcome_unknown")
    assert shown["message"] == "The call was placed; we cannot see how it ended."
    assert {"callback_url", "secret"}.isdisjoint(fake.requests[0].query)
    assert fake.callbacks == []


def test_a_forged_callback_is_refused_and_the_genuine_one_still_counts(live, fake):
    accepted, sent = placed_without_callback(live, fake, widget(live, fake))
    forged = fake.deliver(sent, fake.callback_params(sent, secret="x" * 30))
    assert (forged.status_code, forged.json()["error"]) == (403, "hook_refused")
    assert status_now(live, accepted)["status"] == "dialing"

    token = sent["callback_url"].rsplit("/", 1)[1]
    bad_url = sent["callback_url"][:-len(token)] + token[:-2] + ("AA" if token[-2:] != "AA"
                                                                else "BB")
    unsigned = fake.deliver(sent, fake.callback_params(sent), url=bad_url)
    assert (unsigned.status_code, unsigned.json()["error"]) == (404, "hook_not_found")
    assert status_now(live, accepted)["status"] == "dialing"

    assert fake.deliver(sent, fake.callback_params(sent)).status_code == 200
    assert live.follow(accepted)["status"] == "completed"


def test_a_callback_after_a_key_rotation_still_counts_and_new_calls_use_the_new_key(
        live, fake):
    token = widget(live, fake)
    accepted, sent = placed_without_callback(live, fake, token)
    # `widget-server keys rotate` adds the newest key; the app and worker restart with it.
    live.app.config["SECRET_KEYS"] = [*live.app.config["SECRET_KEYS"], "k" * 43]

    assert fake.deliver(sent, fake.callback_params(sent)).status_code == 200
    assert live.follow(accepted)["status"] == "completed"
    fake.dials.clear()
    _, placed_after = placed_without_callback(live, fake, token, phone="+12025550124")
    assert placed_after["secret"] != sent["secret"]


def test_a_callback_about_other_numbers_is_refused(live, fake):
    accepted, sent = placed_without_callback(live, fake, widget(live, fake))
    other = fake.deliver(sent, fake.callback_params(sent, callee_phone_number="2025550199"))
    assert (other.status_code, other.json()["error"]) == (403, "hook_refused")
    shown = status_now(live, accepted)
    assert (shown["status"], live.call(accepted["call_id"]).provider_report) == ("dialing",
                                                                                 None)


def test_a_replayed_callback_is_refused_and_changes_nothing(live, fake):
    fake.outcome = {"answered": "0", "reason": "5", "minutes": "0"}
    shown = live.place_call(widget(live, fake))
    wait_until(lambda: fake.callbacks)
    events = len(live.events(shown["call_id"]))
    sent = fake.dials[0]
    fake.outcome = {"answered": "1", "reason": "", "minutes": "4"}
    replay = fake.deliver(sent, fake.callback_params(sent))
    assert (replay.status_code, replay.json()["error"]) == (409, "hook_replayed")
    call = live.call(shown["call_id"])
    assert (call.status, call.reason, call.provider_report) == (
        "failed", "line_busy", {"minutes": 0, "answered": False})
    assert len(live.events(shown["call_id"])) == events


def test_a_callback_for_a_call_that_has_ended_is_refused_and_its_report_stands(live, fake):
    """Recovery closed the call after waiting too long; a late callback changes nothing."""
    accepted, sent = placed_without_callback(live, fake, widget(live, fake))
    wait_until_awaiting_callback(live, accepted)
    live.app.config.update(STALL_SECONDS=0, CALLBACK_WAIT_SECONDS=0)
    with live.app.app_context():
        recover_stalled_calls()
    ended = live.call(accepted["call_id"])
    assert (ended.status, ended.reason) == ("completed", "outcome_unknown")
    events = len(live.events(accepted["call_id"]))

    fake.outcome = {"answered": "0", "reason": "5", "minutes": "0"}
    late = fake.deliver(sent, fake.callback_params(sent))
    assert (late.status_code, late.json()["error"]) == (409, "hook_call_ended")
    call = live.call(accepted["call_id"])
    assert (call.status, call.reason, call.provider_report) == (
        "completed", "outcome_unknown", None)
    assert len(live.events(accepted["call_id"])) == events


def test_a_call_closed_while_its_callback_is_being_taken_is_not_overwritten(
        live, fake, monkeypatch):
    """Recovery closes the call after the callback was accepted, before its report is
    written: recovery waits for the callback's transaction and then finds the call
    ended, so the call keeps the callback's state and report, one of each."""
    accepted, sent = placed_without_callback(live, fake, widget(live, fake))
    wait_until_awaiting_callback(live, accepted)
    live.app.config.update(STALL_SECONDS=0, CALLBACK_WAIT_SECONDS=0)
    closer = {}

    def close_from_another_session():
        with live.app.app_context():
            closer["tasks"] = recover_stalled_calls()

    write_report = StoredCallReport.provider_report

    def provider_report_while_recovery_runs(self, **figures):
        if "thread" not in closer:  # the callback's check is done, its report not written
            closer["thread"] = threading.Thread(target=close_from_another_session)
            closer["thread"].start()
            closer["thread"].join(timeout=1.0)  # it must wait for the callback, not win
        return write_report(self, **figures)

    monkeypatch.setattr(StoredCallReport, "provider_report", provider_report_while_recovery_runs)
    fake.outcome = {"answered": "0", "reason": "5", "minutes": "0"}
    taken = fake.deliver(sent, fake.callback_params(sent))
    closer["thread"].join(timeout=30)
    assert not closer["thread"].is_alive()
    assert closer["tasks"] == []  # recovery ran, found the call ended, and did nothing

    assert taken.status_code == 200, taken.text
    call = live.call(accepted["call_id"])
    assert (call.status, call.reason, call.provider_report) == (
        "failed", "line_busy", {"minutes": 0, "answered": False})
    finals = [e for e in live.events(accepted["call_id"])
              if e.status in ("completed", "failed")]
    assert [(e.status, e.reason) for e in finals] == [("failed", "line_busy")]


@pytest.mark.parametrize("status, raw, reason", [
    (500, None, "provider_server_error"),
    (200, "11", "provider_answer_unexpected"),
    (200, "-1", "provider_answer_unexpected"),
    (200, "0 OK", "provider_answer_unexpected"),
    (200, "", "provider_answer_unexpected"),
    (200, "<html><body>Maintenance</body></html>", "provider_answer_unexpected"),
    (200, "0" * 70_000, "provider_answer_too_large"),
    (200, "caf\xe9".encode("latin-1"), "provider_answer_not_utf8"),
])
def test_a_bad_answer_fails_the_call_and_is_never_retried(fake, status, raw, reason):
    fake.status, fake.raw = status, raw
    with pytest.raises(ProviderError) as raised:
        place(fake)
    assert (raised.value.reason, raised.value.final_state, raised.value.retry_safe) == (
        reason, "failed", False)
    assert len(fake.requests) == 1


def test_the_worker_goes_on_placing_calls_after_a_garbled_answer(live, fake):
    token = widget(live, fake)
    fake.raw = b"\xff\xfe\x00garbage"
    assert live.place_call(token)["status"] == "failed"
    fake.raw = None
    assert live.place_call(token, "+12025550124")["status"] == "completed"


def test_neither_the_api_key_nor_the_callback_secret_is_stored_or_shown(live, fake):
    token = widget(live, fake)
    shown = live.place_call(token)
    sent = fake.dials[0]
    stored = repr([event.detail for event in live.events(shown["call_id"])])
    assert "[redacted]" in stored
    frame = requests.get(f"{live.url}/embed/v1/frame/{token}", timeout=5).text
    for secret in (API_KEY, sent["secret"]):
        assert secret not in stored
        assert secret not in repr(shown)
        assert secret not in frame


class Recorded:
    """A CallReport that keeps what the adapter said, for calls made outside the worker."""

    def __init__(self):
        self.steps = []

    def progress(self, status, reason=None, **detail):
        self.steps.append((status, reason))

    def exchange(self, **evidence):
        self.steps.append(("exchange", evidence.get("status")))

    def provider_call_id(self, value):
        pass

    def provider_report(self, **figures):
        pass


def test_a_callback_secret_longer_than_30_characters_is_never_sent(fake):
    provider = adapter("calledin", fake.url, {"api_key": API_KEY})
    order = CallOrder(call_id="c1", business_number="+12025550100", visitor_number=VISITOR,
                      callback_url="http://127.0.0.1:9/hooks/calledin/t",
                      callback_secret="s" * 31)
    with pytest.raises(CallRejected) as refused:
        provider.place_call(order, Recorded())
    assert refused.value.reason == "provider_invalid_request"
    assert fake.requests == []
