"""Provider base URLs in the admin: public addresses only, pinned, and no remote body shown."""

from __future__ import annotations

import html
import ipaddress

from tests.admin.test_providers import add_c2c, provider_named
from tests.factories import (
    RESELL_RIVAL,
    admin_post,
    create_tree,
    signed_in,
)
from tests.fakes.c2c_php import C2CPhpFake
from tests.security.test_outbound import PUBLIC, REFUSED_ADDRESSES
from widget_server.security import outbound


def resolve_to(*addresses: str):
    return lambda host, port: [ipaddress.ip_address(a) for a in addresses]


def test_every_private_address_and_spelling_is_refused_on_add_and_on_edit(make_app,
                                                                          monkeypatch):
    app = make_app(PROVIDER_PRIVATE_HOSTS=[])
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    monkeypatch.setattr(outbound, "resolve", resolve_to(PUBLIC))
    assert add_c2c(owner, tenants.ids["client-a"],
                   base_url="https://voice.example.com").status_code \
        == 302
    added = provider_named(app, "white-label")
    for url, why in REFUSED_ADDRESSES.items():
        for refused in (add_c2c(owner, tenants.ids["client-a"], base_url=url, name="second"),
                        admin_post(owner, f"/admin/providers/{added.id}", base_url=url,
                                   option_holdfile="17")):
            page = html.unescape(refused.get_data(as_text=True))
            assert refused.status_code == 200 and why in page, url
    assert provider_named(app, "second") is None
    assert provider_named(app, "white-label").base_url == "https://voice.example.com"


def test_a_name_that_turns_to_loopback_after_saving_is_refused_by_check(make_app, monkeypatch):
    """DNS rebinding: public when the owner saves it, loopback when Check connects."""
    app = make_app(PROVIDER_PRIVATE_HOSTS=[])
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    with C2CPhpFake() as fake:
        port = fake.url.rsplit(":", 1)[1]
        monkeypatch.setattr(outbound, "resolve", resolve_to(PUBLIC))
        saved = add_c2c(owner, tenants.ids["client-a"], base_url=f"http://rebind.test:{port}",
                        credential_uid=fake.uid, credential_pin=fake.pin, option_holdfile="17")
        assert saved.status_code == 302
        monkeypatch.setattr(outbound, "resolve", resolve_to("127.0.0.1"))
        checked = admin_post(owner, saved.location + "/check", test_from="+12025550100",
                             test_to="+12025550123")
        page = html.unescape(checked.get_data(as_text=True))
        assert "Check failed" in page and "provider_address_refused" in page
        assert "rebind.test resolves to a non-public address" in page
        assert "127.0.0.1" not in page and "loopback" not in page
        assert fake.server.requests == [] and fake.dials == []


def test_check_of_a_tenants_account_shows_status_and_size_never_the_answer(make_app):
    app = make_app(PROVIDER_PRIVATE_HOSTS=["127.0.0.1"])
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    with C2CPhpFake() as fake:
        inside = "Error,root:x:0:0:root:/root:/bin/bash internal-only"
        fake.place_script.append(("body", inside))
        saved = add_c2c(owner, tenants.ids["client-a"], base_url=fake.url, credential_uid=fake.uid,
                        credential_pin=fake.pin, option_holdfile="17")
        checked = admin_post(owner, saved.location + "/check", test_from="+12025550100",
                             test_to="+12025550123")
    page = html.unescape(checked.get_data(as_text=True))
    assert "Check failed" in page and "provider_refused" in page
    assert f"-> 200 ({len(inside)} bytes)" in page
    assert "root:x" not in page and "internal-only" not in page
