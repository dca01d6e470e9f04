"""The domain whitelist: entries normalised once, origins matched as browsers send them."""

from __future__ import annotations

import pytest

from widget_server.security.origins import (
    DomainError,
    frame_ancestors,
    normalise_domain,
    origin_allowed,
    origin_of,
)


@pytest.mark.parametrize("raw, expected", [
    ("shop.example", "shop.example"),
    ("  Shop.EXAMPLE  ", "shop.example"),
    ("shop.example.", "shop.example"),
    ("https://shop.example/some/page?x=1", "shop.example"),
    ("shop.example/path", "shop.example"),
    ("*.Shop.Example", "*.shop.example"),
    ("localhost:5000", "localhost:5000"),
    ("shop.example:08443", "shop.example:8443"),
    ("*.shop.example:8443", "*.shop.example:8443"),
    ("BÜCHER.example", "xn--bcher-kva.example"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example"),
    ("*.bücher.example", "*.xn--bcher-kva.example"),
    # Browsers encode IDNA 2008: ß stays a letter of its own, it is not "ss".
    ("straße.de", "xn--strae-oqa.de"),
    ("münchen.DE", "xn--mnchen-3ya.de"),
    ("Ｅｘａｍｐｌｅ.com", "example.com"),
    ("127.0.0.1:8000", "127.0.0.1:8000"),
])
def test_an_entry_is_normalised_to_what_a_browser_sends(raw, expected):
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize("raw, says", [
    ("", "Enter a domain"),
    ("   ", "Enter a domain"),
    ("https://", "Enter a domain"),
    ("*.com", "wildcard"),
    ("*.localhost", "wildcard"),
    ("shop.*.example", "wildcard"),
    ("*shop.example", "wildcard"),
    ("**.shop.example", "wildcard"),
    ("shop.example:0", "port"),
    ("shop.example:70000", "port"),
    ("shop.example:http", "port"),
    ("exa mple.com", "not a valid domain"),
    ("-shop.example", "not a valid domain"),
    ("shop-.example", "not a valid domain"),
    ("shop..example", "not a valid domain"),
    ("shop_example.com", "not a valid domain"),
    ("☃.net", "not a valid domain"),
    ("a" * 64 + ".example", "not a valid domain"),
    ("<script>.example", "not a valid domain"),
    ("shop.example;script-src", "not a valid domain"),
    ("shop.example data:", "not a valid domain"),
    # The Public Suffix List decides what one party controls, private section included.
    ("*.co.uk", "wildcard must sit under a registrable domain"),
    ("*.github.io", "wildcard must sit under a registrable domain"),
    ("*.xn--p1ai", "wildcard must sit under a registrable domain"),
    ("*.0.0.1", "wildcard must sit under a registrable domain"),
    ("co.uk", "public suffix"),
    ("github.io", "public suffix"),
])
def test_an_unusable_entry_raises_with_a_sentence(raw, says):
    with pytest.raises(DomainError) as caught:
        normalise_domain(raw)
    message = str(caught.value)
    assert says in message
    assert message[0].isupper() or message[0] == "'"
    assert message.endswith(".")


ENTRIES = ["shop.example", "*.brand.example", "localhost:5000", "xn--bcher-kva.example"]


@pytest.mark.parametrize("origin", [
    "https://shop.example",
    "https://SHOP.example",
    "https://shop.example:443",
    "https://shop.example.",
    "https://www.brand.example",
    "https://a.b.brand.example",
    "http://localhost:5000",
    "https://bücher.example",
    "https://xn--bcher-kva.example",
])
def test_an_allowed_origin_is_accepted(origin):
    assert origin_allowed(origin, ENTRIES, allow_http=True)


@pytest.mark.parametrize("origin", [
    "https://brand.example",            # a wildcard does not cover its apex
    "https://evil-shop.example",        # nor a name that merely ends the same
    "https://shop.example.evil.test",
    "https://evilbrand.example",
    "https://www.shop.example",         # an exact entry has no subdomains
    "https://shop.example:8443",        # no port in the entry: the default port only
    "https://localhost",
    "http://localhost:5001",
    "https://xn--bcher-kva.example.evil",
    "null",
    "",
    None,
    "shop.example",
    "ftp://shop.example",
    "javascript://shop.example",
    "https://shop.example:99999",
    "https://[::1]:5000",
])
def test_anything_else_is_refused(origin):
    assert not origin_allowed(origin, ENTRIES, allow_http=True)


@pytest.mark.parametrize("raw", ["evil.co.uk", "*.shop.co.uk", "me.github.io",
                                 "*.me.github.io", "localhost", "localhost:8000"])
def test_a_registrable_domain_under_a_public_suffix_is_accepted(raw):
    assert normalise_domain(raw) == raw


def test_a_stored_wildcard_under_a_public_suffix_matches_nothing():
    """An entry saved before the rule does not let every site under the suffix embed."""
    assert not origin_allowed("https://evil.co.uk", ["*.co.uk"], allow_http=False)
    assert frame_ancestors(["*.co.uk", "shop.example"], allow_http=False) == (
        "frame-ancestors https://shop.example")


def test_plain_http_is_refused_unless_allowed():
    assert not origin_allowed("http://shop.example", ENTRIES, allow_http=False)
    assert origin_allowed("http://shop.example", ENTRIES, allow_http=True)
    assert origin_allowed("https://shop.example", ENTRIES, allow_http=False)


def test_an_entry_with_a_port_matches_that_port_under_either_scheme():
    assert origin_allowed("https://localhost:5000", ["localhost:5000"], allow_http=False)
    assert origin_allowed("http://localhost:5000", ["localhost:5000"], allow_http=True)
    assert not origin_allowed("http://localhost:5000", ["localhost:5000"], allow_http=False)


def test_an_entry_without_a_port_matches_http_on_port_80_only():
    assert origin_allowed("http://shop.example", ["shop.example"], allow_http=True)
    assert origin_allowed("http://shop.example:80", ["shop.example"], allow_http=True)
    assert not origin_allowed("http://shop.example:443", ["shop.example"], allow_http=True)


def test_no_entries_allow_nothing():
    assert not origin_allowed("https://shop.example", [], allow_http=True)


def test_frame_ancestors_lists_exactly_the_entries_over_https():
    assert frame_ancestors(["shop.example", "*.brand.example"], allow_http=False) == (
        "frame-ancestors https://shop.example https://*.brand.example")


def test_frame_ancestors_adds_http_in_development():
    assert frame_ancestors(["localhost:5000"], allow_http=True) == (
        "frame-ancestors https://localhost:5000 http://localhost:5000")


def test_frame_ancestors_of_no_entries_is_none():
    assert frame_ancestors([], allow_http=True) == "frame-ancestors 'none'"


@pytest.mark.parametrize("url, origin", [
    ("https://shop.example/basket?id=3#top", "https://shop.example"),
    ("http://localhost:5000/", "http://localhost:5000"),
    ("about:blank", None),
    ("", None),
    (None, None),
    ("https://[::1", None),
])
def test_origin_of_a_referer_is_its_scheme_host_and_port(url, origin):
    assert origin_of(url) == origin
