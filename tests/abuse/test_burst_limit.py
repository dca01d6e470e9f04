"""The call request's burst limit counts every attempt from an address, under each limit;
a limit setting that does not parse stops the start."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import call_body, post_call
from widget_server.abuse.limiter_storage import LockedMemoryStorage
from widget_server.extensions import db
from widget_server.models import CallRequest


def numbers(count: int = 3) -> list[str]:
    """Fresh visitor numbers: the per-number caps stay out of the way."""
    return [f"+1202555{line:04d}" for line in range(140, 140 + count)]


def test_every_limit_of_the_setting_is_counted(make_app, widget):
    app = make_app(LIMIT_CALL_POST="5/minute;2/hour")
    client = app.test_client()

    answers = [post_call(client, call_body(app, client, widget, phone=phone))
               for phone in numbers()]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].get_json()["error"] == "rate_limited"
    assert answers[2].headers["X-RateLimit-Limit"] == "2"
    assert int(answers[2].headers["Retry-After"]) > 60


def test_refused_attempts_count_before_any_check(make_app, widget):
    """A flood of forged or careless requests is slowed down like a flood of good ones."""
    app = make_app(LIMIT_CALL_POST="2/minute")
    client = app.test_client()

    forged = post_call(client, call_body(app, client, widget) | {"token": "forged"})
    careless = post_call(client, call_body(app, client, widget, consent=False))
    good = post_call(client, call_body(app, client, widget))

    assert forged.status_code == 403 and careless.status_code == 400
    assert good.status_code == 429


def test_each_address_is_counted_apart(make_app, widget):
    app = make_app(LIMIT_CALL_POST="1/minute")
    client = app.test_client()
    phones = iter(numbers())

    def post_from(address):
        return post_call(client, call_body(app, client, widget, phone=next(phones)),
                         environ_base={"REMOTE_ADDR": address})

    assert post_from("198.51.100.7").status_code == 202
    assert post_from("198.51.100.7").status_code == 429
    assert post_from("198.51.100.8").status_code == 202


def test_a_count_that_fails_in_any_way_refuses_with_503_and_places_nothing(
        make_app, widget, monkeypatch):
    """Not only a storage that is down: limits' own memory storage once raised
    RuntimeError under concurrent hits (abuse/limiter_storage.py)."""
    app = make_app(LIMIT_CALL_POST="5/minute")
    client = app.test_client()
    body = call_body(app, client, widget)

    def failing_incr(*_args, **_kwargs):
        raise RuntimeError("threads can only be started once")

    monkeypatch.setattr(LockedMemoryStorage, "incr", failing_incr)
    refused = post_call(client, body)

    assert refused.status_code == 503
    assert refused.get_json()["error"] == "service_unavailable"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CallRequest)) == 0


@pytest.mark.parametrize("setting", ["LIMIT_CALL_POST", "LIMIT_SIGN_IN_FAILURES_PER_ADDRESS"])
def test_a_limit_setting_that_does_not_parse_stops_the_start(make_app, setting):
    with pytest.raises(ValueError, match=setting):
        make_app(**{setting: "ten a minute"})


def test_an_empty_limit_setting_counts_nothing_as_flask_limiter_reads_it(make_app, widget):
    app = make_app(LIMIT_CALL_POST="")
    client = app.test_client()

    answers = [post_call(client, call_body(app, client, widget, phone=phone))
               for phone in numbers(2)]

    assert [a.status_code for a in answers] == [202, 202]
