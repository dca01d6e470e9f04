"""Mail goes out from the queue: retried when the server cannot take it, over TLS when
asked, written to the log when no server is set, and shown in the admin's delivery log."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.factories import create_account, create_user, signed_in
from tests.fakes.smtp import FakeSmtpServer
from tests.mail.conftest import OWNER, PASSWORD, deliveries, smtp_url
from tests.waiting import wait_until
from widget_server.calls.queue import start_in_process_consumer
from widget_server.extensions import db
from widget_server.mail.outbox import overdue_mail, queue_mail
from widget_server.models import MailDelivery, utcnow

RETRYING = {"QUEUE_IMMEDIATE": False, "MAIL_RETRY_DELAY": 0.2, "MAIL_RETRY_MAX_DELAY": 0.4}


def mail(app, account_id=None, to=OWNER):
    with app.app_context():
        [row] = queue_mail(to, "Missed call", "Call +12025550003 back.",
                           "<p>Call <a href='tel:+12025550003'>back</a>.</p>",
                           account_id=account_id)
        return row.id


def account(app, name="acme") -> int:
    """A new account with an owner, who signs in as owner@<name>.example."""
    with app.app_context():
        made = create_account(name=name)
        create_user(account=made)
        return made.id


def test_a_mail_the_server_refuses_for_now_is_sent_again_and_the_admin_shows_it(
        make_app, smtp):
    app = make_app(SMTP_URL=smtp_url(smtp), **RETRYING)
    acme = account(app)
    smtp.refuse_next(2)
    consumer = start_in_process_consumer(app)
    try:
        mail(app, acme)
        wait_until(lambda: deliveries(app)[0].status == "sent")
    finally:
        consumer.stop(graceful=False)
    [row] = deliveries(app)
    assert (row.attempts, row.last_error) == (3, "451 4.3.0 Try again later")
    assert len(smtp.messages) == 1
    page = signed_in(app, "owner@acme.example").get("/admin/mail").get_data(as_text=True)
    assert "451 4.3.0 Try again later" in page and "<td>3</td>" in page
    assert "Mail is off" not in page


def test_a_server_down_then_up_gets_the_mail_on_a_later_attempt(make_app):
    server = FakeSmtpServer(login=("mailer", PASSWORD))  # not started yet: refused
    app = make_app(SMTP_URL=f"smtp://mailer:{PASSWORD}@{server.url}",
                   **RETRYING | {"MAIL_RETRY_DELAY": 0.5})
    consumer = start_in_process_consumer(app)
    try:
        mail(app)
        wait_until(lambda: deliveries(app)[0].last_error is not None)
        server.start()
        wait_until(lambda: deliveries(app)[0].status == "sent")
    finally:
        consumer.stop(graceful=False)
        server.stop()
    [row] = deliveries(app)
    assert row.attempts >= 2 and "ConnectionRefusedError" in row.last_error
    assert [to for _, [to] in server.envelopes] == [OWNER]


def test_a_server_down_for_good_fails_the_mail_and_the_admin_shows_its_attempts(make_app):
    down = FakeSmtpServer()  # never started
    app = make_app(SMTP_URL=f"smtp://mailer:{PASSWORD}@{down.url}", MAIL_RETRIES=1, **RETRYING)
    acme = account(app)
    consumer = start_in_process_consumer(app)
    try:
        mail(app, acme)
        wait_until(lambda: deliveries(app)[0].status == "failed")
    finally:
        consumer.stop(graceful=False)
    [row] = deliveries(app)
    assert row.attempts == 2 and PASSWORD not in row.last_error
    page = signed_in(app, "owner@acme.example").get("/admin/mail").get_data(as_text=True)
    assert "<td>failed</td>" in page and "<td>2</td>" in page
    assert "ConnectionRefusedError" in page


def test_a_refusal_for_good_is_not_tried_again_and_its_log_keeps_no_password(make_app, smtp):
    app = make_app(SMTP_URL=smtp_url(smtp))
    smtp.refuse_next(1, f"554 5.7.1 Refused for mailer:{PASSWORD}")
    mail(app)
    [row] = deliveries(app)
    assert (row.status, row.attempts, row.last_error) == (
        "failed", 1, "554 5.7.1 Refused for mailer:[redacted]")
    assert app.extensions["huey"].scheduled() == []


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_mail_goes_over_tls_checked_against_the_ca_file(make_app, certificate, implicit):
    context, ca_file = certificate
    server = FakeSmtpServer(tls=context, implicit_tls=implicit,
                            login=("mailer", PASSWORD)).start()
    try:
        url = smtp_url(server, "smtps" if implicit else "smtp")
        app = make_app(SMTP_URL=url, SMTP_CA_FILE=ca_file)
        mail(app)
        assert len(server.messages) == 1
        untrusting = make_app(SMTP_URL=url, MAIL_RETRIES=0)  # the system's CAs only
        mail(untrusting)
    finally:
        server.stop()
    sent, refused = deliveries(app)
    assert (sent.status, refused.status) == ("sent", "failed")
    assert "CERTIFICATE_VERIFY_FAILED" in refused.last_error
    assert len(server.messages) == 1


def test_without_a_server_mail_is_written_to_the_log_and_the_admin_says_mail_is_off(
        app, caplog):
    acme = account(app)
    with caplog.at_level(logging.INFO, logger="widget_server.mail.outbox"):
        mail(app, acme)
    [row] = deliveries(app)
    assert row.status == "logged"
    assert "Missed call" in caplog.text and "Call +12025550003 back." in caplog.text
    page = signed_in(app, "owner@acme.example").get("/admin/mail").get_data(as_text=True)
    assert "Mail is off" in page and "written to the log" in page


def test_the_delivery_log_shows_an_account_its_own_mail_only(app):
    acme, rival = account(app, "acme"), account(app, "rival")
    mail(app, acme, to="acme@shop.example")
    mail(app, rival, to="rival@rival.example")
    page = signed_in(app, "owner@acme.example").get("/admin/mail").get_data(as_text=True)
    assert "acme@shop.example" in page and "rival@rival.example" not in page


@pytest.mark.databases("sqlite", "postgresql")  # the sweep selects overdue rows in SQL
def test_a_mail_whose_task_was_lost_is_sent_by_the_sweep(make_app, smtp):
    app = make_app(SMTP_URL=smtp_url(smtp), QUEUE_IMMEDIATE=False)  # nothing consumes
    delivery_id = mail(app)
    with app.app_context():
        assert overdue_mail() == []  # queued just now: its task is still to come
        row = db.session.get(MailDelivery, delivery_id)
        row.next_attempt_at = utcnow() - timedelta(minutes=11)
        db.session.commit()
        assert overdue_mail() == [delivery_id]
    immediate = make_app(SMTP_URL=smtp_url(smtp))
    immediate.extensions["mail_tasks"].send_overdue_mail()
    assert [(row.status, row.attempts) for row in deliveries(app)] == [("sent", 1)]
    assert len(smtp.messages) == 1
