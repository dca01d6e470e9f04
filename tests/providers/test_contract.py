"""What every HTTP adapter does alike, run over each of them without an app.

Each adapter is built directly (as ``adapter_for`` builds it, credentials
already decrypted: conftest's ``adapter``) and pointed at a loopback server that misbehaves the same
way for all: it is not there, it fails with 5xx, it answers something no
provider documents, too much, or not UTF-8. The outcome must be chosen by
what the worker does next (retry, count towards the circuit, end the call),
and no credential may reach an exchange or an error. The worker's side of the
same (retries, the circuit, stored events) is tested once, in calls/.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.conftest import free_port
from tests.fakes.http import FakeHttpServer
from tests.providers.conftest import RecordingReport
from tests.providers.conftest import adapter as build
from widget_server.providers import PROVIDERS
from widget_server.providers.base import (
    MAX_ANSWER_BYTES,
    CallOrder,
    CallRejected,
    HttpProvider,
    MalformedAnswer,
    ProviderError,
    ProviderNoAnswer,
    ProviderUnavailable,
)
from widget_server.services.provider_accounts import provider_session

# The credentials and options each adapter needs to send anything: long, distinctive
# values, so any leak of one into stored evidence is found by plain search.
SETUPS = {
    "c2c-php": ({"uid": "uid-Qw7Lm2Xk9", "pin": "pin-Zr4Tn8Vb1"}, {"holdfile": "17"}),
    "dialogtech": ({"access_key": "ak-Hy6Pd3Sf0", "secret_access_key": "sk-Jc5Wg1Ne7"}, {}),
    "voicenter": ({"code": "code-Mb2Kx9Rt4"}, {}),
    "voice1": ({"api_key": "key-Fs8Lq3Yp6"}, {}),
    "calledin": ({"api_key": "key-Dv1Nh7Ue5"}, {}),
}
HTTP_KINDS = sorted(kind for kind, cls in PROVIDERS.items() if issubclass(cls, HttpProvider))


def test_every_http_adapter_is_in_the_contract():
    assert sorted(SETUPS) == HTTP_KINDS


def adapter(kind: str, base_url: str, **kwargs):
    credentials, options = SETUPS[kind]
    return build(kind, base_url, credentials, options, **kwargs)


ORDER = CallOrder(call_id="c0ntract1d", business_number="+12025550100",
                  visitor_number="+12025550123", page="https://shop.example",
                  callback_url="http://127.0.0.1:9/hooks/x/token",
                  callback_secret="cb-" + "s" * 27)


def place(kind: str, answer, **kwargs):
    """Place ``ORDER`` against a server answering ``answer(request)``; the error and report."""
    report = RecordingReport()
    with FakeHttpServer(answer) as server:
        provider = adapter(kind, server.url, **kwargs)
        with pytest.raises(ProviderError) as raised:
            provider.place_call(ORDER, report)
    return raised.value, report


def assert_no_credential_in(kind: str, *stored: object) -> None:
    text = json.dumps([str(item) if not isinstance(item, dict | list) else item
                       for item in stored])
    for value in SETUPS[kind][0].values():
        assert value not in text


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_a_provider_not_listening_never_got_the_request_so_it_may_be_tried_again(kind):
    report = RecordingReport()
    provider = adapter(kind, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderUnavailable) as raised:
        provider.place_call(ORDER, report)
    error = raised.value
    assert (error.reason, error.retry_safe, error.trips_circuit) == (
        "provider_unreachable", True, True)
    assert report.exchanges and report.exchanges[-1]["error"] == "ConnectionError"
    assert_no_credential_in(kind, error, report.exchanges)


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_a_server_error_counts_towards_the_circuit_and_is_retried_only_where_deduplicated(
        kind):
    def fails(request):
        return 503, {"Content-Type": "text/plain"}, "down for maintenance: " + json.dumps(
            request.params)

    error, report = place(kind, fails)
    assert isinstance(error, ProviderNoAnswer) and error.reason == "provider_server_error"
    assert error.trips_circuit and error.retry_safe == PROVIDERS[kind].dedupes_requests
    assert report.exchanges[-1]["status"] == 503
    # The server echoed every parameter it got: its answer is stored, credentials masked.
    assert_no_credential_in(kind, error, report.exchanges)


@pytest.mark.parametrize("kind", HTTP_KINDS)
@pytest.mark.parametrize("body, reason", [
    (b"x" * (MAX_ANSWER_BYTES + 1), "provider_answer_too_large"),
    (b"\xff\xfe not text", "provider_answer_not_utf8"),
])
def test_an_answer_too_large_or_not_utf8_is_malformed_and_never_retried(kind, body, reason):
    error, report = place(kind, lambda request: (200, {"Content-Type": "text/plain"}, body))
    assert isinstance(error, MalformedAnswer)
    assert (error.reason, error.retry_safe, error.trips_circuit) == (reason, False, True)
    assert report.exchanges[-1]["answer_bytes"] == len(body)


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_a_tenants_address_keeps_no_word_of_the_answer(kind):
    def other_server(request):
        return 500, {"Content-Type": "text/html"}, "<h1>intranet secret page</h1>"

    error, report = place(kind, other_server, shows_answers=False)
    assert "intranet" not in json.dumps(report.exchanges) + str(error) + error.excerpt
    assert report.exchanges[-1]["status"] == 500


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_an_answer_no_provider_documents_is_malformed_and_kept_redacted(kind):
    def not_this_api(request):
        return 200, {"Content-Type": "text/html"}, "<html>Welcome " + json.dumps(
            request.params) + "</html>"

    error, report = place(kind, not_this_api)
    assert isinstance(error, MalformedAnswer) and error.reason == "provider_answer_unexpected"
    assert (error.retry_safe, error.trips_circuit) == (False, True)
    assert "Welcome" in report.exchanges[-1]["answer"]
    assert_no_credential_in(kind, error, report.exchanges)


class HurriedSession(requests.Session):
    """Waits 0.3 s for any answer, whatever read timeout the adapter asks for."""

    def request(self, *args, timeout, **kwargs):
        return super().request(*args, timeout=(timeout[0], 0.3), **kwargs)


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_no_answer_in_time_may_have_dialled_so_it_is_retried_only_where_deduplicated(kind):
    def slow(request):
        time.sleep(1)
        return 200, {}, ""

    error, report = place(kind, slow, session=HurriedSession())
    assert isinstance(error, ProviderNoAnswer) and error.reason == "provider_timeout"
    assert error.trips_circuit and error.retry_safe == PROVIDERS[kind].dedupes_requests
    assert report.exchanges[-1]["error"] == "ReadTimeout"


@pytest.mark.parametrize("kind", HTTP_KINDS)
def test_an_address_the_installation_refuses_is_never_asked(kind):
    report = RecordingReport()
    with FakeHttpServer(lambda request: (200, {}, "")) as server:
        provider = adapter(kind, server.url, session=provider_session({"DEVELOPMENT": True}))
        with pytest.raises(CallRejected) as raised:
            provider.place_call(ORDER, report)
    assert server.requests == []
    assert (raised.value.reason, raised.value.retry_safe, raised.value.trips_circuit) == (
        "provider_address_refused", False, False)
    assert "loopback address" in report.exchanges[-1]["error"]
