"""DialogTech (seed 004) against a loopback fake: the adapter directly, and a few live calls."""

import pytest

from tests.fakes.dialogtech import ACCESS_KEY, SECRET_ACCESS_KEY, FakeDialogTech
from tests.providers.conftest import RecordingReport, adapter, order
from widget_server.providers.base import MalformedAnswer, ProviderError, ProviderNoAnswer

CREDENTIALS = {"access_key": ACCESS_KEY, "secret_access_key": SECRET_ACCESS_KEY}


@pytest.fixture
def fake():
    with FakeDialogTech() as server:
        yield server


def widget(live, fake, **options):
    return live.provider_widget(kind="dialogtech", base_url=fake.url,
                                credentials=CREDENTIALS, options=options)


def place(fake, **options) -> RecordingReport:
    """Place ``order()`` through a DialogTech adapter with ``options``; what it reported."""
    report = RecordingReport()
    provider = adapter("dialogtech", fake.url, CREDENTIALS, options)
    provider.place_call(order(provider), report)
    return report


# --- the visitor's way ------------------------------------------------------------------


def test_business_answering_rings_the_visitor_and_completes(live, fake):
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"]) == ("completed", "business_answered")
    assert shown["message"] == "The business answered and is calling you now."
    assert [e["status"] for e in shown["events"]][-2:] == ["ringing", "completed"]


def test_first_leg_slower_than_its_timeout_fails_once_and_is_not_retried(live, fake, monkeypatch):
    monkeypatch.setattr("widget_server.providers.dialogtech.ANSWER_MARGIN", 0.5)
    fake.first_leg_seconds = 2.0
    shown = live.place_call(widget(live, fake, first_leg_timeout="0.5"))
    assert (shown["status"], shown["reason"]) == ("failed", "provider_timeout")
    assert len(fake.dials) == 1


def test_no_credential_is_stored_in_events_or_shown(live, fake):
    shown = live.place_call(widget(live, fake))
    stored = repr([event.detail for event in live.events(shown["call_id"])])
    assert "[redacted]" in stored
    for secret in CREDENTIALS.values():
        assert secret not in stored
        assert secret not in repr(shown)


# --- the protocol, on the adapter ----------------------------------------------------------


def test_request_is_exactly_as_documented_with_the_business_first(fake):
    place(fake, first_callerid="+1 (202) 555-0100")
    assert fake.dials == [{
        "action": "clickto.call", "access_key": ACCESS_KEY,
        "secret_access_key": SECRET_ACCESS_KEY, "type": "2",
        "id": "2025550100", "phone_to_call": "2025550123",
        "page": "https://shop.example", "ref": "c0ntract1d",
        "first_callerid": "12025550100",
    }]


def test_type_1_puts_the_business_in_phone_to_call(fake):
    place(fake, type="1")
    assert (fake.dials[0]["type"], fake.dials[0]["phone_to_call"], fake.dials[0]["id"]) == (
        "1", "2025550100", "2025550123")


def test_call_connected_rings_the_visitor_and_completes_as_business_answered(fake):
    assert place(fake).states == [("dialing", None), ("ringing", None),
                                  ("completed", "business_answered")]


def test_business_not_answering_fails_the_call(fake):
    fake.first_leg_answers = False
    assert place(fake).states[-1] == ("failed", "business_no_answer")


def test_slow_first_leg_is_waited_for_past_the_default_read_timeout(fake, monkeypatch):
    monkeypatch.setattr("widget_server.providers.dialogtech.HttpProvider.timeouts", (3.05, 0.5))
    fake.first_leg_seconds = 1.5
    assert place(fake, first_leg_timeout="1").states[-1] == ("completed", "business_answered")


@pytest.mark.parametrize("mode, error, reason", [
    ("500", ProviderNoAnswer, "provider_server_error"),
    ("garbage", MalformedAnswer, "provider_answer_unexpected"),
    ("huge", MalformedAnswer, "provider_answer_too_large"),
    ("latin1", MalformedAnswer, "provider_answer_not_utf8"),
])
def test_bad_answers_fail_the_call_with_a_reason_and_are_never_retried(fake, mode, error,
                                                                      reason):
    fake.mode = mode
    with pytest.raises(error) as raised:
        place(fake)
    assert (raised.value.reason, raised.value.retry_safe) == (reason, False)


def test_refused_credentials_fail_the_call_and_keep_the_answer_as_evidence(fake):
    report = RecordingReport()
    provider = adapter("dialogtech", fake.url, {"access_key": "wrong",
                                                "secret_access_key": "also-wrong"})
    with pytest.raises(ProviderError) as raised:
        provider.place_call(order(provider), report)
    assert raised.value.reason == "provider_answer_unexpected"
    assert report.exchanges[-1]["answer"] == "Invalid access key"
