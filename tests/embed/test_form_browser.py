"""The form's focus, errors, wording and colours in a real browser (issue 13).

Reuses test_browser.py's site: the app, a whitelisted host page and the demo widget.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.embed import test_browser
from tests.embed.test_browser import _open_widget
from widget_server.extensions import db
from widget_server.models import Widget

pytestmark = pytest.mark.browser

site = test_browser.site  # the same module-scoped fixture, started for this module


def _fill_and_send(frame):
    frame.get_by_label("Your phone number").fill("+1 202 555 0123")
    frame.get_by_label("I agree to be called back").check()
    frame.get_by_role("button", name="Call me back").click()


def test_a_network_failure_moves_focus_to_the_message_and_shows_it_on_a_small_screen(
        page, site):
    page.set_viewport_size({"width": 390, "height": 420})
    page.route("**/embed/v1/calls", lambda route: route.abort())
    _, frame = _open_widget(page, site)
    # The error regions are in the accessibility tree before anything is written.
    assert frame.locator(".err").evaluate_all(
        "els => els.map(e => getComputedStyle(e).display)").count("none") == 0
    _fill_and_send(frame)
    message = frame.locator("#form-err")
    expect(message).to_have_text(
        "We could not reach the server; please check your connection and try again.")
    expect(message).to_be_focused()
    expect(message).to_be_in_viewport()


def test_a_refusal_tied_to_no_field_takes_the_focus_too(page, site):
    page.set_viewport_size({"width": 390, "height": 420})
    page.route("**/embed/v1/calls", lambda route: route.fulfill(
        status=429, json={"error": "rate_limited", "message": "Too many requests; wait a minute."},
        headers={"Retry-After": "60"}))
    _, frame = _open_widget(page, site)
    _fill_and_send(frame)
    message = frame.locator("#form-err")
    expect(message).to_have_text("Too many requests; wait a minute.")
    expect(message).to_be_focused()
    expect(message).to_be_in_viewport()


def test_opening_the_widget_puts_the_focus_on_the_first_field_each_time(page, site):
    button, frame = _open_widget(page, site)
    expect(frame.get_by_label("Your phone number")).to_be_focused()
    page.keyboard.press("Escape")
    expect(button).to_be_focused()
    button.click()
    expect(frame.get_by_label("Your phone number")).to_be_focused()


def test_try_again_puts_the_focus_on_the_number(page, site):
    _, frame = _open_widget(page, site)
    # 0002 is the simulator's busy line.
    frame.get_by_label("Your phone number").fill("+1 202 555 0002")
    frame.get_by_label("I agree to be called back").check()
    frame.get_by_role("button", name="Call me back").click()
    frame.get_by_role("button", name="Try again").click()
    expect(frame.get_by_label("Your phone number")).to_be_focused()


def test_with_a_country_select_the_focus_goes_to_it_on_open(page, site):
    app = site["app"]
    with app.app_context():
        db.session.get(Widget, site["widget_id"]).allowed_countries = ["US", "CA"]
        db.session.commit()
    try:
        _, frame = _open_widget(page, site)
        expect(frame.get_by_label("Country")).to_be_focused()
    finally:
        with app.app_context():
            db.session.get(Widget, site["widget_id"]).allowed_countries = []
            db.session.commit()


# The computed colours, "rgb(r, g, b)", and their WCAG 2 contrast, measured here from
# what the browser draws rather than from the server's choice.
COLOURS = "e => { const s = getComputedStyle(e); return [s.color, s.backgroundColor]; }"


def _ratio(one: str, other: str) -> float:
    def luminance(rgb: str) -> float:
        channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1:-1].split(",")[:3]]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_a_yellow_widget_draws_its_buttons_and_steps_at_wcag_aa_contrast(page, site):
    app = site["app"]
    with app.app_context():
        widget = db.session.get(Widget, site["widget_id"])
        colour, widget.button_colour = widget.button_colour, "#ffd700"
        db.session.commit()
    try:
        button, frame = _open_widget(page, site)
        header = page.locator("widget-server-button header")
        close = header.get_by_role("button")
        send = frame.get_by_role("button", name="Call me back")
        for drawn in (button, header, send):
            text, background = drawn.evaluate(COLOURS)
            assert background == "rgb(255, 215, 0)"
            assert _ratio(text, background) >= 4.5
        assert close.evaluate(COLOURS)[0] == header.evaluate(COLOURS)[0]
        # The steps not reached yet, grey on the frame's white.
        pending, = frame.locator("li[data-step=completed]").evaluate_all(
            "els => els.map(e => getComputedStyle(e).color)")
        assert _ratio(pending, "rgb(255, 255, 255)") >= 4.5
        # The close button is labelled in the widget's language (English here).
        expect(close).to_have_attribute("aria-label", "Close")
    finally:
        with app.app_context():
            db.session.get(Widget, site["widget_id"]).button_colour = colour
            db.session.commit()


def test_in_forced_colors_the_buttons_and_the_dialog_keep_their_edges(page, site):
    page.emulate_media(forced_colors="active")
    button, frame = _open_widget(page, site)
    edge = "e => getComputedStyle(e).borderTopStyle + ' ' + getComputedStyle(e).borderTopWidth"
    for drawn in (button, page.locator("widget-server-button dialog"),
                  frame.get_by_role("button", name="Call me back")):
        style, width = drawn.evaluate(edge).split()
        assert style == "solid" and width != "0px"
