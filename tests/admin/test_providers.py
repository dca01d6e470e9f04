"""Provider accounts in the admin: added, checked, rotated and deleted; credentials write-only."""

import html

import pytest

from tests.factories import (
    RESELL_RIVAL,
    ROLES,
    admin_post,
    create_tree,
    signed_in,
)
from widget_server.extensions import db
from widget_server.models import ProviderAccount, Widget
from widget_server.services.provider_accounts import decrypt_credentials

UID, PIN = "uid-7f3e9a", "pin-S3cr3t-91c4"


def add_c2c(user, account_id: int, **overrides):
    data = {"account_id": str(account_id), "name": "white-label",
            "base_url": "https://voice.example", "credential_uid": UID,
            "credential_pin": PIN, "option_holdfile": "42"}
    data.update(overrides)
    return admin_post(user, "/admin/providers/new?kind=c2c-php", **data)


def provider_named(app, name: str) -> ProviderAccount | None:
    with app.app_context():
        found = db.session.scalar(db.select(ProviderAccount).where(ProviderAccount.name == name))
        if found is not None:
            found.credentials = decrypt_credentials(found)
            db.session.expunge(found)
        return found


def test_owner_adds_a_provider_account_whose_credentials_no_page_ever_shows(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    form = owner.get("/admin/providers/new?kind=c2c-php").get_data(as_text=True)
    assert 'type="password"' in form and 'name="credential_pin"' in form
    response = add_c2c(owner, tenants.ids["client-a"])
    assert response.status_code == 302
    added = provider_named(app, "white-label")
    assert added.credentials == {"uid": UID, "pin": PIN}
    assert (added.account_id, added.kind, added.base_url, added.options) == (
        tenants.ids["client-a"], "c2c-php", "https://voice.example", {"holdfile": "42"})
    pages = [owner.get(path) for path in (
        "/admin/providers", f"/admin/providers/{added.id}", response.location,
        "/admin/providers/new?kind=c2c-php", "/admin/widgets")]
    pages.append(admin_post(owner, f"/admin/providers/{added.id}/check"))
    pages.append(admin_post(owner, f"/admin/providers/{added.id}/credentials", credential_uid="",
                            credential_pin=""))
    for email in ("member@resell.example", "read-only@resell.example"):
        pages.append(signed_in(app, email).get(f"/admin/providers/{added.id}"))
    for page in pages:
        text = html.unescape(page.get_data(as_text=True))
        assert page.status_code == 200
        assert PIN not in text and UID not in text
        assert added.credentials_encrypted not in text


def test_a_white_label_kind_needs_a_base_url_and_nothing_is_stored_without_one(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = add_c2c(signed_in(app, "owner@resell.example"), tenants.ids["client-a"], base_url="")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ('<p class="field-error" id="base_url-error">c2c-php has no public address: give '
            "the reseller's own, e.g. https://voice.example.</p>") in html.unescape(page)
    assert PIN not in page
    assert provider_named(app, "white-label") is None


def test_a_missing_secret_is_explained_next_to_its_field(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = add_c2c(signed_in(app, "owner@resell.example"), tenants.ids["client-a"],
                       credential_pin="")
    assert 'id="credential_pin-error">pin is required: API PIN.' in response.get_data(as_text=True)
    assert provider_named(app, "white-label") is None


def test_a_kind_with_a_public_address_needs_no_base_url(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          "/admin/providers/new?kind=voice1",
                          account_id=str(tenants.ids["resell"]), name="v1", base_url="",
                          credential_api_key="tok-123")
    assert response.status_code == 302
    assert provider_named(app, "v1").base_url is None


def test_check_without_numbers_says_a_test_call_is_needed(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/providers/{tenants.providers['resell-sim']}/check")
    page = html.unescape(response.get_data(as_text=True))
    assert "has no way to check credentials without placing a call" in page
    assert "Nothing was checked" in page and "Check passed" not in page


def test_check_with_numbers_places_a_test_call_and_says_it_was_accepted(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/providers/{tenants.providers['resell-sim']}/check",
                          test_from="+1 202 555 0100", test_to="+12025550123")
    page = response.get_data(as_text=True)
    assert "Check passed" in page and "The test call was accepted by the provider." in page
    assert "dialing" in page and "completed" in page


def test_a_provider_refusal_is_shown_plainly(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/providers/{tenants.providers['resell-sim']}/check",
                          test_from="+12025550100", test_to="+12025550005")
    page = response.get_data(as_text=True)
    assert "Check failed" in page
    assert "The provider refused: no_credit (simulated: no credit)" in page


def test_check_numbers_must_be_phone_numbers(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/providers/{tenants.providers['resell-sim']}/check",
                          test_from="not a number", test_to="+12025550123")
    page = html.unescape(response.get_data(as_text=True))
    assert 'id="test_from-error">\'not a number\' is not a phone number' in page
    assert "Check passed" not in page


def test_rotating_credentials_replaces_them_and_shows_neither(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    add_c2c(owner, tenants.ids["client-a"])
    added = provider_named(app, "white-label")
    response = admin_post(owner, f"/admin/providers/{added.id}/credentials", credential_uid="uid-2",
                          credential_pin="pin-new-77")
    assert response.status_code == 302
    assert provider_named(app, "white-label").credentials == {"uid": "uid-2", "pin": "pin-new-77"}
    page = owner.get(response.location).get_data(as_text=True)
    assert "pin-new-77" not in page and PIN not in page


def test_options_and_base_url_are_edited_and_checked(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    add_c2c(owner, tenants.ids["client-a"])
    added = provider_named(app, "white-label")
    assert 'value="42"' in owner.get(f"/admin/providers/{added.id}").get_data(as_text=True)
    bad = admin_post(owner, f"/admin/providers/{added.id}", base_url="voice.example",
                     option_holdfile="43")
    assert "Start the address with http:// or https://." in bad.get_data(as_text=True)
    assert provider_named(app, "white-label").options == {"holdfile": "42"}
    admin_post(owner, f"/admin/providers/{added.id}", base_url="https://other.example",
               option_holdfile="43", option_max_duration="120")
    changed = provider_named(app, "white-label")
    assert (changed.base_url, changed.options) == (
        "https://other.example", {"holdfile": "43", "max_duration": 120})
    assert changed.credentials == {"uid": UID, "pin": PIN}


def test_a_provider_account_serving_a_widget_cannot_be_deleted(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    with app.app_context():
        db.session.get(Widget, tenants.widgets["client shop"]).provider_account_id = \
            tenants.providers["resell-sim"]
        db.session.commit()
    path = f"/admin/providers/{tenants.providers['resell-sim']}"
    response = admin_post(owner, f"{path}/delete")
    assert "still serves widgets" in html.unescape(owner.get(response.location)
                                                   .get_data(as_text=True))
    assert provider_named(app, "resell-sim") is not None
    admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}/delete")
    assert admin_post(owner, f"{path}/delete").status_code == 302
    assert provider_named(app, "resell-sim") is None
    with app.app_context():
        assert db.session.get(Widget, tenants.widgets["client shop"]).provider_account_id is None


@pytest.mark.parametrize("role", ["member", "read-only"])
def test_members_and_read_only_users_see_provider_accounts_but_cannot_change_them(app, role):
    tenants = create_tree(app, **RESELL_RIVAL)
    user = signed_in(app, f"{role}@resell.example")
    path = f"/admin/providers/{tenants.providers['resell-sim']}"
    page = user.get(path).get_data(as_text=True)
    assert "resell-sim" in page and "Replace the credentials" not in page
    assert "Check the account" not in page
    assert user.get("/admin/providers/new?kind=c2c-php").status_code == 403
    assert add_c2c(user, tenants.ids["resell"]).status_code == 403
    for action in ("", "/credentials", "/check", "/delete"):
        assert admin_post(user, path + action, base_url="https://x.example").status_code == 403
    assert provider_named(app, "resell-sim").base_url is None
    assert provider_named(app, "white-label") is None


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_provider_account_is_not_found_for_every_role(app, role):
    tenants = create_tree(app, **RESELL_RIVAL)
    user = signed_in(app, f"{role}@resell.example")
    path = f"/admin/providers/{tenants.providers['rival-sim']}"
    assert user.get(path).status_code == 404
    for action in ("", "/credentials", "/check", "/delete"):
        assert admin_post(user, path + action, base_url="https://x.example").status_code == 404
    assert "rival-sim" not in user.get("/admin/providers").get_data(as_text=True)
    assert provider_named(app, "rival-sim").base_url is None


def test_a_provider_account_cannot_be_added_to_another_tenant(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    with app.app_context():
        rival_id = db.session.get(Widget, tenants.widgets["rival shop"]).account_id
    response = add_c2c(signed_in(app, "owner@resell.example"), rival_id)
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert provider_named(app, "white-label") is None


def field_error(page: str, field: str) -> str:
    """The sentence the admin shows next to ``field``."""
    import re

    found = re.search(rf'id="{field}-error">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


@pytest.mark.parametrize("kind, data, refused", [
    ("c2c-php", {"base_url": "https://voice.example", "credential_uid": UID,
                 "credential_pin": PIN, "option_holdfile": "42", "option_max_duration": "abc",
                 "option_number_format": "weird"},
     {"option_max_duration": "max_duration must be a whole number of seconds from 1 to "
                             "86400; 'abc' is not.",
      "option_number_format": "number_format must be one of digits, 00, plus; 'weird' is "
                              "not."}),
    ("dialogtech", {"credential_access_key": "a", "credential_secret_access_key": "s",
                    "option_first_leg_timeout": "abc"},
     {"option_first_leg_timeout": "first_leg_timeout must be a number of seconds from 0.1 "
                                  "to 300; 'abc' is not."}),
])
def test_a_mistyped_option_is_refused_on_save_next_to_its_field(app, kind, data, refused):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/providers/new?kind={kind}",
                          account_id=str(tenants.ids["client-a"]), name="typed", **data)
    page = response.get_data(as_text=True)
    for field, sentence in refused.items():
        assert field_error(page, field) == sentence
    assert provider_named(app, "typed") is None


def test_every_error_of_a_provider_account_is_shown_at_once(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = add_c2c(signed_in(app, "owner@resell.example"), tenants.ids["client-a"],
                       base_url="voice.example",
                       credential_pin="", option_holdfile="", option_max_duration="0")
    page = response.get_data(as_text=True)
    for field in ("base_url", "credential_pin", "option_holdfile", "option_max_duration"):
        assert field_error(page, field), field
    assert provider_named(app, "white-label") is None


def test_a_simulator_account_asks_for_no_base_url_or_credentials(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    form = owner.get("/admin/providers/new?kind=simulator").get_data(as_text=True)
    assert 'name="base_url"' not in form and 'name="credential_' not in form
    response = admin_post(owner, "/admin/providers/new?kind=simulator",
                          account_id=str(tenants.ids["client-a"]), name="practice")
    assert response.status_code == 302
    added = provider_named(app, "practice")
    assert (added.base_url, added.credentials_encrypted) == (None, None)
