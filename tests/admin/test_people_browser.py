"""An owner invites a person, who chooses a password and signs in with TOTP, in a real browser.

The invitation goes through a loopback SMTP server (aiosmtpd), sent by the
queue consumed in threads of this process; the invitee's browser is another
context (no cookie of the owner's). The authenticator app is pyotp reading
the key the page shows.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect

from tests.browser_support import serve, start_consumer, stop
from tests.fakes.smtp import FakeSmtpServer
from tests.waiting import wait_until
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import Account, User
from widget_server.services.users import hash_password

pytestmark = pytest.mark.browser

OWNER, PASSWORD = "owner@north.example", "correct horse battery"
INVITEE = "frontdesk@bright.example"


@pytest.fixture
def servers(tmp_path):
    smtp = FakeSmtpServer().start()
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DEVELOPMENT": True,
                      "SMTP_URL": f"smtp://{smtp.url}", "MAIL_FROM": "admin@north.example"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        north = Account(name="north", kind="reseller")
        db.session.add(north)
        db.session.flush()
        db.session.add(Account(name="bright-dental", kind="client", parent_id=north.id))
        db.session.add(User(account_id=north.id, email=OWNER, role="owner",
                            password_hash=hash_password(PASSWORD)))
        db.session.commit()
    server = serve(app)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.effective_port}"
    consumer = start_consumer(app)
    yield app.config["PUBLIC_URL"] + "/admin", smtp
    consumer.stop(graceful=True)
    stop(server)
    smtp.stop()
    with app.app_context():
        db.engine.dispose()


def test_an_invited_person_chooses_a_password_and_signs_in_with_totp(page, browser, servers):
    admin, smtp = servers
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{admin}/sign-in")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{admin}/users")
    page.get_by_role("link", name="New user").click()
    expect(page.get_by_label("Password")).to_have_count(0)
    page.get_by_label("Email").fill(INVITEE)
    page.get_by_label("Account").select_option(label="bright-dental")
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_text(f"is on its way to {INVITEE}")).to_be_visible()

    wait_until(lambda: smtp.messages, what="the invitation mail")
    [message] = smtp.messages
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:\d+/admin/welcome/\S+", text).group(0)

    invitee = browser.new_context().new_page()
    invitee.on("console", lambda message: refused.append(message.text)
               if "Content Security Policy" in message.text else None)
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Welcome to bright-dental")).to_be_visible()
    invitee.get_by_label("New password", exact=True).fill("front desk's own password")
    invitee.get_by_label("New password again").fill("front desk's own password")
    invitee.get_by_role("button", name="Set password").click()
    expect(invitee.get_by_text("Your password is set; sign in with it.")).to_be_visible()
    invitee.get_by_label("Email").fill(INVITEE)
    invitee.get_by_label("Password").fill("front desk's own password")
    invitee.get_by_role("button", name="Sign in").click()

    invitee.get_by_role("link", name="Security").click()
    invitee.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(invitee.locator(".qr svg")).to_be_visible()
    app = pyotp.TOTP(invitee.locator("#totp-secret").inner_text())
    invitee.get_by_label("Code from the app").fill(app.now())
    invitee.get_by_role("button", name="Turn on").click()
    expect(invitee.locator("#recovery-codes li")).to_have_count(10)

    invitee.get_by_role("button", name="Sign out").click()
    invitee.get_by_label("Email").fill(INVITEE)
    invitee.get_by_label("Password").fill("front desk's own password")
    invitee.get_by_role("button", name="Sign in").click()
    expect(invitee.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    invitee.get_by_label("Code", exact=True).fill(app.at(time.time() + 30))  # the next one
    invitee.get_by_label("Remember this browser for 30 days").check()
    invitee.get_by_role("button", name="Sign in").click()
    expect(invitee.get_by_text(f"{INVITEE} · bright-dental")).to_be_visible()
    assert refused == []
