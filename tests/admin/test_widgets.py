"""Widgets in the admin: created for a client, edited with checked settings, paused, deleted."""

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
from widget_server.models import Account, Widget

FRAME_ORIGIN = "https://shop.example"


def settings(**overrides) -> dict:
    """A valid settings form as the edit page posts it."""
    form = {"name": "Main shop", "button_label": "Ring me", "button_colour": "#AA3300",
            "button_position": "bottom-left", "language": "de",
            "consent_text": "Ruft mich einmal an.",
            "business_numbers": "+44 20 7946 0018\n\n+1 (202) 555-0100\n",
            "home_country": "gb", "allowed_countries": "GB, ie", "cap_per_ip": "2",
            "cap_per_number": "", "cap_per_widget": "50", "time_zone": "Europe/London",
            "outside_hours": "hidden", "provider_account_id": "0"}
    form.update({f"hours_{day}": "" for day in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                  "sun")})
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def stored(app, widget_id: int) -> Widget:
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        db.session.expunge(widget)
        return widget


def frame(client, token: str, origin: str = FRAME_ORIGIN):
    return client.get(f"/embed/v1/frame/{token}", query_string={"origin": origin})


def snippet_token(page: str) -> str:
    return re.search(r'data-widget="([^"]+)"', html.unescape(page)).group(1)


def test_reseller_issues_a_widget_to_its_client_with_its_own_provider(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    response = admin_post(owner, "/admin/widgets/new", account_id=tenants.ids["client-a"],
                          **settings(provider_account_id=str(tenants.providers["resell-sim"])))
    assert response.status_code == 302
    page = html.unescape(owner.get(response.location).get_data(as_text=True))
    with app.app_context():
        widget = db.session.scalar(db.select(Widget).where(Widget.name == "Main shop"))
        assert widget.account_id == tenants.ids["client-a"]
        assert widget.provider_account_id == tenants.providers["resell-sim"]
        assert widget.business_numbers == ["+442079460018", "+12025550100"]
        assert (widget.home_country, widget.allowed_countries) == ("GB", ["GB", "IE"])
        assert (widget.button_colour, widget.button_position) == ("#aa3300", "bottom-left")
        assert (widget.cap_per_ip, widget.cap_per_number, widget.cap_per_widget) == (2, None, 50)
        assert widget.opening_hours == {}
    assert "Copy snippet" in page and 'src="http://localhost/embed/v1/loader.js"' in page
    # The client's own owner sees it in their list.
    assert "Main shop" in signed_in(app, "owner@client-a.example").get(
        "/admin/widgets").get_data(as_text=True)


def test_snippet_uses_the_public_url_when_one_is_configured(make_app):
    app = make_app(PUBLIC_URL="https://widgets.example")
    tenants = create_tree(app, **RESELL_RIVAL)
    member = signed_in(app, "member@resell.example")
    page = member.get(f"/admin/widgets/{tenants.widgets['client shop']}")
    assert 'src="https://widgets.example/embed/v1/loader.js"' in html.unescape(
        page.get_data(as_text=True))


def test_the_snippet_shown_places_the_widget_on_its_domain(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    page = owner.get(f"/admin/widgets/{tenants.widgets['client shop']}")
    assert frame(app.test_client(), snippet_token(page.get_data(as_text=True))).status_code == 200


def test_preview_shows_the_chosen_label_colour_and_position_without_calling(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}", **settings())
    page = owner.get(f"/admin/widgets/{tenants.widgets['client shop']}").get_data(as_text=True)
    preview = re.search(r'<div class="widget-preview"[^>]*>(.*?)</div>', page, re.DOTALL).group(1)
    assert "widget-preview-bottom-left" in preview and 'data-colour="#aa3300"' in preview
    assert "Ring me" in preview
    assert "<form" not in preview and "<script" not in preview and "href" not in preview


@pytest.mark.parametrize("field, value, sentence", [
    ("button_colour", "red", "Use a colour such as #0b6e4f."),
    ("business_numbers", "+1 555", "is not a valid phone number"),
    ("business_numbers", "  \n ", "This field is required."),
    ("business_numbers", "+12025550100\n+1 202 555 0100",
     "+12025550100 is in the list twice; give each number once."),
    ("business_numbers", "+1 202 555 0100 ext. 12", "has an extension"),
    ("home_country", "XX", "'XX' is not a country code"),
    ("allowed_countries", "GB ZZ", "Not country codes: ZZ."),
    ("time_zone", "Mars/Olympus", "'Mars/Olympus' is not a time zone"),
    ("hours_mon", "9-5", "'9-5' is not a time span like 09:00-17:00."),
    ("hours_tue", "09:00-09:00", "The range 09:00-09:00 is empty."),
    ("hours_wed", "09:00-24:30", "'24:30' is not a time like 09:00."),
    ("button_position", "top-left", "Not a valid choice"),
    ("language", "fa", "There is no visitor form in 'fa' yet. Use auto or one of en, ar,"),
    ("cap_per_ip", "-1", "Number must be at least 0."),
    ("notify_emails", "owner@shop.example\nowner at shop", "'owner at shop' is not an e-mail"),
])
def test_a_bad_setting_is_explained_next_to_its_field_and_nothing_is_stored(
        app, field, value, sentence):
    tenants = create_tree(app, **RESELL_RIVAL)
    before = stored(app, tenants.widgets["client shop"])
    # Hours are read (and refused) when the widget keeps them.
    limited = {"hours_limited": "y"} if field.startswith("hours_") else {}
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/widgets/{tenants.widgets['client shop']}",
                          **settings(**{field: value}, **limited))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert error and sentence in error.group(1)
    assert f'aria-describedby="{field}-hint {field}-error"' in page or \
        f'aria-describedby="{field}-error"' in page
    after = stored(app, tenants.widgets["client shop"])
    assert (after.name, after.business_numbers, after.button_colour) == (
        before.name, before.business_numbers, before.button_colour)


def test_the_owner_chooses_who_is_mailed_about_which_calls(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    response = admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}", **settings(
        notify_emails="owner@shop.example\n\n Sales@Shop.Example ", notify_missed="y",
        notify_digest="y"))
    assert response.status_code == 302
    widget = stored(app, tenants.widgets["client shop"])
    assert widget.notify_emails == ["owner@shop.example", "Sales@shop.example"]
    assert widget.notify_events == ["missed", "digest"]
    page = owner.get(f"/admin/widgets/{tenants.widgets['client shop']}").get_data(as_text=True)
    checked = set(re.findall(r'<input [^>]*\bchecked\b[^>]*id="notify_(\w+)"', page))
    assert checked == {"missed", "digest"}
    assert "owner@shop.example\nSales@shop.example</textarea>" in page


def test_caps_above_the_accounts_daily_allowance_are_refused(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    with app.app_context():
        db.session.get(Account, tenants.ids["client-a"]).daily_call_cap = 20
        db.session.commit()
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/widgets/{tenants.widgets['client shop']}",
                          **settings(cap_per_widget="21"))
    assert "client-a's daily allowance is 20 calls" in html.unescape(
        response.get_data(as_text=True))
    assert stored(app, tenants.widgets["client shop"]).cap_per_widget is None
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/widgets/{tenants.widgets['client shop']}",
                          **settings(cap_per_widget="20"))
    assert response.status_code == 302
    assert stored(app, tenants.widgets["client shop"]).cap_per_widget == 20


@pytest.mark.parametrize("field, ceiling, what", [
    ("cap_per_number", "CEILING_PER_NUMBER", "calls a day to one number"),
    ("cap_per_ip", "CEILING_PER_IP", "calls a day from one visitor address"),
])
def test_caps_above_the_installations_ceiling_are_refused(app, field, ceiling, what):
    app.config[ceiling] = 4
    tenants = create_tree(app, **RESELL_RIVAL)
    member = signed_in(app, "member@resell.example")
    page = f"/admin/widgets/{tenants.widgets['client shop']}"
    response = admin_post(member, page, **settings(**{field: "1000000"}))
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>',
                      html.unescape(response.get_data(as_text=True)))
    assert error and error.group(1).strip() == (
        f"This installation allows at most 4 {what} on any widget; use 4 or less.")
    assert getattr(stored(app, tenants.widgets["client shop"]), field) is None
    # A new widget is held to the same ceiling.
    created = admin_post(member, "/admin/widgets/new", account_id=tenants.ids["client-a"],
                         **settings(**{field: "5"}))
    assert created.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(Widget).where(Widget.name == "Main shop")) is None
    assert admin_post(member, page, **settings(**{field: "4"})).status_code == 302
    assert getattr(stored(app, tenants.widgets["client shop"]), field) == 4
    # The form says what the ceiling is before anyone trips over it.
    assert "at most 4." in html.unescape(member.get(page).get_data(as_text=True))


def test_opening_hours_are_stored_per_weekday_with_their_time_zone(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "member@resell.example")
    response = admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}", **settings(
        hours_limited="y", hours_mon="09:00-12:00, 13:00 - 17:30", hours_sat="10:00-14:00",
        time_zone="America/New_York", outside_hours="callback"))
    assert response.status_code == 302
    widget = stored(app, tenants.widgets["client shop"])
    assert widget.time_zone == "America/New_York" and widget.outside_hours == "callback"
    assert widget.opening_hours == {"mon": [["09:00", "12:00"], ["13:00", "17:30"]],
                                    "tue": [], "wed": [], "thu": [], "fri": [],
                                    "sat": [["10:00", "14:00"]], "sun": []}
    page = owner.get(f"/admin/widgets/{tenants.widgets['client shop']}").get_data(as_text=True)
    assert 'value="09:00-12:00, 13:00-17:30"' in page
    admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}",
               **settings(hours_mon="09:00-12:00"))
    assert stored(app, tenants.widgets["client shop"]).opening_hours == {}


def test_overnight_hours_and_midnight_closing_are_stored_as_the_api_takes_them(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "member@resell.example")
    response = admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}", **settings(
        hours_limited="y", hours_fri="18:00-24:00", hours_sat="22:00-02:00"))
    assert response.status_code == 302
    hours = stored(app, tenants.widgets["client shop"]).opening_hours
    assert (hours["fri"], hours["sat"]) == ([["18:00", "24:00"]], [["22:00", "02:00"]])
    page = owner.get(f"/admin/widgets/{tenants.widgets['client shop']}").get_data(as_text=True)
    assert 'value="22:00-02:00"' in page


def test_another_tenants_provider_account_cannot_be_chosen(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    page = owner.get(f"/admin/widgets/{tenants.widgets['client shop']}").get_data(as_text=True)
    assert "rival-sim" not in page and "resell-sim" in page
    response = admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}",
                          **settings(provider_account_id=str(tenants.providers["rival-sim"])))
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert stored(app, tenants.widgets["client shop"]).provider_account_id is None


def test_a_client_keeps_the_resellers_provider_it_was_issued_with(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    with app.app_context():
        db.session.get(Widget, tenants.widgets["client shop"]).provider_account_id = \
            tenants.providers["resell-sim"]
        db.session.commit()
    client_owner = signed_in(app, "owner@client-a.example")
    response = admin_post(client_owner, f"/admin/widgets/{tenants.widgets['client shop']}",
                          **settings(provider_account_id=str(tenants.providers["resell-sim"])))
    assert response.status_code == 302
    assert stored(app, tenants.widgets["client shop"]).provider_account_id == \
        tenants.providers["resell-sim"]


def test_a_client_may_switch_back_to_its_resellers_provider(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    with app.app_context():
        db.session.get(Widget, tenants.widgets["client shop"]).provider_account_id = \
            tenants.providers["resell-sim"]
        db.session.commit()
    client_owner = signed_in(app, "owner@client-a.example")
    path = f"/admin/widgets/{tenants.widgets['client shop']}"
    assert admin_post(client_owner, path, **settings(provider_account_id="0")).status_code == 302
    assert stored(app, tenants.widgets["client shop"]).provider_account_id is None
    assert "resell-sim" in client_owner.get(path).get_data(as_text=True)
    back = admin_post(client_owner, path,
                      **settings(provider_account_id=str(tenants.providers["resell-sim"])))
    assert back.status_code == 302
    assert stored(app, tenants.widgets["client shop"]).provider_account_id == \
        tenants.providers["resell-sim"]


def test_a_clients_new_widget_may_use_its_resellers_provider(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    client_owner = signed_in(app, "owner@client-a.example")
    form = client_owner.get("/admin/widgets/new").get_data(as_text=True)
    assert "resell-sim" in form and "rival-sim" not in form
    response = admin_post(client_owner, "/admin/widgets/new",
                          account_id=str(tenants.ids["client-a"]),
                          **settings(provider_account_id=str(tenants.providers["resell-sim"])))
    assert response.status_code == 302
    with app.app_context():
        widget = db.session.scalar(db.select(Widget).where(Widget.name == "Main shop"))
        assert widget.provider_account_id == tenants.providers["resell-sim"]


def test_pausing_resuming_and_deleting_reach_the_embedded_widget(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "member@resell.example")
    page = owner.get(f"/admin/widgets/{tenants.widgets['client shop']}").get_data(as_text=True)
    token, visitor = snippet_token(page), app.test_client()
    admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}/pause")
    assert frame(visitor, token).get_json()["error"] == "widget_paused"
    admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}/resume")
    assert frame(visitor, token).status_code == 200
    admin_post(owner, f"/admin/widgets/{tenants.widgets['client shop']}/delete")
    removed = frame(visitor, token)
    assert removed.status_code == 410 and removed.get_json() == {
        "error": "widget_removed",
        "message": "This call-back widget has been removed by its owner."}
    assert stored(app, tenants.widgets["client shop"]).deleted_at is not None
    listed = owner.get("/admin/widgets").get_data(as_text=True)
    assert f'href="/admin/widgets/{tenants.widgets["client shop"]}"' not in listed
    assert owner.get(f"/admin/widgets/{tenants.widgets['client shop']}").status_code == 404


def test_read_only_users_see_widgets_but_every_change_is_forbidden(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    reader = signed_in(app, "read-only@resell.example")
    page = reader.get(f"/admin/widgets/{tenants.widgets['client shop']}").get_data(as_text=True)
    assert "client shop" in page and "Save settings" not in page
    assert reader.get("/admin/widgets/new").status_code == 403
    base = f"/admin/widgets/{tenants.widgets['client shop']}"
    for path, data in [(base, settings(name="changed")), (f"{base}/pause", {}),
                       (f"{base}/delete", {}), ("/admin/widgets/new",
                                                settings(account_id=str(tenants.ids["client-a"])))]:
        assert admin_post(reader, path, **data).status_code == 403, path
    after = stored(app, tenants.widgets["client shop"])
    assert (after.name, after.paused, after.deleted_at) == ("client shop", False, None)
    with app.app_context():
        assert db.session.query(Widget).count() == 2


def test_widgets_can_only_be_created_for_accounts_in_the_subtree(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    with app.app_context():
        rival_id = db.session.scalar(db.select(Account.id).where(Account.name == "rival"))
    response = admin_post(signed_in(app, "owner@resell.example"), "/admin/widgets/new",
                          account_id=str(rival_id),
                          **settings())
    assert "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Widget).filter_by(account_id=rival_id).count() == 1
    assert tenants.widgets["rival shop"]


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_widget_is_not_found_on_every_route_for_every_role(app, role):
    tenants = create_tree(app, **RESELL_RIVAL)
    user = signed_in(app, f"{role}@resell.example")
    base = f"/admin/widgets/{tenants.widgets['rival shop']}"
    assert user.get(base).status_code == 404
    for path in (base, f"{base}/pause", f"{base}/resume", f"{base}/delete"):
        assert admin_post(user, path, **settings(name="taken")).status_code == 404, path
    after = stored(app, tenants.widgets["rival shop"])
    assert (after.name, after.paused, after.deleted_at) == ("rival shop", False, None)
    assert "rival shop" not in user.get("/admin/widgets").get_data(as_text=True)
