"""The outbound rule: which provider addresses are refused, and where connections go.

No DNS server is reachable here, so names are resolved through the rule's
seam ``outbound.resolve``, swapped per test; addresses and numeric spellings
need no resolver.
"""

from __future__ import annotations

import ipaddress

import pytest
import requests

from tests.fakes.http import FakeHttpServer
from widget_server.security import outbound
from widget_server.security.outbound import Policy, RefusedURL, parse_allowance

PUBLIC = "93.184.215.14"

# Every class of address a provider base URL must not reach, in every spelling
# a resolver accepts for it. Shared by the admin, API and command-line tests.
REFUSED_ADDRESSES = {
    "https://127.0.0.1/": "loopback",
    "https://127.0.0.2:8443/api": "loopback",
    "https://2130706433/": "loopback",
    "https://0x7f.1/": "loopback",
    "https://127.1/": "loopback",
    "https://0177.0.0.1/": "loopback",
    "https://0x7f000001/": "loopback",
    "https://[::1]/": "loopback",
    "https://[::ffff:127.0.0.1]/": "IPv4-mapped",
    "https://[::ffff:7f00:1]/": "IPv4-mapped",
    "https://10.0.0.5/": "private",
    "https://172.16.3.4/": "private",
    "https://192.168.1.1/": "private",
    "https://[fd00::5]/": "private",
    "https://169.254.169.254/latest/meta-data": "link-local",
    "https://[fe80::1]/": "link-local",
    "https://100.64.0.1/": "CGNAT",
    "https://100.127.255.254/": "CGNAT",
    "https://224.0.0.1/": "multicast",
    "https://[ff02::1]/": "multicast",
    "https://0.0.0.0/": "unspecified",
    "https://0/": "unspecified",
    "https://[::]/": "unspecified",
    "https://[64:ff9b::a00:1]/": "embeds an IPv4",
    "https://240.0.0.1/": "reserved",
    "https://[fec0::1]/": "site-local",
    "https://192.0.0.1/": "IETF protocol assignments",
    "https://192.0.0.8/": "IETF protocol assignments",
    "https://192.0.0.255/": "IETF protocol assignments",
    "https://192.88.99.1/": "6to4 relay",
    "https://[5f00::1]/": "reserved",
    "https://192.0.2.1/": "documentation",
    "https://198.51.100.7/": "documentation",
    "https://203.0.113.9/": "documentation",
    "https://[2001:db8::1]/": "documentation",
    "https://[3fff::1]/": "documentation",
}
REFUSED_SHAPES = {
    "http://voice.example.com/": "https://",
    "https://user:pw@voice.example.com/": "user name or password",
    "https://voice.example.com@127.0.0.1/": "user name or password",
    "https://voice.example.com/?": "query",
    "https://voice.example.com/#": "fragment",
    "https://voice.example.com/api?x=1": "query",
    "ftp://voice.example.com/": "https://",
}


def resolving(mapping: dict[str, list[str]]):
    def resolve(host, port):
        if host not in mapping:
            raise OSError("no such name")
        return [ipaddress.ip_address(a) for a in mapping[host]]
    return resolve


@pytest.mark.parametrize("url, why", REFUSED_ADDRESSES.items())
def test_every_private_class_and_spelling_is_refused_with_its_name(url, why):
    with pytest.raises(RefusedURL, match=why):
        Policy().check_url(url)


@pytest.mark.parametrize("url, why", REFUSED_SHAPES.items())
def test_only_a_plain_https_address_is_taken(monkeypatch, url, why):
    monkeypatch.setattr(outbound, "resolve", resolving({"voice.example.com": [PUBLIC]}))
    with pytest.raises(RefusedURL, match=why):
        Policy().check_url(url)


def test_a_name_is_taken_only_when_every_address_it_resolves_to_is_public(monkeypatch, caplog):
    monkeypatch.setattr(outbound, "resolve", resolving({
        "voice.example.com": [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
        "mixed.example.com": [PUBLIC, "10.1.2.3"],
        "metadata.example.com": ["169.254.169.254"]}))
    Policy().check_url("https://voice.example.com/api")
    Policy().check_url(f"https://{PUBLIC}:8443/")
    with pytest.raises(RefusedURL, match="resolves to a non-public address") as refused:
        Policy().check_url("https://mixed.example.com/")
    # The tenant learns nothing of the internal address; the operator's log has it.
    assert "10.1.2.3" not in str(refused.value) and "private" not in str(refused.value)
    warning = [r for r in caplog.records if r.name == "widget_server.security.outbound"][-1]
    assert warning.levelname == "WARNING"
    assert "mixed.example.com:443 resolves to 10.1.2.3 (a private address)" in warning.message
    with pytest.raises(RefusedURL, match="non-public"):
        Policy().check_url("https://metadata.example.com/")
    with pytest.raises(RefusedURL, match="does not resolve"):
        Policy().check_url("https://nowhere.example.com/")
    with pytest.raises(RefusedURL, match=r"write it as 93\.184\.215\.14"):
        Policy().check_url("https://0x5d.184.215.14/")
    Policy(development=True).check_url("http://voice.example.com/")


def test_the_two_globally_reachable_addresses_of_192_0_0_0_24_are_taken():
    Policy().check_url("https://192.0.0.9/")
    Policy().check_url("https://192.0.0.10/")


def test_the_operator_allows_named_hosts_ports_and_networks_only():
    rule = Policy(allowances=tuple(parse_allowance(e) for e in (
        "pbx.lan", "10.0.0.0/8", "127.0.0.1:8443", "[::1]:8080")))
    rule.check_url("https://pbx.lan/")  # a listed name is not resolved on saving
    rule.check_url("https://10.20.30.40/")
    rule.check_url("https://127.0.0.1:8443/")
    rule.check_url("https://[::1]:8080/")
    for refused in ("https://127.0.0.1/", "https://127.0.0.1:8444/", "https://192.168.0.1/",
                    "https://[::1]/", "https://169.254.169.254/"):
        with pytest.raises(RefusedURL):
            rule.check_url(refused)
    with pytest.raises(ValueError, match="PROVIDER_PRIVATE_HOSTS"):
        parse_allowance("10.0.0.0/99")


def test_the_connection_goes_to_the_checked_address_with_the_name_in_host(monkeypatch):
    """``pbx.test`` exists in no DNS: the request only arrives because the adapter
    connected to the address the rule checked, naming the host in ``Host``."""
    with FakeHttpServer(lambda request: (200, {}, "ok")) as fake:
        port = int(fake.url.rsplit(":", 1)[1])
        lookups = []

        def resolve(host, port):
            lookups.append(host)
            return [ipaddress.ip_address("127.0.0.1")]

        monkeypatch.setattr(outbound, "resolve", resolve)
        session = outbound.session_for(Policy(development=True, allowances=(
            parse_allowance("127.0.0.1"),)))
        answer = session.get(f"http://pbx.test:{port}/api/x", timeout=5)
    assert (answer.status_code, answer.text) == (200, "ok")
    assert fake.requests[0].headers["Host"] == f"pbx.test:{port}"
    assert lookups == ["pbx.test"]


def test_a_name_that_turns_to_loopback_after_the_check_is_refused_on_connecting(monkeypatch):
    """DNS rebinding: public when saved, loopback when the worker connects."""
    with FakeHttpServer(lambda request: (200, {}, "internal")) as fake:
        port = int(fake.url.rsplit(":", 1)[1])
        answers = iter([[PUBLIC], ["127.0.0.1"]])
        monkeypatch.setattr(outbound, "resolve",
                            lambda host, port: [ipaddress.ip_address(a) for a in next(answers)])
        rule = Policy(development=True)
        rule.check_url(f"http://rebind.test:{port}/")
        with pytest.raises(outbound.AddressRefused, match="non-public") as refused:
            outbound.session_for(rule).get(f"http://rebind.test:{port}/", timeout=5)
        assert "127.0.0.1" not in str(refused.value)
    assert fake.requests == []


def test_http_is_refused_on_connecting_outside_development(monkeypatch):
    monkeypatch.setattr(outbound, "resolve", resolving({"voice.example.com": [PUBLIC]}))
    with pytest.raises(outbound.AddressRefused, match="https://"):
        outbound.session_for(Policy()).get("http://voice.example.com/", timeout=5)
    assert isinstance(outbound.AddressRefused("x"), requests.RequestException)
