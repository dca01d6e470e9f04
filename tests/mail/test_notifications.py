"""Site owners are mailed about the calls they chose, in the widget's language, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.embed.test_opening_hours import hours_closed_now, make_widget_slot
from tests.factories import call_body, post_call
from tests.mail.conftest import OWNER, PASSWORD, deliveries, notifying_widget
from tests.waiting import wait_until
from widget_server.extensions import db
from widget_server.mail.notifications import send_digests
from widget_server.models import CallRequest, Widget


def request_call(app, widget, phone: str, **fields) -> str:
    client = app.test_client()
    response = post_call(client, call_body(app, client, widget, phone=phone, **fields))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["call_id"]


def parts(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def test_a_missed_call_is_mailed_in_the_widgets_language(mail_app, smtp):
    widget = notifying_widget(mail_app, events=("missed",), language="de",
                              emails=(OWNER, "sales@shop.example"))
    call_id = request_call(mail_app, widget, "+12025550003")  # the visitor does not answer
    assert sorted(to for _, [to] in smtp.envelopes) == [OWNER, "sales@shop.example"]
    message = smtp.messages[0]
    assert message["From"] == "widget-server <calls@widgets.example>"
    assert message["Subject"] == "Verpasster Anruf von +12025550003"
    text, html = parts(message)
    link = f"https://widgets.example/admin/reports/calls/{call_id}"
    assert "tel:+12025550003" in text and link in text and "https://shop.example" in text
    assert 'href="tel:+12025550003"' in html and f'href="{link}"' in html
    assert "Rufnummer" in text and 'lang="de"' in html
    assert [(row.status, row.attempts, row.kind) for row in deliveries(mail_app)] == [
        ("sent", 1, "missed"), ("sent", 1, "missed")]


def test_a_missed_call_is_mailed_once_the_next_number_missed_too(mail_app, smtp):
    widget = notifying_widget(mail_app, events=("missed",),
                              numbers=("+12025550100", "+12025550101"))
    request_call(mail_app, widget, "+12025550006")  # no business number answers
    wait_until(lambda: len(deliveries(mail_app)) == 1)
    [mail] = deliveries(mail_app)
    with mail_app.app_context():
        missed = db.session.get(CallRequest, mail.call_id)
        assert (mail.kind, missed.attempt, missed.business_number) == (
            "missed", 2, "+12025550101")


def test_no_missed_mail_when_the_next_number_answers(mail_app, smtp):
    widget = notifying_widget(mail_app, events=("missed", "requested"),
                              numbers=("+12025550100", "+12025550101"))
    request_call(mail_app, widget, "+12025550007")  # the second number answers
    assert [row.kind for row in deliveries(mail_app)] == ["requested"]


def test_a_booked_call_back_is_mailed_with_its_time_in_the_widgets_zone(mail_app, smtp):
    hours = hours_closed_now()
    widget = notifying_widget(mail_app, events=("scheduled",), language="es",
                              opening_hours=hours, outside_hours="callback")
    slot = make_widget_slot(hours)
    request_call(mail_app, widget, "+12025550123", callback_at=slot)
    [message] = smtp.messages
    assert message["Subject"] == "Devolución de llamada reservada para +12025550123"
    text, _ = parts(message)
    assert f"Reservada para: {slot[:10]} 09:00 (UTC)" in text


def test_no_credential_or_secret_reaches_a_mail(mail_app, smtp):
    widget = notifying_widget(mail_app, events=("requested", "missed", "failed"))
    request_call(mail_app, widget, "+12025550003")
    request_call(mail_app, widget, "+12025550005")  # refused by the provider
    assert [m["Subject"].split(" ")[0] for m in smtp.messages] == [
        "New", "Missed", "New", "Call"]
    secrets = [PASSWORD, *mail_app.config["SECRET_KEYS"], *mail_app.config["ENCRYPTION_KEYS"]]
    for message in smtp.messages:
        raw = message.as_string()
        assert not [secret for secret in secrets if secret and secret in raw]


@pytest.mark.parametrize("phone, chosen", [
    ("+12025550003", ("failed", "requested")),  # missed, not chosen; nor is a request
    ("+12025550123", ("missed", "failed")),  # answered: neither
])
def test_nothing_is_sent_for_an_event_not_chosen(mail_app, smtp, phone, chosen):
    widget = notifying_widget(mail_app, events=chosen[:1])
    request_call(mail_app, widget, phone)
    assert smtp.messages == [] and deliveries(mail_app) == []


def test_a_widget_without_recipients_mails_nobody(mail_app, smtp):
    widget = notifying_widget(mail_app, events=("requested",), emails=())
    request_call(mail_app, widget, "+12025550123")
    assert smtp.messages == []


@pytest.mark.databases("sqlite", "postgresql")  # once a day is kept in SQL
def test_the_daily_digest_arrives_once_per_widget_and_day(mail_app, smtp):
    widget = notifying_widget(mail_app, events=("digest",), language="fr",
                              time_zone="Europe/Paris")
    quiet = notifying_widget(mail_app, events=("missed",), account="quiet")
    request_call(mail_app, widget, "+12025550123")
    request_call(mail_app, widget, "+12025550003")
    request_call(mail_app, quiet, "+12025550199")
    with mail_app.app_context():
        created = db.session.scalar(db.select(db.func.min(CallRequest.created_at)))
        day = (created.replace(tzinfo=UTC) + timedelta(hours=1)).date()  # Paris is UTC+1
        next_morning = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC
                                        ) + timedelta(hours=3)
        assert send_digests(next_morning) == 1
        assert send_digests(next_morning) == 0  # the same day again: nothing
        assert send_digests(next_morning + timedelta(hours=1)) == 0
    [message] = smtp.messages
    assert message["Subject"] == f"Appels vers Call me back le {day.isoformat()}"
    text, html = parts(message)
    assert "Demandes : 2" in text and "Manqués : 1" in text
    assert 'href="tel:+12025550003"' in html and "https://widgets.example/admin/" in html
    with mail_app.app_context():  # the day after has no calls: an empty digest, still once
        assert send_digests(next_morning + timedelta(days=1)) == 1
        db.session.get(Widget, widget.id).notify_events = ["missed"]
        db.session.commit()
        assert send_digests(next_morning + timedelta(days=2)) == 0
