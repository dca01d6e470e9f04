"""DialogTech through the whole widget flow, against a loopback fake of seed 004."""

import pytest

from tests.fakes.dialogtech import ACCESS_KEY, SECRET_ACCESS_KEY, FakeDialogTech

CREDENTIALS = {"access_key": ACCESS_KEY, "secret_access_key": SECRET_ACCESS_KEY}


@pytest.fixture
def fake():
    with FakeDialogTech() as server:
        yield server


def widget(live, fake, **options):
    return live.provider_widget(kind="dialogtech", base_url=fake.url,
                                credentials=CREDENTIALS, options=options)


def test_business_answering_rings_the_visitor_and_completes(live, fake):
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"]) == ("completed", "business_answered")
    assert shown["message"] == "The business answered and is calling you now."
    assert [e["status"] for e in shown["events"]][-2:] == ["ringing", "completed"]


def test_request_is_exactly_as_documented_with_the_business_first(live, fake):
    shown = live.place_call(widget(live, fake, first_callerid="+1 (202) 555-0100"))
    assert len(fake.dials) == 1
    sent = fake.dials[0]
    assert sent == {
        "action": "clickto.call", "access_key": ACCESS_KEY,
        "secret_access_key": SECRET_ACCESS_KEY, "type": "2",
        "id": "2025550100", "phone_to_call": "2025550123",
        "page": "https://shop.example", "ref": shown["call_id"],
        "first_callerid": "12025550100",
    }


def test_type_1_puts_the_business_in_phone_to_call(live, fake):
    live.place_call(widget(live, fake, type="1"))
    assert (fake.dials[0]["type"], fake.dials[0]["phone_to_call"], fake.dials[0]["id"]) == (
        "1", "2025550100", "2025550123")


def test_business_not_answering_fails_with_its_sentence(live, fake):
    fake.first_leg_answers = False
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"]) == ("failed", "business_no_answer")
    assert "could not take your call" in shown["message"]


def test_slow_first_leg_is_waited_for_past_the_default_read_timeout(live, fake):
    fake.first_leg_seconds = 1.5
    shown = live.place_call(widget(live, fake, first_leg_timeout="1"))
    assert shown["status"] == "completed"


def test_first_leg_slower_than_its_timeout_fails_once_and_is_not_retried(live, fake, monkeypatch):
    monkeypatch.setattr("widget_server.providers.dialogtech.ANSWER_MARGIN", 0.5)
    fake.first_leg_seconds = 2.0
    shown = live.place_call(widget(live, fake, first_leg_timeout="0.5"))
    assert (shown["status"], shown["reason"]) == ("failed", "provider_timeout")
    assert len(fake.dials) == 1


@pytest.mark.parametrize("mode, reason", [
    ("500", "provider_server_error"),
    ("garbage", "provider_answer_unexpected"),
    ("huge", "provider_answer_too_large"),
    ("latin1", "provider_answer_not_utf8"),
])
def test_bad_answers_fail_the_call_with_a_reason(live, fake, mode, reason):
    fake.mode = mode
    shown = live.place_call(widget(live, fake))
    assert (shown["status"], shown["reason"]) == ("failed", reason)
    assert shown["message"].endswith(".")


def test_refused_credentials_fail_the_call_and_keep_the_answer_as_evidence(live):
    with FakeDialogTech() as fake:
        token = live.provider_widget(kind="dialogtech", base_url=fake.url,
                                     credentials={"access_key": "wrong",
                                                  "secret_access_key": "also-wrong"},
                                     owner_kind="operator")
        shown = live.place_call(token)
    assert (shown["status"], shown["reason"]) == ("failed", "provider_answer_unexpected")
    assert live.exchanges(shown["call_id"])[-1]["answer"] == "Invalid access key"


def test_no_credential_is_stored_in_events_or_shown(live, fake):
    shown = live.place_call(widget(live, fake))
    stored = repr([event.detail for event in live.events(shown["call_id"])])
    assert "[redacted]" in stored
    for secret in CREDENTIALS.values():
        assert secret not in stored
        assert secret not in repr(shown)
