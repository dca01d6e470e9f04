"""Where a lead came from: what of the host page's URL is kept, and what is dropped."""

from __future__ import annotations

import pytest

from widget_server.calls.lead import read_lead

PAGE = "https://shop.example"


def test_the_page_is_kept_without_its_query_and_its_campaign_is_read():
    url = (f"{PAGE}/offers/boiler?utm_source=google&utm_medium=cpc&utm_campaign=winter"
           "&utm_term=boiler+repair&utm_content=ad-2&gclid=Cj0KCQ&email=jo%40mail.example"
           "#reviews")
    assert read_lead(url, PAGE) == (f"{PAGE}/offers/boiler", {
        "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "winter",
        "utm_term": "boiler repair", "utm_content": "ad-2", "gclid": "Cj0KCQ"})


def test_campaign_values_are_trimmed_capped_and_rid_of_control_characters():
    url = f"{PAGE}/?utm_source=%20news%0Aletter%20&utm_campaign={'x' * 300}&utm_medium=%20"
    page_url, campaign = read_lead(url, PAGE)
    assert page_url == f"{PAGE}/"
    assert campaign == {"utm_source": "newsletter", "utm_campaign": "x" * 100}


@pytest.mark.parametrize("url", [
    "https://attacker.example/?utm_source=spam",        # another site
    "http://shop.example/?utm_source=spam",             # another scheme: another origin
    "https://shop.example:8443/?utm_source=spam",       # another port
    "https://evil.shop.example/?utm_source=spam",       # a subdomain is another origin
    "javascript:alert(1)//https://shop.example/",
    "data:text/html,<script>alert(1)</script>",
    "/relative/path?utm_source=spam",
    f"{PAGE}/?utm_source=spam&pad={'a' * 5000}",       # overlong: not read at all
    "",
])
def test_a_url_that_is_not_the_framing_pages_is_dropped_with_its_campaign(url):
    assert read_lead(url, PAGE) == (None, {})


@pytest.mark.parametrize("value", [None, 42, ["https://shop.example/"], {"url": PAGE}])
def test_a_page_url_that_is_not_text_is_dropped(value):
    assert read_lead(value, PAGE) == (None, {})


def test_a_path_too_long_to_store_is_dropped_but_the_campaign_is_kept():
    page_url, campaign = read_lead(f"{PAGE}/{'p' * 1200}?utm_source=google", PAGE)
    assert page_url is None and campaign == {"utm_source": "google"}


def test_user_names_and_passwords_in_the_url_are_not_kept():
    assert read_lead("https://jo:secret@shop.example/cart", PAGE)[0] == f"{PAGE}/cart"


def test_the_origin_is_compared_as_a_browser_does():
    assert read_lead("https://SHOP.example:443/a", PAGE)[0] == f"{PAGE}/a"
