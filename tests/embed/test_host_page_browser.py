"""The widget on demanding host pages and screens: a strict CSP, a slow widget server,
a dead one, phones with the keyboard up.

The host page sends a CSP without ``'unsafe-inline'``, allowing the widget server
only as README says; a middleware in front of the app holds back the frame to
play a slow server, and the app's server is stopped and started again on its port
to play one that dies after the button is drawn.
"""

from __future__ import annotations

import time

import pytest
from flask import Flask, Response
from flask_migrate import upgrade
from playwright.sync_api import expect

from tests.browser_support import serve, start_consumer, stop
from tests.factories import create_account, create_widget
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import AllowedDomain, Widget
from widget_server.services.widgets import embed_snippet

pytestmark = pytest.mark.browser

LOADING = "Loading the form…"
FAILED = "The form could not be loaded. Please check your connection and try again."


def _host_app(snippet: str, app_url: str) -> Flask:
    """A shop whose pages allow scripts and styles from itself only, plus the widget."""
    host = Flask("strict_host")
    csp = (f"default-src 'self'; script-src 'self' {app_url}; style-src 'self'; "
           f"connect-src 'self' {app_url}; frame-src {app_url}")

    def strict(html: str) -> Response:
        return Response(html, headers={"Content-Security-Policy": csp})

    @host.get("/")
    def home():
        return strict("<!doctype html><title>Shop</title><link rel=stylesheet href=/shop.css>"
                      "<meta name=viewport content='width=device-width,initial-scale=1'>"
                      f"<h1>Radiators</h1>{snippet}")

    @host.get("/shop.css")
    def shop_css():
        return Response("body{font:16px serif}", mimetype="text/css")

    # A page still loading a picture when the widget opens itself from the page's
    # own script: the frame must not hold back the page's load event.
    @host.get("/eager")
    def eager():
        return strict("<!doctype html><title>Eager</title><script src=/open.js></script>"
                      f"<img src=/slow.svg alt=Radiator>{snippet}")

    @host.get("/open.js")
    def open_js():
        return Response("addEventListener('widget-server:ready', () => WidgetServer.open());",
                        mimetype="text/javascript")

    @host.get("/slow.svg")
    def slow_picture():
        time.sleep(1)
        return Response("<svg xmlns='http://www.w3.org/2000/svg' width='9' height='9'/>",
                        mimetype="image/svg+xml")

    return host


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = create_app({
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("host_page") / "instance"),
        "DEVELOPMENT": True,
        "ALTCHA_MAX_NUMBER": 5000,
    })
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        # Two countries, so that the form has its country select (a tap target).
        widget_id = create_widget(account=create_account(name="acme-radiators"), domains=[],
                                  home_country="US", allowed_countries=["US", "CA"]).id
    frame_delay = {"seconds": 0}

    def slow_frames(environ, start_response):
        if environ["PATH_INFO"].startswith("/embed/v1/frame/"):
            time.sleep(frame_delay["seconds"])
        return app(environ, start_response)

    servers = {"app": serve(slow_frames)}
    app_url = f"http://127.0.0.1:{servers['app'].effective_port}"
    with app.app_context():
        snippet = embed_snippet(db.session.get(Widget, widget_id), app_url)
    servers["host"] = serve(_host_app(snippet, app_url))
    with app.app_context():
        db.session.add(AllowedDomain(widget_id=widget_id,
                                     pattern=f"localhost:{servers['host'].effective_port}"))
        db.session.commit()
    consumer = start_consumer(app)
    yield {"host_url": f"http://localhost:{servers['host'].effective_port}",
           "frame_delay": frame_delay, "servers": servers, "wsgi": slow_frames}
    consumer.stop(graceful=True)
    for server in servers.values():
        stop(server)
    with app.app_context():
        db.engine.dispose()


def _csp_violations(page) -> list[str]:
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and violations.append(message.text))
    return violations


def test_under_a_strict_csp_the_button_and_dialog_keep_their_size(page, site):
    violations = _csp_violations(page)
    page.goto(site["host_url"])
    button = page.get_by_role("button", name="Call me back")
    button.click()
    expect(page.frame_locator("iframe[title='Call me back']").get_by_text("Verified")
           ).to_be_visible()
    box = button.bounding_box()
    assert box["width"] > 120 and box["height"] >= 44
    dialog = page.get_by_role("dialog", name="Call me back").bounding_box()
    # As tall as its heading and the form's card: no white under the card.
    header = page.locator("widget-server-button header").bounding_box()["height"]
    card = page.frame_locator("iframe[title='Call me back']").locator("body").evaluate(
        "body => body.getBoundingClientRect().height")
    assert dialog["width"] == 380 and 400 < dialog["height"] < 700
    assert abs(dialog["height"] - header - card) <= 1
    # Placed at the bottom right, 20 px in, as without a CSP.
    assert (dialog["x"] + dialog["width"], dialog["y"] + dialog["height"]) == (1180, 780)
    assert violations == []


def test_a_slow_frame_shows_loading_at_once_and_holds_back_no_load_event(page, site):
    site["frame_delay"]["seconds"] = 5
    try:
        page.goto(f"{site['host_url']}/eager", wait_until="commit")
        dialog = page.get_by_role("dialog", name="Call me back")
        expect(dialog.get_by_role("status")).to_contain_text(LOADING, timeout=3000)
        expect(dialog.get_by_role("button", name="Try again")).to_be_hidden()
        page.wait_for_load_state("load", timeout=3000)
        load_ms = page.evaluate(
            "() => performance.getEntriesByType('navigation')[0].loadEventStart")
        assert 1000 <= load_ms < 2500  # the 1 s picture, not the 5 s frame
        expect(dialog.locator("iframe")).to_be_hidden()
        frame = page.frame_locator("iframe[title='Call me back']")
        expect(frame.get_by_label("Your phone number")).to_be_visible(timeout=10_000)
        expect(dialog.get_by_role("status")).to_be_hidden()
    finally:
        site["frame_delay"]["seconds"] = 0


def test_a_server_dead_after_the_button_is_drawn_gets_a_sentence_and_a_retry(page, site):
    page.goto(site["host_url"])
    button = page.get_by_role("button", name="Call me back")
    expect(button).to_be_visible()
    servers = site["servers"]
    port = servers["app"].effective_port
    stop(servers["app"])
    button.click()
    dialog = page.get_by_role("dialog", name="Call me back")
    expect(dialog.get_by_role("status")).to_contain_text(FAILED)
    expect(dialog.locator("iframe")).to_be_hidden()
    servers["app"] = serve(site["wsgi"], port=port)
    dialog.get_by_role("button", name="Try again").click()
    frame = page.frame_locator("iframe[title='Call me back']")
    expect(frame.get_by_text("Verified")).to_be_visible()
    expect(dialog.get_by_role("status")).to_be_hidden()
    expect(dialog.locator("iframe")).to_have_count(1)


@pytest.fixture(params=["iPhone 13", "Pixel 7"])
def phone(request, browser, playwright_driver):
    device = {key: value for key, value in playwright_driver.devices[request.param].items()
              if key != "default_browser_type"}
    context = browser.new_context(**device)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _open_on(page, site):
    page.goto(site["host_url"])
    page.get_by_role("button", name="Call me back").click()
    frame = page.frame_locator("iframe[title='Call me back']")
    expect(frame.get_by_text("Verified")).to_be_visible()
    return page.get_by_role("dialog", name="Call me back"), frame


def test_on_a_phone_the_form_is_a_full_width_bottom_sheet_with_large_tap_targets(phone, site):
    dialog, frame = _open_on(phone, site)
    width, height = phone.viewport_size["width"], phone.viewport_size["height"]
    box = dialog.bounding_box()
    assert (box["x"], box["width"], box["y"] + box["height"]) == (0, width, height)
    targets = [dialog.get_by_role("button", name="Close"), frame.get_by_label("Country"),
               frame.get_by_role("button", name="Call me back"),
               frame.locator("label[for=consent]")]
    for target in targets:
        size = target.bounding_box()
        assert size["width"] >= 44 and size["height"] >= 44, target
    # iOS zooms the page on focus into a field whose text is under 16 px.
    for field in (frame.get_by_label("Country"), frame.get_by_label("Your phone number")):
        assert float(field.evaluate("e => getComputedStyle(e).fontSize")[:-2]) >= 16


def _in_view(locator, height: int) -> bool:
    box = locator.bounding_box()
    return box["y"] >= 0 and box["y"] + box["height"] <= height


@pytest.mark.parametrize("width,height", [(390, 400), (750, 200)])
def test_with_the_keyboard_up_the_number_and_send_button_stay_in_view(phone, site, width,
                                                                      height):
    dialog, frame = _open_on(phone, site)
    phone.set_viewport_size({"width": width, "height": height})  # what the keyboard leaves
    number = frame.get_by_label("Your phone number")
    number.focus()
    expect(dialog).to_have_js_property("offsetHeight", height)
    assert _in_view(number, height)
    assert _in_view(frame.get_by_role("button", name="Call me back"), height)
    assert dialog.bounding_box()["width"] == width
