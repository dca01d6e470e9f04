"""The visitor reads the widget's language: the frame, every refusal and the call's progress.

Expected sentences are looked up in the shipped catalogues, so these tests
prove the wiring (which language, which sentence, placeholders filled), and
tests/test_translations.py proves the catalogues are complete.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.pofile import read_po

from tests.factories import (
    OWN_ORIGIN,
    PAGE_ORIGIN,
    call_body,
    create_account,
    create_widget,
    post_call,
)
from widget_server.extensions import db
from widget_server.i18n import LANGUAGES, TRANSLATIONS
from widget_server.security import tokens


def catalogue(language: str) -> dict[str, str]:
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return {message.id: message.string for message in read_po(po) if message.id}


def widget_in(app, language: str, **fields):
    with app.app_context():
        owner = create_account(name=f"site-{language}-{len(fields)}")
        made = create_widget(account=owner, language=language, **fields)
        db.session.expunge(made)
        return made


def frame_page(app, client, widget, **headers) -> str:
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))
    response = client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN},
                          headers=headers)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def config_of(app, client, widget, **headers) -> dict:
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))
    return client.get(f"/embed/v1/config/{token}",
                      headers={"Origin": PAGE_ORIGIN, **headers}).get_json()


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_the_frame_is_in_the_widgets_language(app, client, language):
    words = catalogue(language)
    page = frame_page(app, client, widget_in(app, language))
    direction = "rtl" if language in ("ar", "he") else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in page
    for english in ("Your phone number", "I'm not a robot", "Ringing your phone",
                    "I agree to be called back once at this number about my enquiry.",
                    "Call me back"):
        assert words[english] in page
        assert english not in page


@pytest.mark.parametrize(("language", "direction"), [("ar", "rtl"), ("he", "rtl"), ("it", "ltr")])
def test_the_loader_learns_which_way_the_widget_reads(app, client, language, direction):
    """The loader mirrors the dialog's corner and sets its direction from this,
    whatever the host page's own direction."""
    config = config_of(app, client, widget_in(app, language))
    assert config["dir"] == direction
    assert config["label"] == catalogue(language)["Call me back"]


@pytest.mark.parametrize(("browser", "expected"), [
    ("pl-PL, pl;q=0.9, en;q=0.5", "pl"), ("xx, he;q=0.8", "he"), ("fa-IR, fa", "en")])
def test_an_auto_widget_speaks_the_visitors_browser_language(app, client, browser, expected):
    widget = widget_in(app, "auto")
    page = frame_page(app, client, widget, **{"Accept-Language": browser})
    direction = "rtl" if expected == "he" else "ltr"
    assert f'<html lang="{expected}" dir="{direction}">' in page
    phone = catalogue(expected)["Your phone number"] if expected != "en" else "Your phone number"
    assert phone in page
    config = config_of(app, client, widget, **{"Accept-Language": browser})
    assert config["dir"] == direction


def test_an_auto_widgets_refusals_follow_the_browser_too(app, client):
    widget = widget_in(app, "auto")
    body = call_body(app, client, widget, phone="12")
    response = client.post("/embed/v1/calls", json=body, headers={
        "Origin": OWN_ORIGIN, "Accept-Language": "tr"})
    assert response.status_code == 400
    assert response.get_json()["message"] == catalogue("tr")[
        "Short and emergency numbers cannot be called back."]


def test_the_buttons_default_label_is_in_the_widgets_language(app, client):
    widget = widget_in(app, "de")
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))
    config = client.get(f"/embed/v1/config/{token}", headers={"Origin": PAGE_ORIGIN}).get_json()
    assert config["label"] == catalogue("de")["Call me back"]


def test_a_site_owners_own_texts_are_shown_as_written(app, client):
    widget = widget_in(app, "de", consent_text="Ja, 100% einverstanden: rufen Sie mich an.",
                       button_label="Rückruf, bitte")
    page = frame_page(app, client, widget)
    assert "Ja, 100% einverstanden: rufen Sie mich an." in page
    assert "Rückruf, bitte" in page


def test_a_language_stored_before_it_was_refused_falls_back_to_english(app, client):
    """Widgets saved with fa before the admin and API refused it still work, in English."""
    page = frame_page(app, client, widget_in(app, "fa"))
    assert '<html lang="en" dir="ltr">' in page and "Your phone number" in page


def test_a_regional_variant_uses_its_languages_catalogue(app, client):
    page = frame_page(app, client, widget_in(app, "fr-CA"))
    assert '<html lang="fr" dir="ltr">' in page and catalogue("fr")["Your phone number"] in page


def test_the_widgets_language_wins_over_the_browsers(app, client):
    page = frame_page(app, client, widget_in(app, "es"), **{"Accept-Language": "de"})
    assert catalogue("es")["Your phone number"] in page


def test_a_refusal_is_in_the_widgets_language_with_its_code_unchanged(app, client):
    widget = widget_in(app, "fr")
    response = post_call(client, call_body(app, client, widget, phone="12"))
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "phone_short",
        "message": catalogue("fr")["Short and emergency numbers cannot be called back."]}


def test_a_refusal_with_a_variable_part_is_translated_and_filled_in(app, client):
    widget = widget_in(app, "es", allowed_countries=["US", "CA"])
    response = post_call(client, call_body(app, client, widget, phone="+442079460958"))
    expected = catalogue("es")["We can only call numbers in %(countries)s."] % {
        "countries": "Canadá y Estados Unidos"}
    assert response.get_json() == {"error": "phone_country", "message": expected}


def test_before_the_widget_is_known_the_browsers_language_is_used(app, client):
    response = client.get("/embed/v1/frame/not-a-token", query_string={"origin": PAGE_ORIGIN},
                          headers={"Accept-Language": "de-CH, de;q=0.9, en;q=0.5"})
    assert response.status_code == 403
    assert response.get_json()["message"] == catalogue("de")[
        "This widget's token is not valid; check the embed snippet."]


def test_the_management_api_stays_in_english_whatever_the_browser_says(app, client):
    english = client.get("/api/v1/widgets")
    french = client.get("/api/v1/widgets", headers={"Accept-Language": "fr"})
    assert french.status_code == english.status_code == 401
    assert french.get_json() == english.get_json()


def test_the_calls_progress_is_in_the_widgets_language(app, client):
    widget = widget_in(app, "de")
    placed = post_call(client, call_body(app, client, widget)).get_json()
    status = client.get(placed["status_url"], headers={"X-Call-Token": placed["call_token"]})
    body = status.get_json()
    assert body["status"] == "completed"
    assert body["message"] == catalogue("de")["The call has ended. Thank you!"]


def test_call_back_times_are_offered_with_day_and_month_in_the_widgets_language(app, client):
    now = datetime.now(UTC)
    # Open only on a day other than today, so the frame offers call-back times.
    closed_today = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(now.weekday() + 3) % 7]
    widget = widget_in(app, "fr", outside_hours="callback",
                       opening_hours={closed_today: [["09:00", "17:00"]]})
    page = frame_page(app, client, widget)
    assert catalogue("fr")["When should we call you?"] in page
    day = now + timedelta(days=3)
    french_days = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]
    assert f"{french_days[day.weekday()]} {day:%d}" in page
