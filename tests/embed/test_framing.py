"""The frame is served to an iframe only, and renews its nonce only for itself.

A browser says what a request is for (Fetch Metadata): the frame is refused to
anything but an iframe, with a sentence in the visitor's language, and a fresh
form nonce only to the frame's own origin. A client that sends no Fetch
Metadata (an older browser) is served; frame.js then refuses a top-level load
itself (tests/embed/test_browser.py).
"""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.embed.test_language import catalogue, widget_in
from tests.factories import PAGE_ORIGIN, call_body, post_call
from widget_server.extensions import db
from widget_server.security import tokens

SENTENCE = "This form only works on the website it belongs to."


def _token(app, widget) -> str:
    with app.app_context():
        return tokens.embed_token(db.session.merge(widget))


def _frame(client, token, **headers):
    return client.get(f"/embed/v1/frame/{token}", query_string={"origin": PAGE_ORIGIN},
                      headers=headers)


@pytest.mark.parametrize("destination", ["document", "embed", "object", "empty", "frame"])
def test_the_frame_is_refused_to_anything_but_an_iframe_and_says_why(app, client, widget,
                                                                     destination):
    response = _frame(client, _token(app, widget), **{"Sec-Fetch-Dest": destination,
                                                      "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert SENTENCE in page and 'data-error="frame_not_embedded"' in page
    # Nothing to send with: no form, no nonce, no script.
    assert "<form" not in page and "data-nonce" not in page and "<script" not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"},
                                     {}])
def test_an_iframe_or_a_client_without_fetch_metadata_gets_the_form(app, client, widget,
                                                                     headers):
    response = _frame(client, _token(app, widget), **headers)
    assert response.status_code == 200
    assert 'id="form"' in response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["de", "fr", "es", "ar"])
def test_the_refusal_is_in_the_widgets_language(app, client, language):
    widget = widget_in(app, language, domains=["shop.example"])
    response = _frame(client, _token(app, widget), **{"Sec-Fetch-Dest": "document"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 403
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in page
    assert catalogue(language)[SENTENCE] in page and SENTENCE not in page


def test_the_frame_carries_its_whitelist_for_the_ancestor_check(app, client, widget):
    page = html.unescape(_frame(client, _token(app, widget)).get_data(as_text=True))
    whitelist = json.loads(re.search(r"data-whitelist='([^']*)'", page).group(1))
    # DEVELOPMENT is on in tests, so http pages are allowed as the CSP allows them.
    assert whitelist["schemes"] == ["https", "http"]
    assert sorted(whitelist["entries"]) == ["localhost:5000", "shop.example"]


@pytest.mark.parametrize("site", ["same-origin", None])
def test_the_frame_renews_its_nonce_from_its_own_origin(app, client, widget, site):
    token = _token(app, widget)
    headers = {"Sec-Fetch-Site": site, "Sec-Fetch-Dest": "empty"} if site else {}
    response = client.get(f"/embed/v1/nonce/{token}", headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in response.headers
    # The nonce is good for one call.
    body = call_body(app, client, widget, nonce=response.get_json()["nonce"])
    assert post_call(client, body).status_code == 202
    again = post_call(client, call_body(app, client, widget, nonce=body["nonce"]))
    assert again.get_json()["error"] == "nonce_used"


@pytest.mark.parametrize("site", ["cross-site", "same-site", "none"])
def test_no_other_page_gets_a_nonce(app, client, widget, site):
    response = client.get(f"/embed/v1/nonce/{_token(app, widget)}",
                          headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403
    assert response.get_json() == {"error": "not_same_origin", "message": SENTENCE}


def test_a_nonce_is_refused_for_a_garbled_token(client):
    response = client.get("/embed/v1/nonce/garbled", headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "token_invalid"
