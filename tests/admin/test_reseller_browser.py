"""A reseller's whole day in a real browser (Debian's chromium, driven by Playwright).

The reseller signs in, creates a client, issues it a widget whitelisted for a
site, and copies the snippet from the page; the site pastes that very text, a
visitor places a call through it, and the call shows in the reseller's
reports and usage. The app runs on a real server with the queue consumed in
threads of this process; the site is a second origin on localhost.
"""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect

from tests.browser_support import serve, start_consumer
from widget_server import create_app
from widget_server.demo import host_page_app
from widget_server.extensions import db
from widget_server.models import Account, User
from widget_server.services.users import hash_password

pytestmark = pytest.mark.browser

EMAIL = "owner@north.example"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """The app with an operator and a reseller (no provider account: the simulator),
    and the client's site, which serves whatever snippet it is given."""
    app = create_app({
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("reseller") / "instance"),
        "DEVELOPMENT": True,
        "SIMULATOR_SPEED": 0.2,
        "ALTCHA_MAX_NUMBER": 5000,
        "CONFIG_CACHE_SECONDS": 0,  # the tests edit the widget between page loads
    })
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        operator = Account(name="operator", kind="operator")
        db.session.add(operator)
        db.session.flush()
        north = Account(name="north", kind="reseller", parent_id=operator.id,
                        daily_call_cap=100, monthly_call_cap=1000)
        db.session.add(north)
        db.session.flush()
        db.session.add(User(account_id=north.id, email=EMAIL, role="owner",
                            password_hash=hash_password(PASSWORD)))
        db.session.commit()
    app_server = serve(app)
    site = {"page": None}

    def client_site(environ, start_response):
        """The client's site: blank until the snippet copied from the admin is pasted."""
        if site["page"] is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"No page yet"]
        return site["page"](environ, start_response)

    site_server = serve(client_site)
    consumer = start_consumer(app)
    yield {"app_url": f"http://127.0.0.1:{app_server.effective_port}",
           "site_host": f"localhost:{site_server.effective_port}",
           "paste": lambda snippet: site.update(page=host_page_app(snippet))}
    consumer.stop(graceful=True)
    for server in (app_server, site_server):
        server.close()
    with app.app_context():
        db.engine.dispose()


def test_a_reseller_issues_a_widget_to_a_new_client_whose_site_places_a_call_seen_in_the_reports(
        page, servers):
    admin = servers["app_url"] + "/admin"
    # The admin's Content-Security-Policy must not break its own pages.
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)

    page.goto(f"{admin}/sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="north")).to_be_visible()

    # A new client under the reseller, with an allowance within the reseller's own.
    page.goto(f"{admin}/accounts")
    page.get_by_role("link", name="New account").click()
    page.get_by_label("Name").fill("bright-dental")
    expect(page.get_by_label("Under").locator("option:checked")).to_have_text("north (reseller)")
    expect(page.get_by_label("Kind")).to_have_value("client")
    page.get_by_label("Daily allowance").fill("20")
    page.get_by_label("Monthly allowance").fill("200")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Account bright-dental created under north.")).to_be_visible()
    expect(page.get_by_role("row", name="bright-dental")).to_be_visible()

    # A widget issued to the client, on the simulator, ringing one business number.
    page.goto(f"{admin}/widgets")
    page.get_by_role("link", name="New widget").click()
    page.get_by_label("Account", exact=True).select_option(label="bright-dental (client)")
    page.get_by_label("Name", exact=True).fill("Bright Dental front desk")
    page.get_by_label("Business numbers to ring").fill("+1 202 555 0100")
    expect(page.get_by_label("Provider account")).to_have_value("0")
    page.get_by_role("button", name="Create widget").click()
    expect(page.get_by_role("heading", name="Widget Bright Dental front desk")).to_be_visible()
    expect(page.get_by_text("Of bright-dental")).to_be_visible()

    # The client's site goes on the whitelist; then the snippet is copied off the page.
    page.get_by_label("Domain").fill(servers["site_host"])
    page.get_by_role("button", name="Add domain").click()
    expect(page.locator("#domains code", has_text=servers["site_host"])).to_be_visible()
    snippet = page.locator("#snippet-code").inner_text()
    assert snippet.startswith(f'<script async src="{servers["app_url"]}/embed/v1/loader.js"')
    servers["paste"](snippet)

    # A visitor on the client's site asks for a call and watches it complete.
    visitor = page.context.new_page()
    visitor.goto(f"http://{servers['site_host']}/")
    visitor.get_by_role("button", name="Call me back").click()
    frame = visitor.frame_locator("iframe[title='Call me back']")
    expect(frame.get_by_text("Verified")).to_be_visible()
    frame.get_by_label("Your phone number").fill("+1 202 555 0123")
    frame.get_by_label("I agree to be called back").check()
    frame.get_by_role("button", name="Call me back").click()
    # A busy machine may take a while to dial; the status shows each step until then.
    expect(frame.locator("#progress").get_by_role("status")).to_contain_text(
        "Completed", timeout=20_000)
    visitor.close()

    # The call is in the client's report: the reseller filters the calls by its widget.
    page.goto(f"{admin}/reports/calls")
    page.get_by_label("Widget").select_option(label="Bright Dental front desk")
    page.get_by_role("button", name="Show calls").click()
    expect(page.get_by_text("1 call matches.")).to_be_visible()
    row = page.get_by_role("row", name="+12025550123")
    expect(row).to_contain_text("bright-dental")
    expect(row).to_contain_text("completed")
    expect(page.locator(".report-chart .legend .swatch").first).to_be_visible()

    # And in the reseller's usage: one call today for that client.
    page.goto(f"{admin}/reports/usage")
    client_row = page.get_by_role("row", name="bright-dental")
    expect(client_row.get_by_role("cell").nth(0)).to_have_text("1")
    assert refused == [], refused
