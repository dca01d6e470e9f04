"""The frame's wording follows the widget: its home country's example number, countries
named in the visitor's language, the close button's label, no select for one country."""

from __future__ import annotations

import pytest

from tests.embed.test_language import catalogue, frame_page, widget_in
from tests.factories import PAGE_ORIGIN, call_body, post_call
from widget_server.extensions import db
from widget_server.security import tokens


@pytest.mark.parametrize(("language", "home", "example"), [
    ("de", "DE", "01512 3456789"), ("fr", "FR", "06 12 34 56 78"), ("en", "US", "(201) 555-0123"),
])
def test_the_number_hint_shows_an_example_of_the_home_country_in_the_visitors_language(
        app, client, language, home, example):
    page = frame_page(app, client, widget_in(app, language, home_country=home))
    template = "For example %(number)s, or with +country code."
    sentence = (catalogue(language)[template] if language != "en" else template)
    assert sentence % {"number": example} in page
    assert "202 555 0123" not in page


@pytest.mark.parametrize(("language", "named"), [
    ("de", "Deutschland, Österreich und Schweiz"),
    ("en", "Austria, Germany, and Switzerland"),
])
def test_the_out_of_country_refusal_names_the_countries_in_the_visitors_language(
        app, client, language, named):
    widget = widget_in(app, language, home_country="DE", allowed_countries=["AT", "CH", "DE"])
    response = post_call(client, call_body(app, client, widget, phone="+442079460958"))
    template = "We can only call numbers in %(countries)s."
    sentence = catalogue(language)[template] if language != "en" else template
    assert response.get_json() == {"error": "phone_country",
                                   "message": sentence % {"countries": named}}


@pytest.mark.parametrize("language", ["de", "es", "fr"])
def test_the_close_button_is_labelled_in_the_widgets_language(app, client, language):
    widget = widget_in(app, language)
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))
    config = client.get(f"/embed/v1/config/{token}", headers={"Origin": PAGE_ORIGIN}).get_json()
    assert config["close"] == catalogue(language)["Close"]


def test_a_widget_for_one_country_shows_no_country_select(app, client):
    one = frame_page(app, client, widget_in(app, "en", home_country="GB"))
    two = frame_page(app, client, widget_in(app, "en", home_country="GB",
                                            allowed_countries=["GB", "IE"]))
    assert '<select id="country"' not in one
    assert '<select id="country"' in two
