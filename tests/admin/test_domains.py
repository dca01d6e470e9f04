"""A widget's domain whitelist and token in the admin, as the embedded widget sees them."""

import html
import re

import pytest

from tests.factories import (
    RESELL_RIVAL,
    ROLES,
    admin_post,
    create_tree,
    signed_in,
)
from widget_server.extensions import db
from widget_server.models import AllowedDomain, Widget


def patterns(app, widget_id: int) -> list[str]:
    with app.app_context():
        return [d.pattern for d in db.session.get(Widget, widget_id).domains]


def page_of(user, widget_id: int) -> str:
    return html.unescape(user.get(f"/admin/widgets/{widget_id}").get_data(as_text=True))


def token_on(page: str) -> str:
    return re.search(r'data-widget="([^"]+)"', page).group(1)


def frame(token: str, origin: str, app):
    return app.test_client().get(f"/embed/v1/frame/{token}", query_string={"origin": origin})


def test_added_domain_is_normalised_and_lets_the_widget_show_there(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    member = signed_in(app, "member@resell.example")
    token = token_on(page_of(member, tenants.widgets["client shop"]))
    assert frame(token, "https://www.bücher.example", app).status_code == 403
    response = admin_post(member, f"/admin/widgets/{tenants.widgets['client shop']}/domains",
                          pattern="https://WWW.Bücher.example/shop")
    assert response.status_code == 302
    assert patterns(app, tenants.widgets["client shop"]) == ["shop.example",
                                                             "www.xn--bcher-kva.example"]
    assert frame(token, "https://www.xn--bcher-kva.example", app).status_code == 200


@pytest.mark.parametrize("entry, sentence", [
    ("*.com", "A wildcard must sit under a registrable domain, like *.example.com: com is a "
              "public suffix, shared by unrelated sites."),
    ("*.co.uk", "A wildcard must sit under a registrable domain, like *.example.com: co.uk is "
                "a public suffix, shared by unrelated sites."),
    ("co.uk", "'co.uk' is a public suffix, not a site: enter a domain under it, like "
              "shop.example.com."),
    ("shop.*.example", "Only a leading '*.' wildcard is allowed."),
    ("localhost:99999", "'99999' is not a port number."),
    ("", "Enter a domain such as example.com or *.example.com."),
])
def test_a_bad_entry_shows_the_reason_next_to_the_field_and_adds_nothing(app, entry, sentence):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/widgets/{tenants.widgets['client shop']}/domains",
                          pattern=entry)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f'<p class="field-error" id="pattern-error">{sentence}</p>' in page
    assert 'aria-describedby="pattern-hint pattern-error"' in page
    assert patterns(app, tenants.widgets["client shop"]) == ["shop.example"]


def test_an_entry_already_listed_is_refused_with_a_sentence(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/widgets/{tenants.widgets['client shop']}/domains",
                          pattern="SHOP.example")
    assert "shop.example is on the list already." in response.get_data(as_text=True)
    assert patterns(app, tenants.widgets["client shop"]) == ["shop.example"]


def test_the_page_explains_exact_hosts_wildcards_and_ports(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    page = page_of(signed_in(app, "read-only@resell.example"), tenants.widgets["client shop"])
    assert "allows exactly that host, not www.example.com" in re.sub(r"<[^>]+>", "", page)
    assert "but not example.com itself" in re.sub(r"<[^>]+>", "", page)
    assert "allows that port only" in page


def test_removed_domain_can_no_longer_show_the_widget(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    token = token_on(page_of(owner, tenants.widgets["client shop"]))
    with app.app_context():
        domain_id = db.session.get(Widget, tenants.widgets["client shop"]).domains[0].id
    assert frame(token, "https://shop.example", app).status_code == 200
    widget_id = tenants.widgets["client shop"]
    response = admin_post(owner, f"/admin/widgets/{widget_id}/domains/{domain_id}/delete")
    assert response.status_code == 302
    assert patterns(app, tenants.widgets["client shop"]) == []
    assert frame(token, "https://shop.example", app).get_json()["error"] == "origin_not_allowed"


def test_rotating_the_token_revokes_the_old_snippet_and_shows_a_working_one(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "member@resell.example")
    old = token_on(page_of(owner, tenants.widgets["client shop"]))
    response = admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}/rotate-token")
    assert response.status_code == 302
    new_page = html.unescape(owner.get(response.location).get_data(as_text=True))
    new = token_on(new_page)
    assert new != old and "the old snippet has stopped working" in new_page
    refused = frame(old, "https://shop.example", app)
    assert refused.status_code == 403 and refused.get_json()["error"] == "token_revoked"
    assert frame(new, "https://shop.example", app).status_code == 200


def test_read_only_users_cannot_change_domains_or_the_token(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    reader = signed_in(app, "read-only@resell.example")
    base = f"/admin/widgets/{tenants.widgets['client shop']}"
    with app.app_context():
        domain_id = db.session.get(Widget, tenants.widgets["client shop"]).domains[0].id
    assert "Add domain" not in page_of(reader, tenants.widgets["client shop"])
    for path in (f"{base}/domains", f"{base}/domains/{domain_id}/delete", f"{base}/rotate-token"):
        assert admin_post(reader, path, pattern="new.example").status_code == 403, path
    assert patterns(app, tenants.widgets["client shop"]) == ["shop.example"]
    with app.app_context():
        assert db.session.get(Widget, tenants.widgets["client shop"]).token_version == 1


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_widget_and_domain_are_not_found_for_every_role(app, role):
    tenants = create_tree(app, **RESELL_RIVAL)
    user = signed_in(app, f"{role}@resell.example")
    rival, own = f"/admin/widgets/{tenants.widgets['rival shop']}", \
        f"/admin/widgets/{tenants.widgets['client shop']}"
    for path in (f"{rival}/domains", f"{rival}/domains/{tenants.domains['rival.example']}/delete",
                 f"{rival}/rotate-token",
                 # The rival's domain through a widget of one's own.
                 f"{own}/domains/{tenants.domains['rival.example']}/delete"):
        assert admin_post(user, path, pattern="evil.example").status_code == 404, path
    with app.app_context():
        assert db.session.get(AllowedDomain, tenants.domains["rival.example"]) is not None
        assert db.session.get(Widget, tenants.widgets["rival shop"]).token_version == 1
    assert patterns(app, tenants.widgets["rival shop"]) == ["rival.example"]
