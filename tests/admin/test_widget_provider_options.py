"""A widget's own provider options in the admin: shown per provider kind, checked as the API
checks them, and sent to the provider when a call is placed."""

from __future__ import annotations

import html

import pytest

from tests.admin.test_widgets import settings, stored
from tests.factories import (
    RESELL_RIVAL,
    ROLES,
    admin_post,
    create_api_key,
    create_tree,
    signed_in,
)
from tests.fakes.c2c_php import C2CPhpFake
from tests.fakes.dialogtech import ACCESS_KEY, SECRET_ACCESS_KEY, FakeDialogTech
from tests.providers import conftest as providers_conftest
from widget_server.extensions import db
from widget_server.models import Account, ProviderAccount, Widget
from widget_server.providers import PROVIDERS
from widget_server.security import tokens
from widget_server.services.provider_accounts import encrypt_credentials

# The provider fakes' loopback app with its queue (tests/providers/conftest.py).
live = providers_conftest.live

SECRET = "s3cret-code-never-shown"
BAD_LANGUAGE = ("language must be a two- or three-letter code such as he, en or ru; "
                "'english' is not.")


def add_provider(app, tenants, kind: str, *, name: str | None = None, options=None,
                 credentials=None, base_url=None, use: bool = True) -> int:
    """A provider account of ``kind`` for the reseller, serving the client's widget if ``use``."""
    with app.app_context():
        provider = ProviderAccount(account_id=tenants.ids["resell"], name=name or f"resell-{kind}",
                                   kind=kind, base_url=base_url, options=options or {},
                                   credentials_encrypted=encrypt_credentials(
                                       credentials or {"code": SECRET}))
        db.session.add(provider)
        db.session.flush()
        if use:
            db.session.get(Widget, tenants.widgets["client shop"]).provider_account_id = provider.id
        db.session.commit()
        return provider.id


def set_widget_options(app, widget_id: int, options: dict) -> None:
    with app.app_context():
        db.session.get(Widget, widget_id).provider_options = options
        db.session.commit()


def options_path(widget_id: int) -> str:
    return f"/admin/widgets/{widget_id}/provider-options"


def page_of(client, widget_id: int) -> str:
    return html.unescape(client.get(f"/admin/widgets/{widget_id}").get_data(as_text=True))


def patch_through_api(app, tenants, changes: dict):
    """PATCH the client's widget with the reseller's API key, as its CRM would."""
    with app.app_context():
        key = create_api_key(account=db.session.get(Account, tenants.ids["resell"]))[1]
        public_id = db.session.get(Widget, tenants.widgets["client shop"]).public_id
    return app.test_client().patch(f"/api/v1/widgets/{public_id}", json=changes,
                                   headers={"Authorization": f"Bearer {key}"})


def api_widget(app, tenants, widget_id: int) -> dict:
    with app.app_context():
        key = create_api_key(account=db.session.get(Account, tenants.ids["resell"]))[1]
        public_id = db.session.get(Widget, widget_id).public_id
    response = app.test_client().get(f"/api/v1/widgets/{public_id}",
                                     headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    return response.get_json()


def test_an_option_set_in_the_admin_is_stored_and_the_api_shows_the_same(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, "voicenter", options={"language": "he", "var_crm": "7"})
    member = signed_in(app, "member@resell.example")
    page = page_of(member, tenants.widgets["client shop"])
    assert "Provider options for this widget" in page
    assert "Empty: use the provider account's setting, he." in page
    assert "Empty: the provider account's only, var_crm=7." in page
    assert SECRET not in page

    response = admin_post(member, options_path(tenants.widgets["client shop"]),
                          provider_kind="voicenter",
                          option_language=" en ", option_maxduration="", option_record="true",
                          custom="var_campaign = spring\n\n")
    assert response.status_code == 302
    assert response.location.endswith("#provider-options")
    expected = {"language": "en", "record": True, "var_campaign": "spring"}
    assert stored(app, tenants.widgets["client shop"]).provider_options == expected
    assert api_widget(app, tenants, tenants.widgets["client shop"])["provider_options"] == expected
    page = page_of(member, tenants.widgets["client shop"])
    assert "Provider options of client shop saved." in page
    assert 'name="option_language" type="text" value="en"' in page
    assert "var_campaign=spring</textarea>" in page


def test_emptying_every_field_clears_the_widgets_options(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, "voicenter")
    set_widget_options(app, tenants.widgets["client shop"], {"language": "en", "var_a": "1"})
    response = admin_post(signed_in(app, "owner@resell.example"),
                          options_path(tenants.widgets["client shop"]),
                          provider_kind="voicenter", option_language="", custom="")
    assert response.status_code == 302
    assert stored(app, tenants.widgets["client shop"]).provider_options == {}
    assert api_widget(app, tenants, tenants.widgets["client shop"])["provider_options"] == {}


@pytest.mark.parametrize("fields, sentence, next_to", [
    ({"option_language": "english"}, BAD_LANGUAGE, "option_language-error"),
    ({"option_maxduration": "two hours"},
     "maxduration must be a whole number of seconds from 1 to 999999; 'two hours' is not.",
     "option_maxduration-error"),
    ({"custom": "var_bad name=1"}, "var_bad name is not a valid custom field name",
     "custom-error"),
    ({"custom": "\n".join(f"var_f{n}={n}" for n in range(11))},
     "At most 10 var_* custom fields are taken; 11 are set.", "custom-error"),
    ({"custom": "campaign=spring"}, "Custom field names start with var_: 'campaign'.",
     "custom-error"),
    ({"custom": "var_campaign"}, "Write each custom field as var_name=value: 'var_campaign'.",
     "custom-error"),
])
def test_an_invalid_option_is_refused_with_its_sentence_and_nothing_is_stored(
        app, fields, sentence, next_to):
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, "voicenter")
    set_widget_options(app, tenants.widgets["client shop"], {"language": "he"})
    response = admin_post(signed_in(app, "member@resell.example"),
                          options_path(tenants.widgets["client shop"]),
                          provider_kind="voicenter", option_record="true", **fields)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert sentence in page
    assert f'id="{next_to}"' in page
    assert stored(app, tenants.widgets["client shop"]).provider_options == {"language": "he"}


def test_the_admin_refuses_what_the_api_refuses_with_the_same_sentence(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, "voicenter")
    response = admin_post(signed_in(app, "member@resell.example"),
                          options_path(tenants.widgets["client shop"]),
                          provider_kind="voicenter", option_language="english")
    assert BAD_LANGUAGE in html.unescape(response.get_data(as_text=True))
    answer = patch_through_api(app, tenants, {"provider_options": {"language": "english"}})
    assert answer.status_code == 422
    assert BAD_LANGUAGE in answer.get_data(as_text=True)


def test_a_widget_overrides_one_option_and_keeps_the_accounts_required_ones(app):
    """The account's hold file stays in force: the widget sets only its call length."""
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, "c2c-php", options={"holdfile": "17"})
    response = admin_post(signed_in(app, "member@resell.example"),
                          options_path(tenants.widgets["client shop"]),
                          provider_kind="c2c-php", option_max_duration="90")
    assert response.status_code == 302
    assert stored(app, tenants.widgets["client shop"]).provider_options == {"max_duration": 90}
    answer = patch_through_api(app, tenants, {"provider_options": {"max_duration": "120"}})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["provider_options"] == {"max_duration": 120}


@pytest.mark.parametrize("kind", sorted(set(PROVIDERS) - {"simulator"}))
def test_the_fields_are_those_of_the_chosen_providers_kind(app, kind):
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, kind)
    page = page_of(signed_in(app, "owner@resell.example"), tenants.widgets["client shop"])
    for other in set(PROVIDERS) - {kind}:
        for spec in PROVIDERS[other].option_fields:
            if spec.name not in {s.name for s in PROVIDERS[kind].option_fields}:
                assert f'name="option_{spec.name}"' not in page, spec.name
    for spec in PROVIDERS[kind].option_fields:
        assert f'name="option_{spec.name}"' in page
        assert spec.label in page
    assert ('name="custom"' in page) == (kind == "voicenter")
    assert "Save provider options" in page and SECRET not in page


def test_the_simulator_has_no_options_and_the_page_says_so(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    page = page_of(signed_in(app, "owner@resell.example"), tenants.widgets["client shop"])
    assert "calls through the simulator, which takes no options" in " ".join(page.split())
    assert 'name="option_' not in page and "Save provider options" not in page
    add_provider(app, tenants, "simulator", name="sim-two")
    page = page_of(signed_in(app, "owner@resell.example"), tenants.widgets["client shop"])
    assert "Simulator (no real calls) takes no options" in page


def test_a_client_sees_its_resellers_provider_options_fields_but_not_its_values(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, "voicenter", options={"language": "he", "var_crm": "7"})
    page = page_of(signed_in(app, "owner@client-a.example"), tenants.widgets["client shop"])
    assert 'name="option_language"' in page
    assert "Empty: use the provider account's setting." in page
    assert "setting, he." not in page and "var_crm" not in page and SECRET not in page


def test_switching_to_another_kind_drops_the_options_it_does_not_take(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    voicenter = add_provider(app, tenants, "voicenter")
    second = add_provider(app, tenants, "voicenter", name="second", use=False)
    dialogtech = add_provider(app, tenants, "dialogtech", use=False)
    options = {"language": "en", "var_crm": "7"}
    set_widget_options(app, tenants.widgets["client shop"], options)
    owner = signed_in(app, "owner@resell.example")
    base = f"/admin/widgets/{tenants.widgets['client shop']}"
    # Another account of the same kind keeps them.
    assert admin_post(owner, base, **settings(provider_account_id=str(second))).status_code == 302
    assert stored(app, tenants.widgets["client shop"]).provider_options == options
    response = admin_post(owner, base, **settings(provider_account_id=str(dialogtech)))
    assert response.status_code == 302
    after = stored(app, tenants.widgets["client shop"])
    assert (after.provider_account_id, after.provider_options) == (dialogtech, {})
    assert ("Provider options language, var_crm dropped: dialogtech does not take them."
            in page_of(owner, tenants.widgets["client shop"]))
    assert voicenter


def test_a_switch_whose_kept_options_fail_the_new_kinds_check_is_refused(app):
    """c2c-php requires a hold file among the options the API accepts for a widget."""
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, "voice1")
    c2c = add_provider(app, tenants, "c2c-php", use=False)
    set_widget_options(app, tenants.widgets["client shop"], {"number_format": "plus",
                                                             "timeout": "30"})
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/widgets/{tenants.widgets['client shop']}",
                          **settings(provider_account_id=str(c2c)))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert ("This widget's own provider options do not suit c2c-php: holdfile is required: "
            "Hold file.") in page
    after = stored(app, tenants.widgets["client shop"])
    assert after.provider_options == {"number_format": "plus", "timeout": "30"}
    assert after.name == "client shop" and after.provider_account_id != c2c


def test_a_form_of_the_previous_provider_kind_stores_nothing(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, "dialogtech")
    set_widget_options(app, tenants.widgets["client shop"], {"type": "1"})
    response = admin_post(signed_in(app, "member@resell.example"),
                          options_path(tenants.widgets["client shop"]),
                          provider_kind="voicenter", option_language="en")
    assert response.status_code == 200
    assert "provider changed to dialogtech since the page was loaded" in html.unescape(
        response.get_data(as_text=True))
    assert stored(app, tenants.widgets["client shop"]).provider_options == {"type": "1"}


def test_read_only_users_see_the_options_but_cannot_change_them(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    add_provider(app, tenants, "voicenter")
    set_widget_options(app, tenants.widgets["client shop"], {"language": "he"})
    reader = signed_in(app, "read-only@resell.example")
    page = page_of(reader, tenants.widgets["client shop"])
    assert 'name="option_language" type="text" value="he"' in page
    assert "Save provider options" not in page
    response = admin_post(reader, options_path(tenants.widgets["client shop"]),
                          provider_kind="voicenter",
                          option_language="en")
    assert response.status_code == 403
    assert stored(app, tenants.widgets["client shop"]).provider_options == {"language": "he"}


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_widget_options_are_not_found_for_every_role(app, role):
    tenants = create_tree(app, **RESELL_RIVAL)
    set_widget_options(app, tenants.widgets["rival shop"], {"var_x": "1"})
    response = admin_post(signed_in(app, f"{role}@resell.example"),
                          options_path(tenants.widgets["rival shop"]),
                          provider_kind="simulator")
    assert response.status_code == 404
    assert stored(app, tenants.widgets["rival shop"]).provider_options == {"var_x": "1"}


def _c2c_php(app, tenants, fake):
    return add_provider(app, tenants, "c2c-php", base_url=fake.url, options={"holdfile": "17"},
                        credentials={"uid": fake.uid, "pin": fake.pin}, use=False)


def _dialogtech(app, tenants, fake):
    return add_provider(app, tenants, "dialogtech", base_url=fake.url, use=False,
                        credentials={"access_key": ACCESS_KEY,
                                     "secret_access_key": SECRET_ACCESS_KEY})


@pytest.mark.parametrize("kind, fake_class, make_provider, fields, received", [
    ("c2c-php", lambda: C2CPhpFake(sound_files=("17", "22")), _c2c_php,
     {"option_holdfile": "22", "option_max_duration": "90"},
     lambda fake: {k: fake.place_requests[0].form[k] for k in ("holdfile", "duration")}
     == {"holdfile": "22", "duration": "90"}),
    # type 1: the business is rung as phone_to_call, the visitor as id.
    ("dialogtech", FakeDialogTech, _dialogtech, {"option_type": "1"},
     lambda fake: {k: fake.dials[0][k] for k in ("type", "phone_to_call", "id")}
     == {"type": "1", "phone_to_call": "2025550100", "id": "2025550125"}),
], ids=["c2c-php", "dialogtech"])
def test_an_option_set_in_the_admin_reaches_the_provider_when_a_call_is_placed(
        live, kind, fake_class, make_provider, fields, received):
    app = live.app
    tenants = create_tree(app, **RESELL_RIVAL)
    member = signed_in(app, "member@resell.example")
    with fake_class() as fake:
        provider_id = make_provider(app, tenants, fake)
        response = admin_post(member, f"/admin/widgets/{tenants.widgets['client shop']}",
                              **settings(
            provider_account_id=str(provider_id), business_numbers="+12025550100",
            home_country="US", allowed_countries="", language="en"))
        assert response.status_code == 302
        response = admin_post(member, options_path(tenants.widgets["client shop"]),
                              provider_kind=kind,
                              **fields)
        assert response.status_code == 302
        with app.app_context():
            token = tokens.embed_token(db.session.get(Widget, tenants.widgets["client shop"]))
            db.session.remove()
        shown = live.place_call(token, "+12025550125")
        assert shown["status"] == "completed", shown
        assert received(fake)
