"""A loopback SMTP server per test, an app that mails through it, a widget that notifies."""

from __future__ import annotations

import ssl

import pytest
import trustme

from tests.factories import create_account, create_widget
from tests.fakes.smtp import FakeSmtpServer
from widget_server.extensions import db
from widget_server.models import MailDelivery

PASSWORD = "smtp-secret-8f3k2"
OWNER = "owner@shop.example"


@pytest.fixture
def smtp():
    server = FakeSmtpServer(login=("mailer", PASSWORD)).start()
    yield server
    server.stop()


@pytest.fixture
def certificate(tmp_path):
    """A CA of the test's own and a server context for 127.0.0.1; the CA's PEM file."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return context, str(ca_file)


def smtp_url(server: FakeSmtpServer, scheme: str = "smtp") -> str:
    return f"{scheme}://mailer:{PASSWORD}@{server.url}"


@pytest.fixture
def mail_app(make_app, smtp):
    return make_app(SMTP_URL=smtp_url(smtp), PUBLIC_URL="https://widgets.example",
                    MAIL_FROM="calls@widgets.example")


def notifying_widget(app, *, events=("missed",), emails=(OWNER,), account="acme", **fields):
    """A widget of a new ``account`` that mails ``emails`` on ``events``."""
    with app.app_context():
        widget = create_widget(account=create_account(name=account),
                               domains=["shop.example", "localhost:5000"],
                               notify_emails=list(emails), notify_events=list(events),
                               **fields)
        db.session.expunge(widget)
        return widget


def deliveries(app) -> list[MailDelivery]:
    with app.app_context():
        rows = db.session.scalars(db.select(MailDelivery).order_by(MailDelivery.id)).all()
        db.session.expunge_all()
        return rows
