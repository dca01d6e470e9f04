"""The client address caps are keyed on: the socket's, unless proxies are trusted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import call_body, post_call
from widget_server.abuse.client_ip import normalise_client_address
from widget_server.extensions import db
from widget_server.models import CallRequest


@pytest.mark.parametrize("address, key", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:FFFF::", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("::ffff:cb00:7107", "203.0.113.7"),
    ("fe80::1%eth0", "fe80::/64"),
    (None, "unknown"),
    ("", "unknown"),
    ("garbage", "unknown"),
    ("1.2.3.4.5", "unknown"),
    ("203.0.113.7, 10.0.0.1", "unknown"),
    ("203.0.113.7:443", "unknown"),
])
def test_an_address_is_keyed_per_ipv4_host_or_ipv6_64(address, key):
    assert normalise_client_address(address) == key


def numbers():
    """Distinct valid US numbers, so the per-number caps never interfere."""
    return (f"+1202555{n:04d}" for n in range(100, 200))


def post_from(app, client, widget, phone, remote_addr, forwarded=None):
    environ = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    return post_call(client, call_body(app, client, widget, phone=phone), environ_base=environ)


def stored_ip(app, response) -> str:
    with app.app_context():
        return db.session.scalar(select(CallRequest.client_ip).where(
            CallRequest.public_id == response.get_json()["call_id"]))


def test_a_forged_forwarded_for_header_never_moves_the_ip_cap(make_app, widget):
    app = make_app(CAP_PER_IP=3, TRUSTED_PROXY_COUNT=0)
    client = app.test_client()
    phone = numbers()
    for forged in ["1.1.1.1", "2.2.2.2, 3.3.3.3", "203.0.113.50"]:
        accepted = post_from(app, client, widget, next(phone), "198.51.100.9", forged)
        assert accepted.status_code == 202, accepted.get_json()
        assert stored_ip(app, accepted) == "198.51.100.9"
    refused = post_from(app, client, widget, next(phone), "198.51.100.9", "4.4.4.4")
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "cap_ip"
    assert int(refused.headers["Retry-After"]) > 0
    other = post_from(app, client, widget, next(phone), "198.51.100.10", "1.1.1.1")
    assert other.status_code == 202, other.get_json()


def test_behind_one_trusted_proxy_the_last_forwarded_hop_is_the_client(make_app, widget):
    app = make_app(CAP_PER_IP=2, TRUSTED_PROXY_COUNT=1)
    client = app.test_client()
    phone = numbers()
    for forged in ["6.6.6.6", "7.7.7.7"]:
        accepted = post_from(app, client, widget, next(phone), "10.0.0.1",
                             f"{forged}, 203.0.113.7")
        assert accepted.status_code == 202, accepted.get_json()
        assert stored_ip(app, accepted) == "203.0.113.7"
    refused = post_from(app, client, widget, next(phone), "10.0.0.1", "8.8.8.8, 203.0.113.7")
    assert refused.get_json()["error"] == "cap_ip"
    # Another visitor behind the same proxy has a cap of their own.
    other = post_from(app, client, widget, next(phone), "10.0.0.1", "203.0.113.8")
    assert other.status_code == 202, other.get_json()
    assert stored_ip(app, other) == "203.0.113.8"


def test_one_ipv6_subscriber_shares_a_cap_across_its_64(make_app, widget):
    app = make_app(CAP_PER_IP=2)
    client = app.test_client()
    phone = numbers()
    for address in ["2001:db8:1:2::1", "2001:db8:1:2::99"]:
        accepted = post_from(app, client, widget, next(phone), address)
        assert accepted.status_code == 202, accepted.get_json()
        assert stored_ip(app, accepted) == "2001:db8:1:2::/64"
    refused = post_from(app, client, widget, next(phone), "2001:db8:1:2:ffff::1")
    assert refused.get_json()["error"] == "cap_ip"
    assert post_from(app, client, widget, next(phone), "2001:db8:1:3::1").status_code == 202


def test_an_ipv4_mapped_address_counts_as_the_ipv4_client(make_app, widget):
    app = make_app(CAP_PER_IP=1)
    client = app.test_client()
    phone = numbers()
    assert post_from(app, client, widget, next(phone), "203.0.113.7").status_code == 202
    refused = post_from(app, client, widget, next(phone), "::ffff:203.0.113.7")
    assert refused.get_json()["error"] == "cap_ip"
