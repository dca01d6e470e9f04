"""Right to left in a real browser: an Arabic widget reads and sits mirrored; on a
right-to-left host page, the form follows the widget's language, not the page's."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import expect

from tests.browser_support import serve, stop
from tests.factories import create_account, create_widget
from widget_server import create_app
from widget_server.extensions import db
from widget_server.models import AllowedDomain, Widget
from widget_server.services.widgets import embed_snippet

pytestmark = pytest.mark.browser

ARABIC_LABEL = "اتصلوا بي"
VIEWPORT = 1200


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app, and a Hebrew (right-to-left) host page embedding an Arabic or an English
    widget, both set to the bottom-right corner."""
    app = create_app({"INSTANCE_PATH": str(tmp_path_factory.mktemp("rtl") / "instance"),
                      "DEVELOPMENT": True})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        owner = create_account(name="rtl-shop")
        ids = {language: create_widget(account=owner, domains=[], language=language,
                                       button_position="bottom-right").id
               for language in ("ar", "en")}
    app_server = serve(app)
    app_url = f"http://127.0.0.1:{app_server.effective_port}"
    with app.app_context():
        snippets = {language: embed_snippet(db.session.get(Widget, widget_id), app_url)
                    for language, widget_id in ids.items()}
    host = Flask("rtl_host_page")

    @host.get("/<language>")
    def page(language: str):
        return (f'<!doctype html><html lang="he" dir="rtl"><title>חנות</title>'
                '<meta name="viewport" content="width=device-width">'
                f"<h1>ברוכים הבאים</h1>{snippets[language]}</html>")

    host_server = serve(host)
    with app.app_context():
        for widget_id in ids.values():
            db.session.add(AllowedDomain(widget_id=widget_id,
                                         pattern=f"localhost:{host_server.effective_port}"))
        db.session.commit()
    yield f"http://localhost:{host_server.effective_port}"
    for server in (app_server, host_server):
        stop(server)
    with app.app_context():
        db.engine.dispose()


def _dialog_direction(page) -> str:
    return page.evaluate("""() => getComputedStyle(document.querySelector(
        'widget-server-button').shadowRoot.querySelector('dialog')).direction""")


def test_an_arabic_widget_reads_right_to_left_with_its_dialog_mirrored(page, site):
    page.goto(f"{site}/ar")
    button = page.get_by_role("button", name=ARABIC_LABEL)
    expect(button).to_be_visible()
    # Set to bottom-right, the corner mirrors for a right-to-left language.
    assert button.bounding_box()["x"] < 100
    button.click()
    dialog = page.get_by_role("dialog", name=ARABIC_LABEL)
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["x"] < 40 and box["x"] + box["width"] < VIEWPORT / 2
    assert _dialog_direction(page) == "rtl"
    frame = page.frame_locator(f"iframe[title='{ARABIC_LABEL}']")
    expect(frame.locator(":root")).to_have_attribute("dir", "rtl")
    expect(frame.locator(":root")).to_have_attribute("lang", "ar")
    label = frame.get_by_text("رقم هاتفك")
    expect(label).to_be_visible()
    # Mirrored layout: the label's words start at the right edge of the form.
    left, right, width = frame.locator("label[for=phone]").evaluate("""label => {
        const range = document.createRange();
        range.selectNodeContents(label);
        const box = range.getBoundingClientRect();
        return [box.left, box.right, document.documentElement.clientWidth];
    }""")
    assert right > width - 40 and left > width / 2
    # A phone number still reads left to right inside the mirrored form.
    phone = frame.locator("#phone")
    assert phone.evaluate("input => getComputedStyle(input).direction") == "ltr"


def test_on_a_right_to_left_page_an_english_widget_stays_left_to_right(page, site):
    page.goto(f"{site}/en")
    button = page.get_by_role("button", name="Call me back")
    expect(button).to_be_visible()
    assert button.bounding_box()["x"] > VIEWPORT / 2
    button.click()
    dialog = page.get_by_role("dialog", name="Call me back")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["x"] > VIEWPORT / 2 and box["x"] + box["width"] > VIEWPORT - 40
    assert _dialog_direction(page) == "ltr"
    frame = page.frame_locator("iframe[title='Call me back']")
    expect(frame.locator(":root")).to_have_attribute("dir", "ltr")


def test_on_a_phone_the_mirrored_sheet_still_spans_the_whole_width(browser, playwright_driver,
                                                                   site):
    device = {key: value for key, value in playwright_driver.devices["Pixel 7"].items()
              if key != "default_browser_type"}
    context = browser.new_context(**device)
    try:
        page = context.new_page()
        page.goto(f"{site}/ar")
        page.get_by_role("button", name=ARABIC_LABEL).click()
        dialog = page.get_by_role("dialog", name=ARABIC_LABEL)
        expect(dialog).to_be_visible()
        box, width = dialog.bounding_box(), page.viewport_size["width"]
        assert (box["x"], box["width"]) == (0, width)
    finally:
        context.close()
