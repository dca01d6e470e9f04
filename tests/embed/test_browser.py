"""The widget in a real browser: Debian's chromium, driven by Playwright.

The app runs on a real server (waitress) with the queue consumed in threads
of this process, as `widget-server run` does; the demo host page runs on a
second origin that the widget whitelists, and a stranger's page on a third
origin that it does not.
"""

from __future__ import annotations

import json

import pytest
import requests
from flask import Flask, request
from flask_migrate import upgrade
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser_support import serve, start_consumer, stop
from tests.factories import create_account, create_widget, solve_altcha
from widget_server import create_app
from widget_server.demo import host_page_app
from widget_server.extensions import db
from widget_server.models import AllowedDomain, CallRequest, Widget
from widget_server.security import tokens
from widget_server.services.widgets import embed_snippet

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/widget-open.png"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app, a whitelisted host page and an outside page, each on its own origin."""
    app = create_app({
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("browser") / "instance"),
        "DEVELOPMENT": True,
        # Each simulated call takes about three seconds: `connected` lasts one.
        "SIMULATOR_SPEED": 0.5,
        "ALTCHA_MAX_NUMBER": 5000,
        "CAP_PER_IP": 50,
        "LIMIT_CALL_POST": "100/minute",
        "CONFIG_CACHE_SECONDS": 0,  # the tests edit the widget between page loads
    })
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        made = create_widget(account=create_account(name="acme-plumbing"), domains=[])
        widget_id = made.id
    app_server = serve(app)
    app_url = f"http://127.0.0.1:{app_server.effective_port}"
    with app.app_context():
        embed = embed_snippet(db.session.get(Widget, widget_id), app_url)
    host_server = serve(host_page_app(embed))
    host_url = f"http://localhost:{host_server.effective_port}"
    outside_server = serve(_outside_page_app(embed))
    outside_url = f"http://localhost:{outside_server.effective_port}"
    with app.app_context():
        db.session.add(AllowedDomain(widget_id=widget_id,
                                     pattern=f"localhost:{host_server.effective_port}"))
        db.session.commit()
    consumer = start_consumer(app)
    yield {"app": app, "app_url": app_url, "host_url": host_url, "outside_url": outside_url,
           "widget_id": widget_id}
    consumer.stop(graceful=True)
    for server in (app_server, host_server, outside_server):
        stop(server)
    with app.app_context():
        db.engine.dispose()


def _outside_page_app(embed: str) -> Flask:
    """A stranger's site: it copies the snippet and frames the widget by its URL."""
    outside = Flask("outside_page")

    @outside.get("/")
    def home():
        return (f"<!doctype html><title>Not a customer</title><h1>Copied widget</h1>"
                f"{embed}")

    @outside.get("/framed")
    def framed():
        return (f'<!doctype html><title>Framing</title>'
                f'<iframe id="stolen" title="stolen" src="{request.args["src"]}"></iframe>')

    return outside


def _calls_to(app, e164: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CallRequest).where(
            CallRequest.visitor_number == e164))


def _open_widget(page, site):
    page.goto(site["host_url"])
    button = page.get_by_role("button", name="Call me back")
    button.click()
    frame = page.frame_locator("iframe[title='Call me back']")
    expect(frame.get_by_text("Verified")).to_be_visible()
    return button, frame


def test_a_visitor_on_the_host_page_asks_for_a_call_and_watches_it_connect_and_complete(
        page, site):
    page.goto(site["host_url"])
    button = page.get_by_role("button", name="Call me back")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-haspopup", "dialog")
    assert button.evaluate("b => b.getRootNode() instanceof ShadowRoot")

    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    frame = page.frame_locator("iframe[title='Call me back']")
    # The proof of work is solved as soon as the form is shown.
    expect(frame.get_by_text("Verified")).to_be_visible()
    expect(frame.get_by_role("checkbox", name="I'm not a robot")).to_be_checked()
    # A widget for one country asks for none.
    expect(frame.locator("#country")).to_have_count(0)
    frame.get_by_label("Your phone number").fill("+1 202 555 0123")
    frame.get_by_label("I agree to be called back").check()
    page.screenshot(path=SCREENSHOT)
    frame.get_by_role("button", name="Call me back").click()

    progress = frame.locator("#progress")
    expect(progress).to_be_focused()
    expect(progress.get_by_role("status")).to_contain_text("Connected")
    expect(progress.get_by_role("status")).to_contain_text("You are connected")
    expect(progress.get_by_role("status")).to_contain_text("Completed")
    assert _calls_to(site["app"], "+12025550123") == 1

    # Escape inside the frame closes the dialog and gives the focus back to the button.
    progress.press("Escape")
    expect(page.locator("iframe[title='Call me back']")).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()


def _layout(page) -> list:
    return page.evaluate("""() => [document.documentElement.scrollHeight,
        ...[...document.querySelectorAll('header, main, footer')].map(e => {
            const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })]""")


def test_the_button_appears_without_moving_anything_on_the_host_page(page, site):
    page.route("**/embed/v1/loader.js", lambda route: route.abort())
    page.goto(site["host_url"])
    without_widget = _layout(page)
    page.unroute("**/embed/v1/loader.js")
    page.goto(site["host_url"])
    expect(page.get_by_role("button", name="Call me back")).to_be_visible()
    assert _layout(page) == without_widget


def test_a_national_number_is_sent_with_the_calling_code_of_the_chosen_country(page, site):
    app = site["app"]
    with app.app_context():
        widget = db.session.get(Widget, site["widget_id"])
        widget.allowed_countries = ["US", "GB"]
        db.session.commit()
    try:
        _, frame = _open_widget(page, site)
        frame.get_by_label("Country").select_option("GB")
        frame.get_by_label("Your phone number").fill("020 7946 0018")
        frame.get_by_label("I agree to be called back").check()
        frame.get_by_role("button", name="Call me back").click()
        expect(frame.locator("#progress")).to_be_visible()
        assert _calls_to(app, "+442079460018") == 1
    finally:
        with app.app_context():
            db.session.get(Widget, site["widget_id"]).allowed_countries = []
            db.session.commit()


def test_a_refused_number_and_a_busy_line_are_explained_and_trying_again_keeps_the_number(
        page, site):
    _, frame = _open_widget(page, site)
    phone = frame.get_by_label("Your phone number")
    phone.fill("+44 20 7946 0018")
    frame.get_by_label("I agree to be called back").check()
    frame.get_by_role("button", name="Call me back").click()
    expect(frame.locator("#phone-err")).to_have_text("We can only call numbers in United States.")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_be_focused()

    # A national number is read in the home country; 0002 is the simulator's busy line.
    phone.fill("202 555 0002")
    frame.get_by_role("button", name="Call me back").click()
    status = frame.locator("#progress").get_by_role("status")
    expect(status).to_contain_text("Call failed")
    expect(status).to_contain_text("Your line was busy. Please try again in a few minutes.")
    # Trying again opens a fresh form with the number kept, and sends nothing by itself.
    frame.get_by_role("button", name="Try again").click()
    expect(frame.get_by_label("Your phone number")).to_have_value("202 555 0002")
    expect(frame.get_by_label("I agree to be called back")).to_be_checked()
    expect(frame.get_by_text("Verified")).to_be_visible()
    page.wait_for_timeout(500)
    assert _calls_to(site["app"], "+12025550002") == 1


def _spoil_call_posts(page, how_many: int) -> list[str]:
    """Send the first ``how_many`` call requests with a nonce the server cannot read."""
    spoiled = []

    def spoil(route):
        body = route.request.post_data_json
        if len(spoiled) < how_many:
            spoiled.append(body["nonce"])
            body["nonce"] = "x" + body["nonce"]
            return route.continue_(post_data=json.dumps(body))
        return route.continue_()

    page.route("**/embed/v1/calls", spoil)
    return spoiled


def _ask_for_a_call(page, site, number: str):
    """Open the widget on the host page and send the form for ``number``; the frame."""
    _, frame = _open_widget(page, site)
    frame.get_by_label("Your phone number").fill(number)
    frame.get_by_label("I agree to be called back").check()
    frame.get_by_role("button", name="Call me back").click()
    return frame


def _requests_for(page, path: str) -> list[str]:
    """The URLs of every request the page and its frames make under ``path``."""
    seen = []
    page.on("request", lambda r: seen.append(r.url) if path in r.url else None)
    return seen


def test_when_the_first_business_number_misses_the_frame_follows_the_next_one(page, site):
    """The server rings the business's next number when the first does not answer (simulator
    0007), and the visitor's frame follows that attempt to its end."""
    with site["app"].app_context():
        widget = db.session.get(Widget, site["widget_id"])
        numbers = widget.business_numbers
        widget.business_numbers = [*numbers, "+12025550111"]
        db.session.commit()
    try:
        _, frame = _open_widget(page, site)
        frame.get_by_label("Your phone number").fill("202 555 0007")
        frame.get_by_label("I agree to be called back").check()
        frame.get_by_role("button", name="Call me back").click()
        status = frame.locator("#progress").get_by_role("status")
        expect(status).to_contain_text("The business answered", timeout=15_000)
        expect(status).to_contain_text("Completed", timeout=15_000)
        expect(frame.get_by_role("button", name="Try again")).to_be_hidden()
        with site["app"].app_context():
            assert [(call.business_number, call.status) for call in db.session.scalars(
                select(CallRequest).where(CallRequest.visitor_number == "+12025550007")
                .order_by(CallRequest.id))] == [("+12025550100", "failed"),
                                                ("+12025550111", "completed")]
    finally:
        with site["app"].app_context():
            db.session.get(Widget, site["widget_id"]).business_numbers = numbers
            db.session.commit()


def test_a_refused_form_nonce_renews_the_form_and_sends_what_the_visitor_typed_again(
        page, site):
    spoiled = _spoil_call_posts(page, 1)
    frames, renewals = _requests_for(page, "/embed/v1/frame/"), _requests_for(page, "/nonce/")
    frame = _ask_for_a_call(page, site, "+1 202 555 0188")

    # The frame asks its own origin for a fresh nonce and sends the same request
    # once more, without reloading: what was typed never leaves the frame's page.
    expect(frame.locator("#progress").get_by_role("status")).to_contain_text("Connected")
    assert len(spoiled) == 1 and _calls_to(site["app"], "+12025550188") == 1
    assert len(frames) == 1 and len(renewals) == 1
    [widget_frame] = [f for f in page.frames if "/embed/v1/frame/" in f.url]
    # Its URL is still the loader's: the host page's URL in the fragment, nothing typed.
    assert widget_frame.url.endswith("#" + requests.utils.quote(site["host_url"] + "/", safe=""))
    assert "0188" not in widget_frame.url


def test_a_form_refused_again_after_its_renewal_says_so_instead_of_reloading_forever(
        page, site):
    spoiled = _spoil_call_posts(page, 10)
    frame = _ask_for_a_call(page, site, "+1 202 555 0189")

    expect(frame.locator("#form-err")).to_have_text("This form is not valid; please reload it.")
    page.wait_for_timeout(1000)
    assert len(spoiled) == 2 and _calls_to(site["app"], "+12025550189") == 0


def test_a_page_outside_the_whitelist_cannot_show_the_frame_nor_place_a_call(page, site):
    app, app_url = site["app"], site["app_url"]
    with app.app_context():
        widget = db.session.get(Widget, site["widget_id"])
        token, nonce = tokens.embed_token(widget), tokens.form_nonce(widget)
    frame_url = (f"{app_url}/embed/v1/frame/{token}"
                 f"?origin={site['host_url']}")  # a whitelisted origin, falsely claimed

    # The copied snippet draws nothing: the config is refused to this origin.
    with page.expect_console_message(lambda m: "not shown" in m.text):
        page.goto(site["outside_url"])
    expect(page.locator("widget-server-button")).to_have_count(0)

    # Chromium refuses to render the frame here (CSP frame-ancestors).
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text) as refused:
        page.goto(f"{site['outside_url']}/framed?src={requests.utils.quote(frame_url)}")
    assert "has been blocked" in refused.value.text
    stolen = page.frame_locator("#stolen")
    expect(stolen.locator("form")).to_have_count(0)

    # A scripted POST with every other field valid: the browser's preflight gets no
    # CORS grant, so the request is never sent and the page reads nothing.
    body = {"token": token, "nonce": nonce, "phone": "+12025550199", "consent": True,
            "page_origin": site["host_url"], "captcha": solve_altcha(app.test_client())}
    outcome = page.evaluate(
        """([url, body]) => fetch(url, {method: 'POST', mode: 'cors',
               headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
             .then(r => 'read ' + r.status, e => 'blocked ' + e.name)""",
        [f"{app_url}/embed/v1/calls", body])
    assert outcome == "blocked TypeError"
    assert _calls_to(app, "+12025550199") == 0

    # Sent anyway with this page's Origin (no browser needed for that), the server refuses.
    refused = requests.post(f"{app_url}/embed/v1/calls", json=body,
                            headers={"Origin": site["outside_url"]}, timeout=10)
    assert refused.status_code == 403
    assert refused.json()["error"] == "origin_not_allowed"
    assert _calls_to(app, "+12025550199") == 0

    # The same body from the frame's own origin is accepted: only the origin was wrong.
    accepted = requests.post(f"{app_url}/embed/v1/calls", json=body,
                             headers={"Origin": app_url}, timeout=10)
    assert accepted.status_code == 202, accepted.text
    assert _calls_to(app, "+12025550199") == 1


# -- the frame acts only on what the visitor does in it, framed by a whitelisted page --

REFUSED = "This form only works on the website it belongs to."
# Every flag an outside page could hope the frame reads: number, country, consent, send.
FLAGS = "phone=%2B12025550166&country=US&consent=1&consent_given=true&resend=1&send=1"


def _flagged_frame_url(site) -> str:
    """The frame's URL as the loader builds it, with the flags in query and fragment."""
    with site["app"].app_context():
        token = tokens.embed_token(db.session.get(Widget, site["widget_id"]))
    return (f"{site['app_url']}/embed/v1/frame/{token}?origin={site['host_url']}&{FLAGS}"
            f"#{FLAGS}")


def _as_a_browser_without_its_own_checks(page, *, fetch_metadata: bool, csp: bool):
    """Serve the frame as to a browser that sends no Fetch Metadata and (``csp=False``)
    enforces no frame-ancestors: only frame.js's own checks are left."""
    dropped = ("content-encoding", "content-length", "transfer-encoding") + (
        () if csp else ("content-security-policy",))

    def refetch(route):
        headers = {name: value for name, value in route.request.headers.items()
                   if name != "accept-encoding"
                   and (fetch_metadata or not name.startswith("sec-fetch-"))}
        answer = requests.get(route.request.url, headers=headers, timeout=10)
        route.fulfill(status=answer.status_code, body=answer.content, headers={
            name: value for name, value in answer.headers.items()
            if name.lower() not in dropped})

    page.route("**/embed/v1/frame/**", refetch)


def _nothing_was_sent(page, site, calls: list[str]):
    page.wait_for_timeout(1000)  # longer than an ALTCHA solve at this difficulty
    assert calls == [] and _calls_to(site["app"], "+12025550166") == 0


def test_a_foreign_page_that_sends_the_visitor_to_the_frame_gets_a_refusal_and_no_call(
        page, site):
    calls = _requests_for(page, "/embed/v1/calls")
    page.goto(site["outside_url"])
    with page.expect_response(lambda r: "/embed/v1/frame/" in r.url) as answered:
        page.evaluate("url => { window.name = 'phone=+12025550166&resend=1'; "
                      "location.href = url; }", _flagged_frame_url(site))
    # Chromium says it is a top-level document: the server refuses, in a sentence.
    assert answered.value.status == 403
    expect(page.locator("#refused")).to_have_text(REFUSED)
    expect(page.locator("form")).to_have_count(0)
    _nothing_was_sent(page, site, calls)


def test_a_top_level_frame_refuses_itself_where_the_browser_sends_no_fetch_metadata(
        page, site):
    _as_a_browser_without_its_own_checks(page, fetch_metadata=False, csp=True)
    calls, challenges = _requests_for(page, "/embed/v1/calls"), _requests_for(page, "/challenge")
    page.goto(site["outside_url"])
    with page.expect_response(lambda r: "/embed/v1/frame/" in r.url) as answered:
        page.evaluate("url => { location.href = url; }", _flagged_frame_url(site))
    assert answered.value.status == 200  # served: frame.js sees window.top === window
    expect(page.get_by_role("alert")).to_have_text(REFUSED)
    expect(page.locator("form, #phone, #consent")).to_have_count(0)
    _nothing_was_sent(page, site, calls)
    assert challenges == []


def _add_flagged_frame(frame, site):
    """An iframe of the frame's URL, with the flags, in ``frame``'s page."""
    frame.evaluate("""([url, name]) => { const f = document.createElement('iframe');
        f.title = 'flagged'; f.name = name; f.src = url; document.body.append(f); }""",
                   [_flagged_frame_url(site), FLAGS])


def _widgets_nested_under_a_foreign_page(page, site):
    """A foreign page frames the whitelisted page, where the visitor opens the widget,
    and where the frame's URL with the flags is framed too."""
    page.goto(f"{site['outside_url']}/framed?src={requests.utils.quote(site['host_url'])}")
    host = page.frame_locator("#stolen")
    host.get_by_role("button", name="Call me back").click()
    [host_frame] = [f for f in page.frames if f.url.startswith(site["host_url"])]
    _add_flagged_frame(host_frame, site)
    return [host.frame_locator(f"iframe[title='{title}']")
            for title in ("Call me back", "flagged")]


def test_a_frame_nested_under_a_whitelisted_page_by_a_foreign_one_is_not_shown(page, site):
    calls = _requests_for(page, "/embed/v1/calls")
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text):
        widgets = _widgets_nested_under_a_foreign_page(page, site)
    for widget in widgets:
        expect(widget.locator("form")).to_have_count(0)
    _nothing_was_sent(page, site, calls)


def test_the_frame_checks_its_ancestors_itself_where_the_csp_is_not_enforced(page, site):
    _as_a_browser_without_its_own_checks(page, fetch_metadata=True, csp=False)
    calls, challenges = _requests_for(page, "/embed/v1/calls"), _requests_for(page, "/challenge")
    # location.ancestorOrigins lists the foreign page above the whitelisted one.
    for widget in _widgets_nested_under_a_foreign_page(page, site):
        expect(widget.get_by_role("alert")).to_have_text(REFUSED)
        expect(widget.locator("form, #phone, #consent")).to_have_count(0)
    _nothing_was_sent(page, site, calls)
    assert challenges == []


def test_a_frame_on_the_whitelisted_page_fills_and_sends_nothing_from_its_url_or_name(
        page, site):
    calls = _requests_for(page, "/embed/v1/calls")
    page.goto(site["host_url"])
    _add_flagged_frame(page, site)
    frame = page.frame_locator("iframe[title='flagged']")
    expect(frame.get_by_text("Verified")).to_be_visible()
    expect(frame.get_by_label("Your phone number")).to_have_value("")
    expect(frame.get_by_label("I agree to be called back")).not_to_be_checked()
    _nothing_was_sent(page, site, calls)

    # The visitor's own number, tick and click: one call.
    frame.get_by_label("Your phone number").fill("+1 202 555 0166")
    frame.get_by_label("I agree to be called back").check()
    frame.get_by_role("button", name="Call me back").click()
    expect(frame.locator("#progress")).to_be_visible()
    assert len(calls) == 1 and _calls_to(site["app"], "+12025550166") == 1


def test_only_the_visitors_own_click_sends_the_form(page, site):
    calls = _requests_for(page, "/embed/v1/calls")
    _, frame = _open_widget(page, site)
    frame.get_by_label("Your phone number").fill("+1 202 555 0167")
    frame.get_by_label("I agree to be called back").check()
    # A submit a script raises, or one no button made, is not the visitor's.
    frame.locator("form").evaluate("""f => {
        f.dispatchEvent(new SubmitEvent('submit', { cancelable: true,
                                                    submitter: f.querySelector('#send') }));
        f.requestSubmit(); }""")
    page.wait_for_timeout(500)
    assert calls == [] and _calls_to(site["app"], "+12025550167") == 0
    frame.get_by_role("button", name="Call me back").click()
    expect(frame.locator("#progress")).to_be_visible()
    assert len(calls) == 1 and _calls_to(site["app"], "+12025550167") == 1
