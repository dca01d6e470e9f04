"""The JS API and display rules in a real browser, from a site owner's own pages.

The host site uses its own button (``data-widget-server-open``) with the floating
button turned off (``data-button="none"``), listens to ``WidgetServer.on`` events,
and carries campaign parameters in its URL; a second widget shows its floating
button only on some paths, after a delay.
"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from tests.browser_support import serve, start_consumer, stop
from tests.factories import create_account, create_user, create_widget, signed_in
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import Account, AllowedDomain, CallRequest, Widget
from widget_server.services.webhooks import create_endpoint
from widget_server.services.widgets import embed_snippet

pytestmark = pytest.mark.browser

EVENTS = ("open", "close", "requested", "connected", "failed", "scheduled")
# Registered before the loader runs: the page hears the API once it is ready.
LISTEN = ("<script>addEventListener('widget-server:ready', () => { window.events = []; "
          f"for (const t of {list(EVENTS)}) WidgetServer.on(t, e => events.push(e.type)); }});"
          "</script>")


def _host_app(own_button_snippet: str, rules_snippet: str) -> Flask:
    host = Flask("js_api_host")

    @host.get("/landing")
    def landing():
        return ("<!doctype html><title>Boilers</title><h1>Winter boiler offer</h1>"
                "<button type=button data-widget-server-open>Talk to an engineer</button>"
                f"{LISTEN}{own_button_snippet}")

    @host.get("/<path:path>")
    def any_page(path):
        return f"<!doctype html><title>{path}</title><h1>{path}</h1>{rules_snippet}"

    return host


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = create_app({
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("js_api") / "instance"),
        "DEVELOPMENT": True,
        "SIMULATOR_SPEED": 0.5,
        "ALTCHA_MAX_NUMBER": 5000,
        "CAP_PER_IP": 50,
        "LIMIT_CALL_POST": "100/minute",
        "PROVIDER_PRIVATE_HOSTS": ["127.0.0.1"],  # the webhook receiver
        "CONFIG_CACHE_SECONDS": 0,  # the tests edit the widget between page loads
    })
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        account = create_account(name="acme-heating")
        user_id, account_id = create_user(account=account).id, account.id
        own, rules = (create_widget(account=account, domains=[]),
                      create_widget(account=account, domains=[], show_on_paths=["/shop/*"],
                                    hide_on_paths=["/shop/checkout"], show_after_seconds=1))
        ids = own.id, rules.id
    app_server = serve(app)
    app_url = f"http://127.0.0.1:{app_server.effective_port}"
    with app.app_context():
        own_snippet, rules_snippet = (embed_snippet(db.session.get(Widget, i), app_url)
                                      for i in ids)
    host_server = serve(_host_app(own_snippet.replace("<script ", '<script data-button="none" '),
                                  rules_snippet))
    with app.app_context():
        db.session.add_all([AllowedDomain(widget_id=i,
                                          pattern=f"localhost:{host_server.effective_port}")
                            for i in ids])
        db.session.commit()
    consumer = start_consumer(app)
    yield {"app": app, "host_url": f"http://localhost:{host_server.effective_port}",
           "user_id": user_id, "account_id": account_id}
    consumer.stop(graceful=True)
    for server in (app_server, host_server):
        stop(server)
    with app.app_context():
        db.engine.dispose()


def _events(page) -> list[str]:
    return page.evaluate("() => window.events")


def _ask(page, site, number: str):
    """From the campaign's landing page, the page's own button opens the form; sends it."""
    page.goto(f"{site['host_url']}/landing?utm_source=google&utm_medium=cpc"
              "&utm_campaign=winter&gclid=Cj0KCQ&email=jo%40mail.example")
    page.wait_for_function("() => Array.isArray(window.events)")
    own = page.get_by_role("button", name="Talk to an engineer")
    own.click()
    frame = page.frame_locator("iframe[title='Call me back']")
    expect(frame.get_by_text("Verified")).to_be_visible()
    frame.get_by_label("Your phone number").fill(number)
    frame.get_by_label("I agree to be called back").check()
    frame.get_by_role("button", name="Call me back").click()
    return own, frame


def test_the_pages_own_button_opens_the_form_and_hears_the_call_in_order(page, site,
                                                                         receiver):
    app = site["app"]
    with app.app_context():
        owner = db.session.get(Account, site["account_id"])
        _, secret = create_endpoint(owner, owner.id, receiver.url, ["call.completed"])
    own, frame = _ask(page, site, "+1 202 555 0177")
    # data-button="none": the floating button is never drawn.
    expect(page.locator("widget-server-button").get_by_role(
        "button", name="Call me back")).to_have_count(0)
    # The simulated call takes seconds (SIMULATOR_SPEED 0.5); under a loaded test run
    # "Connected" was still showing at the default 5 s.
    expect(frame.locator("#progress").get_by_role("status")).to_contain_text(
        "Completed", timeout=15_000)
    assert _events(page) == ["open", "requested", "connected"]

    # Escape closes the dialog, says so, and gives the focus back to the page's button.
    frame.locator("#progress").press("Escape")
    expect(page.locator("iframe[title='Call me back']")).to_be_hidden()
    expect(own).to_be_focused()
    assert _events(page) == ["open", "requested", "connected", "close"]
    page.evaluate("() => WidgetServer.open()")
    expect(page.locator("iframe[title='Call me back']")).to_be_visible()
    page.evaluate("() => WidgetServer.close()")
    expect(page.locator("iframe[title='Call me back']")).to_be_hidden()
    page.wait_for_function("() => events.length == 6")  # a dialog's close event is queued
    assert _events(page)[-2:] == ["open", "close"]

    # The page and its campaign reached the stored call, the admin's report and the
    # site's webhook; the rest of the query (an e-mail address) did not.
    with app.app_context():
        call = db.session.query(CallRequest).filter_by(visitor_number="+12025550177").one()
        assert call.page_url == f"{site['host_url']}/landing"
        assert call.campaign == {"utm_source": "google", "utm_medium": "cpc",
                                 "utm_campaign": "winter", "gclid": "Cj0KCQ"}
    report = signed_in(app, site["user_id"]).get("/admin/reports/calls?utm_source=google")
    text = report.get_data(as_text=True)
    assert call.public_id in text and "google / cpc / winter" in text
    assert "mail.example" not in text
    [hook] = receiver.wait_for(1)
    data = Webhook(secret).verify(hook.body, hook.headers)["data"]
    assert (data["id"], data["page_url"], data["campaign"]) == (
        call.public_id, call.page_url, call.campaign)
    assert "mail.example" not in json.dumps(data)


def test_a_failed_call_is_told_to_the_page(page, site):
    _, frame = _ask(page, site, "+1 202 555 0002")  # the simulator's busy line
    expect(frame.locator("#progress").get_by_role("status")).to_contain_text("Call failed")
    assert _events(page) == ["open", "requested", "failed"]


def test_the_floating_button_shows_only_on_its_paths_and_after_its_delay(page, site):
    button = page.locator("widget-server-button").get_by_role("button", name="Call me back")
    page.goto(f"{site['host_url']}/shop/boilers")
    page.wait_for_timeout(400)
    expect(button).to_be_hidden()  # not before its second on the page
    expect(button).to_be_visible(timeout=3000)
    for path in ("/shop/checkout", "/about"):
        page.goto(site["host_url"] + path)
        expect(page.locator("widget-server-button")).to_have_count(1)
        page.wait_for_timeout(1500)
        expect(button).to_be_hidden()
