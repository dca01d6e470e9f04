"""A reseller's first day, in a real browser: brand, invite, two factors, German, invoice.

The reseller brands itself and invites a client's person; the invitation
reaches a loopback SMTP server and its link sets the person's password; the
person turns on two-factor sign-in, signs in with a code, chooses German and
reads the reseller's brand in German; the reseller downloads last month's
usage as CSV. The queue runs in threads of this process.
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, timedelta

import pyotp
import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect

from tests.browser_support import serve, start_consumer, stop
from tests.factories import create_call, create_widget
from tests.fakes.smtp import FakeSmtpServer
from tests.waiting import wait_until
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import Account, User, utcnow
from widget_server.services.users import hash_password

pytestmark = pytest.mark.browser

RESELLER, PASSWORD = "owner@north.example", "correct horse battery"
INVITEE, ITS_PASSWORD = "frontdesk@bright.example", "front desk's own password"


def _last_month() -> date:
    return (utcnow().replace(day=1) - timedelta(days=1)).date()


@pytest.fixture
def servers(tmp_path):
    smtp = FakeSmtpServer().start()
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DEVELOPMENT": True,
                      "SMTP_URL": f"smtp://{smtp.url}", "MAIL_FROM": "calls@widgets.example"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        operator = Account(name="operator", kind="operator")
        db.session.add(operator)
        db.session.flush()
        north = Account(name="north", kind="reseller", parent_id=operator.id)
        db.session.add(north)
        db.session.flush()
        bright = Account(name="bright-dental", kind="client", parent_id=north.id)
        db.session.add(bright)
        db.session.add(User(account_id=north.id, email=RESELLER, role="owner",
                            password_hash=hash_password(PASSWORD)))
        db.session.commit()
        widget = create_widget(account=bright)
        last_month = utcnow().replace(day=1) - timedelta(days=3)
        for status, reason in (("completed", None), ("completed", None), ("failed", "busy")):
            create_call(widget=widget, status=status, reason=reason, created_at=last_month)
        create_call(widget=widget)  # this month: not on last month's invoice
    server = serve(app)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.effective_port}"
    consumer = start_consumer(app)
    yield app.config["PUBLIC_URL"] + "/admin", smtp
    consumer.stop(graceful=True)
    stop(server)
    smtp.stop()
    with app.app_context():
        db.engine.dispose()


def _sign_in(page, admin: str, email: str, password: str) -> None:
    page.goto(f"{admin}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_reseller_brands_itself_invites_a_client_and_invoices_last_month(
        page, browser, servers):
    admin, smtp = servers
    refused: list[str] = []

    def watch(tab):
        tab.on("console", lambda message: refused.append(message.text)
               if "Content Security Policy" in message.text else None)
        return tab

    watch(page)
    _sign_in(page, admin, RESELLER, PASSWORD)
    page.get_by_role("link", name="Brand").click()
    page.get_by_label("Product name").fill("North Calls")
    page.get_by_label("Primary colour").fill("#0b3d91")
    page.get_by_label("Support e-mail").fill("help@north.example")
    page.get_by_role("button", name="Save brand").click()
    expect(page.get_by_role("status")).to_contain_text("Brand saved")

    page.goto(f"{admin}/users")
    page.get_by_role("link", name="New user").click()
    page.get_by_label("Email").fill(INVITEE)
    page.get_by_label("Account").select_option(label="bright-dental")
    page.get_by_label("Role").select_option("owner")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_text(f"is on its way to {INVITEE}")).to_be_visible()

    wait_until(lambda: smtp.messages, what="the invitation mail")
    [invitation] = smtp.messages
    assert "North Calls" in invitation["From"] and "widget-server" not in invitation.as_string()
    link = re.search(r"http://127\.0\.0\.1:\d+/admin/welcome/\S+",
                     invitation.get_body(("plain",)).get_content()).group(0)

    client = watch(browser.new_context().new_page())
    client.goto(link)
    client.get_by_label("New password", exact=True).fill(ITS_PASSWORD)
    client.get_by_label("New password again").fill(ITS_PASSWORD)
    client.get_by_role("button", name="Set password").click()
    expect(client.get_by_text("Your password is set; sign in with it.")).to_be_visible()
    _sign_in(client, admin, INVITEE, ITS_PASSWORD)
    client.get_by_role("link", name="Security").click()
    client.get_by_role("button", name="Set up two-factor sign-in").click()
    authenticator = pyotp.TOTP(client.locator("#totp-secret").inner_text())
    client.get_by_label("Code from the app").fill(authenticator.now())
    client.get_by_role("button", name="Turn on").click()
    expect(client.locator("#recovery-codes li")).to_have_count(10)
    client.get_by_role("button", name="Sign out").click()

    _sign_in(client, admin, INVITEE, ITS_PASSWORD)
    expect(client.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    client.get_by_label("Code", exact=True).fill(authenticator.at(time.time() + 30))
    client.get_by_role("button", name="Sign in").click()
    client.goto(f"{admin}/settings")
    client.get_by_label("Language").select_option("de")
    client.get_by_role("button", name="Save settings").click()
    client.goto(f"{admin}/")
    expect(client).to_have_title(re.compile(r"North Calls"))
    expect(client.get_by_role("button", name="Abmelden")).to_be_visible()
    expect(client.get_by_role("link", name="Übersicht")).to_be_visible()
    assert "widget-server" not in client.content()

    month = _last_month()
    page.goto(f"{admin}/reports/usage?month={month:%Y-%m}")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download {month:%B %Y} as CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    by_account = {row["account"]: row for row in rows}
    assert (by_account["bright-dental"]["requests"], by_account["bright-dental"]["answered"],
            by_account["bright-dental"]["failed"]) == ("3", "2", "1")
    # The reseller's own row counts its client's requests; the total row the whole tree.
    assert by_account["north"]["subtree_requests"] == by_account["total"]["requests"] == "3"
    assert refused == []
