"""Every state of the widget, in English and Arabic, on a desktop and a phone: axe-core
(axe-playwright-python, its axe.min.js bundled, nothing fetched) finds no violation of
any impact on the host page with the dialog open nor inside the frame.

Each state is also saved as a PNG for a person to look at, in the folder named by
``WIDGET_SERVER_SCREENSHOTS`` (by default ``screenshots/`` in the repository, which git
ignores), as ``<state>-<language>-<device>.png``.

The simulator's number endings (README) reach the final states; the progress states,
which a real call passes through too quickly to look at, come from a status endpoint
the test answers, with the server's own sentences.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask, abort, render_template
from flask_babel import force_locale
from flask_migrate import upgrade
from playwright.sync_api import expect

from tests.browser_support import serve, start_consumer, stop
from tests.factories import create_account, create_widget
from widget_server import PROJECT_ROOT, create_app
from widget_server.calls.hours import DAYS
from widget_server.calls.status import visitor_message
from widget_server.embed.texts import frame_texts
from widget_server.extensions import db
from widget_server.models import AllowedDomain, CallRequest, Widget
from widget_server.services.widgets import embed_snippet

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(os.environ.get("WIDGET_SERVER_SCREENSHOTS") or PROJECT_ROOT / "screenshots")
PROMISES = {"en": "We call you back within 30 seconds", "ar": "نتصل بك خلال 30 ثانية"}
DEVICES = {"desktop": {"viewport": {"width": 1280, "height": 800}}, "phone": "Pixel 7"}
# Each run calls numbers of its own area code: the server cools down a number that
# did not answer, and the simulator reads only the last four digits.
AREA_CODES = {("en", "desktop"): "202", ("en", "phone"): "212", ("ar", "desktop"): "312",
              ("ar", "phone"): "415"}
# The simulator's endings and the states they end in (README).
FAILURES = [("busy", "0002", "failed"), ("no-answer", "0003", "failed"),
            ("network-failure", "0004", "failed"),
            ("business-not-reached", "0006", "failed"), ("refused", "0005", "rejected")]
PROGRESS = ["queued", "dialing", "ringing", "connected"]
AXE = Axe()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app, and the demo host page embedding, per language, a widget that is open
    and one that is closed and books call-backs."""
    app = create_app({
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("accessibility") / "instance"),
        "DEVELOPMENT": True,
        "SIMULATOR_SPEED": 0.2,
        "ALTCHA_MAX_NUMBER": 5000,
        "CAP_PER_IP": 100, "CEILING_PER_IP": 100, "CAP_PER_NUMBER": 20,
        "CEILING_PER_NUMBER": 20, "CAP_PER_NUMBER_PER_MINUTE": 20,
        "LIMIT_CALL_POST": "200/minute", "LIMIT_FRAME": "300/minute",
        "LIMIT_CHALLENGE": "300/minute", "LIMIT_CALL_STATUS": "1000/minute",
    })
    # Closed today and tomorrow (the widget's zone is UTC): open two days on.
    later = DAYS[(datetime.now(UTC).weekday() + 2) % 7]
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        owner = create_account(name="acme-plumbing")
        ids = {}
        for language, promise in PROMISES.items():
            ids[language, "open"] = create_widget(account=owner, domains=[], language=language,
                                                  promise_text=promise).id
            ids[language, "closed"] = create_widget(
                account=owner, domains=[], language=language, promise_text=promise,
                outside_hours="callback", opening_hours={later: [["09:00", "17:00"]]}).id
    app_server = serve(app)
    app_url = f"http://127.0.0.1:{app_server.effective_port}"
    with app.app_context():
        snippets = {f"{language}-{kind}": embed_snippet(db.session.get(Widget, widget_id),
                                                        app_url)
                    for (language, kind), widget_id in ids.items()}
    host = Flask("accessibility_host", template_folder=str(PROJECT_ROOT / "templates"))

    @host.get("/<name>")
    def host_page(name: str):
        if name not in snippets:
            abort(404)
        return render_template("demo/host.html", snippet=snippets[name])

    host_server = serve(host)
    with app.app_context():
        for widget_id in ids.values():
            db.session.add(AllowedDomain(widget_id=widget_id,
                                         pattern=f"localhost:{host_server.effective_port}"))
        db.session.commit()
    consumer = start_consumer(app)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield {"app": app, "host_url": f"http://localhost:{host_server.effective_port}"}
    consumer.stop(graceful=True)
    for server in (app_server, host_server):
        stop(server)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=list(DEVICES))
def device(request, browser, playwright_driver):
    """A desktop window, or a phone as Playwright describes it; the page and its name."""
    described = DEVICES[request.param]
    if isinstance(described, str):
        described = {key: value for key, value in playwright_driver.devices[described].items()
                     if key != "default_browser_type"}
    context = browser.new_context(**described)
    context.set_default_timeout(15_000)
    yield context.new_page(), request.param
    context.close()


class Visit:
    """One visitor's page in one language and device: opens the widget, reaches states,
    and at each checks both documents with axe and saves a screenshot."""

    def __init__(self, site, page, language: str, device: str):
        self.site, self.page, self.language, self.device = site, page, language, device
        self.violations: list[str] = []

    def open(self, kind: str = "open", check_button: bool = False):
        self.page.goto(f"{self.site['host_url']}/{self.language}-{kind}")
        button = self.page.locator("widget-server-button .b").first
        expect(button).to_be_visible()
        if check_button:
            self.check("button")
        button.click()
        self.frame = self.page.frame_locator("widget-server-button iframe")
        expect(self.frame.locator("#captcha")).to_be_checked()

    def sentence(self, status: str, reason: str | None = None) -> str:
        """What the frame says of a call in this state, in the visit's language."""
        with self.site["app"].test_request_context(), force_locale(self.language):
            return visitor_message(CallRequest(status=status, reason=reason))

    def form_text(self, key: str) -> str:
        with self.site["app"].test_request_context(), force_locale(self.language):
            return frame_texts()[key]

    def press(self, selector: str, key: str = "Enter"):
        """The keyboard, not a tap: chromium sometimes routes a tap just after a
        screenshot to the host page instead of the (out-of-process) frame."""
        self.frame.locator(selector).press(key)

    def send(self, ending: str):
        number = f"+1 {AREA_CODES[self.language, self.device]} 555 {ending}"
        self.frame.locator("#phone").fill(number)
        if not self.frame.locator("#consent").is_checked():
            self.press("#consent", "Space")
        self.press("#send")

    def shows(self, status: str, message: str):
        try:
            expect(self.frame.locator("#w")).to_have_attribute("data-status", status)
        except AssertionError as error:
            # A refusal of the form says why on the form.
            refusals = self.frame.locator(".err").all_text_contents()
            raise AssertionError(f"no {status} call; the form says {refusals}") from error
        expect(self.frame.locator("#message")).to_have_text(message)

    def check(self, state: str):
        """axe on the host page (its dialog open) and in the frame; then the picture."""
        found = [("host page", AXE.run(self.page, options={
            "iframes": False, "resultTypes": ["violations"]}))]
        framed = self.page.locator("widget-server-button iframe")
        if framed.count():
            found.append(("frame", AXE.run(framed.element_handle().content_frame(),
                                           options={"resultTypes": ["violations"]})))
        for where, results in found:
            if results.violations_count:
                self.violations.append(f"{state} ({self.language}, {self.device}), {where}: "
                                       + results.generate_report())
        self.page.screenshot(path=SCREENSHOTS / f"{state}-{self.language}-{self.device}.png")

    def assert_clean(self):
        assert not self.violations, "\n\n".join(self.violations)


@pytest.mark.parametrize("language", list(PROMISES))
def test_the_form_its_errors_and_a_call_under_way_to_completion(site, device, language):
    page, name = device
    visit = Visit(site, page, language, name)
    visit.open(check_button=True)
    expect(visit.frame.locator(".promise")).to_have_text(PROMISES[language])
    visit.check("form")
    visit.press("#send")
    expect(visit.frame.locator("#phone-err")).to_have_text(visit.form_text("phone_missing"))
    visit.check("field-error")
    page.route("**/embed/v1/calls", lambda route: route.abort())
    visit.send("0123")
    expect(visit.frame.locator("#form-err")).to_have_text(visit.form_text("network"))
    visit.check("form-error")
    page.unroute("**/embed/v1/calls")
    # The call is placed for real; what the frame hears of it is the test's, one state
    # at a time, until the real status (completed by then) is let through.
    status = {"now": "queued"}
    page.route("**/embed/v1/calls/*", lambda route: route.fulfill(json={
        "call_id": "x", "attempt": 1, "status": status["now"], "reason": None,
        "message": visit.sentence(status["now"]), "events": []}))
    visit.send("0123")
    for state in PROGRESS:
        status["now"] = state
        visit.shows(state, visit.sentence(state))
        visit.check(state)
    page.unroute("**/embed/v1/calls/*")
    visit.shows("completed", visit.sentence("completed"))
    visit.check("completed")
    visit.assert_clean()


@pytest.mark.parametrize("language", list(PROMISES))
def test_every_failure(site, device, language):
    page, name = device
    visit = Visit(site, page, language, name)
    visit.open()
    reasons = {"0002": "busy", "0003": "no_answer", "0004": "network_error",
               "0005": "no_credit", "0006": "business_not_reached"}
    for state, ending, status in FAILURES:
        visit.send(ending)
        visit.shows(status, visit.sentence(status, reasons[ending]))
        visit.check(state)
        visit.press("#again")
        expect(visit.frame.locator("#captcha")).to_be_checked()
    visit.assert_clean()


@pytest.mark.parametrize("language", list(PROMISES))
def test_outside_hours_the_booking_form_and_the_booked_call(site, device, language):
    page, name = device
    visit = Visit(site, page, language, name)
    visit.open("closed")
    expect(visit.frame.locator("#slot")).to_be_visible()
    visit.check("closed-form")
    visit.send("0123")
    visit.shows("queued", visit.sentence("queued", "scheduled"))
    visit.check("scheduled")
    visit.assert_clean()
