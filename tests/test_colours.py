"""The button's text colour is chosen to be readable on the colour its owner picks."""

from __future__ import annotations

import pytest

from tests.factories import PAGE_ORIGIN, create_account, create_widget
from widget_server.colours import contrast, text_colour
from widget_server.extensions import db
from widget_server.security import tokens


def test_the_contrast_ratio_is_wcags():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1)
    # WCAG's own example pair: #767676 on white is the lightest grey that passes AA.
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(("background", "text"), [
    ("#ffd700", "#000000"),  # yellow: white would be 1.40:1
    ("#00bcd4", "#000000"),  # light cyan
    ("#0b6e4f", "#ffffff"),  # the default green
    ("#1a5fb4", "#ffffff"),
    ("#777777", "#000000"),  # white on it is 4.48:1, just short of AA
])
def test_the_text_colour_meets_aa_on_any_button_colour(background, text):
    assert text_colour(background) == text
    assert contrast(text, background) >= 4.5


def test_the_loader_and_the_frame_are_given_the_text_colour(app, client):
    with app.app_context():
        widget = create_widget(account=create_account(name="yellow"), button_colour="#ffd700")
        token = tokens.embed_token(widget)
        db.session.commit()
    config = client.get(f"/embed/v1/config/{token}", headers={"Origin": PAGE_ORIGIN}).get_json()
    assert (config["colour"], config["text_colour"]) == ("#ffd700", "#000000")
    frame = client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN})
    assert "--c:#ffd700;--t:#000000" in frame.get_data(as_text=True)
