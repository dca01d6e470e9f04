"""The admin in the reader's language, times in the right zone, domains in Unicode.

Issue 14: the admin in English, German, French and Spanish by the user's
choice (their settings page) or else their browser's; dates and numbers by
that language; reports in the widget's time zone or the user's, saying which;
IDN domains in Unicode with their punycode beside them, stored as punycode.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from tests.factories import (
    create_account,
    create_api_key,
    create_call,
    create_user,
    create_widget,
    signed_in,
)
from widget_server.extensions import db
from widget_server.i18n import admin_gettext
from widget_server.models import Account, AllowedDomain, User, Widget

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the CSV and the reports' SQL

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
# Booked in Berlin on Friday 27 March 2026 (CET, UTC+1) for Monday 30 March at
# 09:00, after the clocks went forward on the 29th (CEST, UTC+2): 07:00 UTC.
REQUESTED_UTC = datetime(2026, 3, 27, 10, 0)
BOOKED_UTC = datetime(2026, 3, 30, 7, 0)


@pytest.fixture
def acme(app):
    """An account with an owner, a widget in Berlin and a call-back booked across DST."""
    with app.app_context():
        account = create_account(name="acme")
        create_user(account=account, email="owner@acme.example")
        widget = create_widget(account=account, name="Berlin", time_zone="Europe/Berlin",
                               domains=["xn--bcher-kva.example", "*.xn--mnchen-3ya.example:8443",
                                        "shop.example"])
        call = create_call(widget=widget, status="scheduled", created_at=REQUESTED_UTC,
                           scheduled_for=BOOKED_UTC)
        return {"widget": widget.id, "public_id": widget.public_id, "call": call.public_id,
                "account": account.id}


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def set_user(app, email: str, **fields) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        for name, value in fields.items():
            setattr(user, name, value)
        db.session.commit()


def test_a_german_browser_reads_the_admin_in_german(app, acme):
    client = signed_in(app, "owner@acme.example")
    widgets = page(client.get("/admin/widgets", headers=GERMAN))
    assert '<html lang="de">' in widgets
    assert "Neues Widget" in widgets and "Anbieterkonten" in widgets
    assert "New widget" not in widgets
    # The sign-in page too, before anyone is known.
    sign_in = page(app.test_client().get("/admin/sign-in", headers={"Accept-Language": "es"}))
    assert "Iniciar sesión" in sign_in and '<html lang="es">' in sign_in
    # A regional French first: French, though English is accepted too.
    canadian = page(client.get("/admin/widgets", headers={"Accept-Language": "fr-CA,en;q=0.5"}))
    assert '<html lang="fr">' in canadian and "Nouveau widget" in canadian
    # A language the admin is not written in: English.
    english = page(client.get("/admin/widgets", headers={"Accept-Language": "it"}))
    assert '<html lang="en">' in english and "New widget" in english


def test_the_users_choice_beats_the_browsers_and_is_kept(app, acme):
    client = signed_in(app, "owner@acme.example")
    settings = page(client.get("/admin/settings", headers=GERMAN))
    assert "Ihre Einstellungen" in settings and "Français" in settings
    saved = client.post("/admin/settings", headers=GERMAN, follow_redirects=True, data={
        "csrf_token": client.csrf, "language": "fr", "time_zone": ""})
    text = page(saved)
    assert '<html lang="fr">' in text and "Vos réglages sont enregistrés." in text
    widgets = page(client.get("/admin/widgets", headers=GERMAN))
    assert "Nouveau widget" in widgets and "Neues Widget" not in widgets
    with app.app_context():
        assert db.session.scalar(select(User.language)) == "fr"
    # Back to "the browser's": German again.
    client.post("/admin/settings", data={"csrf_token": client.csrf, "language": "",
                                         "time_zone": ""})
    assert "Neues Widget" in page(client.get("/admin/widgets", headers=GERMAN))


def test_settings_refuse_an_unknown_language_or_zone_in_the_readers_language(app, acme):
    client = signed_in(app, "owner@acme.example")
    refused = client.post("/admin/settings", headers=GERMAN, data={
        "csrf_token": client.csrf, "language": "xx", "time_zone": "Mars/Olympus"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Die Verwaltung gibt es in dieser Sprache nicht." in text
    assert "Verwenden Sie eine Zeitzone wie Europe/Berlin, oder keine." in text
    with app.app_context():
        assert db.session.scalar(select(User.time_zone)) is None


def test_the_api_keeps_the_services_sentences_in_english(app, client):
    """The admin translates a service's sentence; the API answers it as written."""
    with app.app_context():
        _, key = create_api_key(account=create_account(name="apiacme"))
    refused = client.post("/api/v1/clients", json={"name": "sub"}, headers={
        "Authorization": f"Bearer {key}", **GERMAN})
    assert refused.status_code in (403, 422)
    sentence = "A client account cannot have accounts under it."
    assert sentence in refused.get_data(as_text=True)
    with app.test_request_context("/admin/", headers=GERMAN):
        assert admin_gettext(sentence) == "Ein Kundenkonto kann keine Konten unter sich haben."


def test_a_call_back_booked_for_nine_in_berlin_reads_nine_across_dst(app, acme):
    client = signed_in(app, "owner@acme.example")
    call = page(client.get(f"/admin/reports/calls/{acme['call']}"))
    assert "Times in Europe/Berlin, the widget's time zone." in call
    booked = re.search(r'<dd id="scheduled-for">(.*?)</dd>', call).group(1)
    assert re.fullmatch(r"3/30/26, 9:00\W*AM \(Europe/Berlin\)", booked), booked
    # Requested before the change, at 11:00 CET.
    assert re.search(r"Mar 27, 2026, 11:00:00\W*AM from", call)
    listing = page(client.get("/admin/reports/calls"))
    assert re.search(r"for 3/30/26, 9:00\W*AM</span>", listing)
    assert '<span class="hint zone">Europe/Berlin</span>' in listing
    # In German the same moment reads 09:00 too, the German way.
    german = page(client.get(f"/admin/reports/calls/{acme['call']}", headers=GERMAN))
    assert '<dd id="scheduled-for">30.03.26, 09:00 (Europe/Berlin)</dd>' in german
    assert "Zeiten in Europe/Berlin, der Zeitzone des Widgets." in german


def test_a_user_who_chose_a_zone_reads_every_call_in_it(app, acme):
    set_user(app, "owner@acme.example", time_zone="America/New_York")
    client = signed_in(app, "owner@acme.example")
    call = page(client.get(f"/admin/reports/calls/{acme['call']}"))
    assert "Times in America/New_York, your time zone." in call
    booked = re.search(r'<dd id="scheduled-for">(.*?)</dd>', call).group(1)
    assert re.fullmatch(r"3/30/26, 3:00\W*AM \(America/New_York\)", booked), booked  # EDT
    listing = page(client.get("/admin/reports/calls"))
    assert "times in America/New_York, your time zone." in listing


def test_the_csv_names_each_calls_zone_beside_its_local_times(app, acme):
    client = signed_in(app, "owner@acme.example")
    response = client.get("/admin/reports/calls.csv")
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert row["created_at_utc"] == "2026-03-27T10:00:00"
    assert row["scheduled_for_utc"] == "2026-03-30T07:00:00"
    assert row["time_zone"] == "Europe/Berlin"
    assert row["created_at_local"] == "2026-03-27T11:00:00+01:00"
    assert row["scheduled_for_local"] == "2026-03-30T09:00:00+02:00"


def test_numbers_and_dates_follow_the_language(app, acme):
    with app.app_context():
        widget = db.session.get(Widget, acme["widget"])
        for n in range(3):
            create_call(widget=widget, status="failed" if n else "completed",
                        reason="busy" if n else None, created_at=REQUESTED_UTC)
    client = signed_in(app, "owner@acme.example")
    german = page(client.get("/admin/reports/calls", headers=GERMAN))
    assert "4 Anrufe passen." in german
    assert re.search(r"Annahmequote: <strong>33\W%</strong>", german)  # 33 %, no-break space
    assert "27.03.2026" in german  # the chart's table, by day
    french = page(client.get("/admin/reports/calls", headers={"Accept-Language": "fr"}))
    assert "4 appels correspondent." in french and "27 mars 2026" in french


def test_idn_domains_show_in_unicode_with_their_punycode(app, acme):
    client = signed_in(app, "owner@acme.example")
    edit = page(client.get(f"/admin/widgets/{acme['widget']}"))
    assert ('<code>bücher.example</code> <span class="hint punycode">'
            '(xn--bcher-kva.example)</span>') in edit
    assert ('<code>*.münchen.example:8443</code> <span class="hint punycode">'
            '(*.xn--mnchen-3ya.example:8443)</span>') in edit
    assert "<code>shop.example</code>\n" in edit  # ASCII: once, as it is
    listing = page(client.get("/admin/widgets"))
    assert "bücher.example <span class=\"hint\">(xn--bcher-kva.example)</span>" in listing
    added = client.post(f"/admin/widgets/{acme['widget']}/domains", follow_redirects=True,
                        data={"csrf_token": client.csrf, "pattern": "müller.example"})
    assert "müller.example added" in page(added)
    with app.app_context():
        assert "xn--mller-kva.example" in db.session.scalars(select(AllowedDomain.pattern)).all()


def test_a_services_sentence_with_values_is_translated_in_the_admin_only(app, client, acme):
    """The API answers the English sentence; the admin the same refusal in German."""
    admin = signed_in(app, "owner@acme.example")
    refused = admin.post(f"/admin/widgets/{acme['widget']}/domains", headers=GERMAN,
                         data={"csrf_token": admin.csrf, "pattern": "BÜCHER.example"})
    assert "xn--bcher-kva.example steht bereits auf der Liste." in refused.get_data(as_text=True)
    with app.app_context():
        _, key = create_api_key(account=db.session.get(Account, acme["account"]))
    api = client.post(f"/api/v1/widgets/{acme['public_id']}/domains",
                      json={"pattern": "bücher.example"},
                      headers={"Authorization": f"Bearer {key}", **GERMAN})
    assert api.status_code == 409, api.get_data(as_text=True)
    assert "xn--bcher-kva.example is on the list already." in api.get_data(as_text=True)


def test_the_dashboard_figures_security_and_confirmations_read_in_german(app, acme):
    set_user(app, "owner@acme.example", language="de")
    client = signed_in(app, "owner@acme.example")
    dashboard = page(client.get("/admin/"))
    assert "Kennzahlen" in dashboard and "Anfragen heute" in dashboard
    assert "Signed in as" not in dashboard and "Sicherheit" in dashboard
    refusals = page(client.get("/admin/reports/refusals"))
    assert "Keine Anfrage wurde abgelehnt." in refusals
    usage = page(client.get("/admin/reports/usage"))
    assert "Angenommene Minuten" in usage and "Anfragen inkl. Konten darunter" in usage
    security = page(client.get("/admin/security"))
    assert "Zwei-Faktor-Anmeldung" in security
    confirm = page(client.get(f"/admin/widgets/{acme['widget']}/pause"))
    assert "Was passiert" in confirm and "Zurück, ohne etwas zu ändern" in confirm
