"""Widgets and domains: create, read, update, delete, rotate; the snippet works for embedding."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import make_provider, make_widget


def _token(snippet: str) -> str:
    return re.search(r'data-widget="([^"]+)"', snippet).group(1)


def test_a_widget_is_created_for_a_client_with_its_snippet(api, client, tenants):
    widget = make_widget(api, "reseller", account_id=tenants.ids["client-a"],
                         domains=["Shop.Example", "*.shop.example"],
                         opening_hours={"mon": [["09:00", "17:00"]]}, time_zone="Europe/London")
    assert widget["account_id"] == tenants.ids["client-a"]
    assert [d["pattern"] for d in widget["domains"]] == ["*.shop.example", "shop.example"]
    assert widget["embed_snippet"].startswith('<script async src="http://localhost/embed/v1/')
    config = client.get(f"/embed/v1/config/{_token(widget['embed_snippet'])}",
                        headers={"Origin": "https://shop.example"})
    assert config.status_code == 200
    assert api("GET", f"/widgets/{widget['id']}", key="client-a").get_json() == widget


def test_updating_a_widget_changes_only_the_named_fields(api):
    widget = make_widget(api, "client-a")
    response = api("PATCH", f"/widgets/{widget['id']}", key="client-a",
                   json={"button_colour": "#112233", "paused": True})
    assert response.get_json() == widget | {"button_colour": "#112233", "paused": True}
    bad = api("PATCH", f"/widgets/{widget['id']}", key="client-a",
              json={"opening_hours": {"mon": [["09:00", "09:00"]]}, "time_zone": "Mars/Base"})
    assert set(bad.get_json()["errors"]) == {"opening_hours.mon", "time_zone"}


def test_rotating_the_token_stops_the_old_snippet(api, client):
    widget = make_widget(api, "client-a")
    rotated = api("POST", f"/widgets/{widget['id']}/rotate_token", key="client-a").get_json()
    assert rotated["embed_snippet"] != widget["embed_snippet"]
    origin = {"Origin": "https://shop.example"}
    old = client.get(f"/embed/v1/config/{_token(widget['embed_snippet'])}", headers=origin)
    new = client.get(f"/embed/v1/config/{_token(rotated['embed_snippet'])}", headers=origin)
    assert (old.status_code, new.status_code) == (403, 200)


def test_a_deleted_widget_is_gone_from_the_api_and_its_snippet_stops(api, client):
    widget = make_widget(api, "client-a")
    assert api("DELETE", f"/widgets/{widget['id']}", key="client-a").status_code == 204
    assert api("GET", f"/widgets/{widget['id']}", key="client-a").status_code == 404
    assert api("GET", "/widgets", key="client-a").get_json()["items"] == []
    config = client.get(f"/embed/v1/config/{_token(widget['embed_snippet'])}",
                        headers={"Origin": "https://shop.example"})
    assert config.status_code == 410 and config.get_json()["error"] == "widget_removed"


def test_domains_are_added_normalised_refused_when_invalid_and_removed(api):
    widget = make_widget(api, "client-a", domains=[])
    path = f"/widgets/{widget['id']}/domains"
    added = api("POST", path, key="client-a", json={"pattern": "https://BÜCHER.example/x"})
    assert added.status_code == 201
    assert added.get_json()["pattern"] == "xn--bcher-kva.example"
    assert api("POST", path, key="client-a",
               json={"pattern": "bücher.example"}).status_code == 409
    for pattern in ("*.com", "*.co.uk", "*.github.io", "co.uk"):
        bad = api("POST", path, key="client-a", json={"pattern": pattern})
        assert bad.status_code == 422 and "public suffix" in bad.get_json()["errors"]["pattern"]
    domain_id = added.get_json()["id"]
    assert api("DELETE", f"{path}/{domain_id}", key="client-a").status_code == 204
    assert api("GET", path, key="client-a").get_json()["items"] == []


def test_a_widget_uses_a_provider_account_of_its_account_or_above_only(api, tenants):
    reseller_provider = make_provider(api, "reseller", name="reseller-sim")
    sibling_provider = make_provider(api, "client-b", name="b-sim")
    widget = make_widget(api, "reseller", account_id=tenants.ids["client-a"],
                         provider_account_id=reseller_provider["id"])
    assert widget["provider_account_id"] == reseller_provider["id"]
    refused = api("PATCH", f"/widgets/{widget['id']}",
                  json={"provider_account_id": sibling_provider["id"]})
    assert refused.status_code == 422
    assert "provider_account_id" in refused.get_json()["errors"]


def test_a_tenant_cannot_set_a_widgets_caps_above_the_installations_ceilings(app, api):
    app.config.update(CEILING_PER_NUMBER=5, CEILING_PER_IP=8)
    refused = api("POST", "/widgets", key="client-a", json={
        "business_numbers": ["+12025550100"], "cap_per_number": 1_000_000,
        "cap_per_ip": 9})
    assert refused.status_code == 422
    assert refused.headers["Content-Type"] == "application/problem+json"
    errors = refused.get_json()["errors"]
    assert errors == {
        "cap_per_number": "This installation allows at most 5 calls a day to one number on "
                          "any widget; use 5 or less.",
        "cap_per_ip": "This installation allows at most 8 calls a day from one visitor "
                      "address on any widget; use 8 or less."}
    widget = make_widget(api, "client-a", cap_per_number=5, cap_per_ip=8)
    path = f"/widgets/{widget['id']}"
    refused = api("PATCH", path, key="client-a", json={"cap_per_number": 6})
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {
        "cap_per_number"}
    assert api("GET", path, key="client-a").get_json()["cap_per_number"] == 5
    lowered = api("PATCH", path, key="client-a", json={"cap_per_number": 2, "cap_per_ip": None})
    assert lowered.status_code == 200
    assert (lowered.get_json()["cap_per_number"], lowered.get_json()["cap_per_ip"]) == (2, None)


def test_overnight_hours_and_a_midnight_close_are_taken_as_the_admin_takes_them(api):
    widget = make_widget(api, "client-a")
    path = f"/widgets/{widget['id']}"
    hours = {"fri": [["18:00", "24:00"]], "sat": [["22:00", "02:00"]]}
    changed = api("PATCH", path, key="client-a", json={"opening_hours": hours})
    assert changed.status_code == 200, changed.get_json()
    read = api("GET", path, key="client-a").get_json()["opening_hours"]
    assert read == hours
    again = api("PATCH", path, key="client-a", json={"opening_hours": read})
    assert again.status_code == 200
    refused = api("PATCH", path, key="client-a",
                  json={"opening_hours": {"mon": [["24:00", "02:00"]]}})
    assert refused.status_code == 422 and refused.get_json()["errors"] == {
        "opening_hours.mon": "A range cannot start at 24:00; use 00:00 of the next day."}


@pytest.mark.parametrize("numbers, sentence", [
    (["+12025550100", "+1 202 555 0100"],
     "+12025550100 is in the list twice; give each number once."),
    (["+1 202 555 0100 ext. 12"], "'+1 202 555 0100 ext. 12' has an extension; give a number "
                                  "that rings directly."),
])
def test_a_business_number_given_twice_or_with_an_extension_is_refused(api, numbers, sentence):
    refused = api("POST", "/widgets", key="client-a", json={"business_numbers": numbers})
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"business_numbers": sentence}
    widget = make_widget(api, "client-a")
    path = f"/widgets/{widget['id']}"
    refused = api("PATCH", path, key="client-a", json={"business_numbers": numbers})
    assert refused.get_json()["errors"] == {"business_numbers": sentence}
    assert api("GET", path, key="client-a").get_json()["business_numbers"] == ["+12025550100"]


def test_a_widgets_caps_stay_within_its_accounts_daily_allowance(api):
    refused = api("POST", "/widgets", key="client-a", json={
        "business_numbers": ["+12025550100"], "cap_per_widget": 11})
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {
        "cap_per_widget": "client-a's daily allowance is 10 calls; stay within it."}
    assert make_widget(api, "client-a", cap_per_widget=10)["cap_per_widget"] == 10


def test_a_wrong_type_and_a_broken_rule_are_named_in_one_answer(api):
    widget = make_widget(api, "client-a")
    refused = api("PATCH", f"/widgets/{widget['id']}", key="client-a", json={
        "paused": "yes", "opening_hours": {"mon": [["09:00", "09:00"]]}})
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"paused", "opening_hours.mon"}
    refused = api("POST", "/widgets", key="client-a", json={
        "business_numbers": ["+12025550100", "+12025550100"], "cap_per_ip": "many"})
    assert set(refused.get_json()["errors"]) == {"business_numbers", "cap_per_ip"}


@pytest.mark.parametrize("language", ["fa", "xx", "ar-XX-1"])
def test_a_language_visitors_cannot_read_is_refused(api, language):
    """Before, ar, he and fa were stored and silently showed English."""
    widget = make_widget(api, "client-a")
    refused = api("PATCH", f"/widgets/{widget['id']}", key="client-a",
                  json={"language": language})
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"language"}
    refused = api("POST", "/widgets", key="client-a", json={
        "business_numbers": ["+12025550100"], "language": language})
    assert set(refused.get_json()["errors"]) == {"language"}
    assert api("GET", f"/widgets/{widget['id']}", key="client-a").get_json() == widget


@pytest.mark.parametrize("language", ["ar", "he", "pt-BR", "auto"])
def test_a_language_with_a_catalogue_or_auto_is_taken(api, client, language):
    widget = make_widget(api, "client-a", language=language)
    assert widget["language"] == language
    config = client.get(f"/embed/v1/config/{_token(widget['embed_snippet'])}",
                        headers={"Origin": "https://shop.example", "Accept-Language": "he"})
    assert config.get_json()["dir"] == ("ltr" if language == "pt-BR" else "rtl")


def test_display_rules_are_set_read_and_reach_the_loaders_config(api, client):
    widget = make_widget(api, "client-a")
    assert (widget["show_on_paths"], widget["hide_on_paths"]) == ([], [])
    assert (widget["show_after_seconds"], widget["show_after_scroll"]) == (0, 0)
    rules = {"show_on_paths": ["/shop/*", "/contact"], "hide_on_paths": ["/shop/checkout*"],
             "show_after_seconds": 10, "show_after_scroll": 50}
    updated = api("PATCH", f"/widgets/{widget['id']}", key="client-a", json=rules)
    assert updated.status_code == 200
    assert updated.get_json() == widget | rules
    config = client.get(f"/embed/v1/config/{_token(widget['embed_snippet'])}",
                        headers={"Origin": "https://shop.example"}).get_json()
    assert {name: config[name] for name in rules} == rules


def test_display_rules_out_of_shape_are_refused_each_by_its_field(api):
    widget = make_widget(api, "client-a")
    refused = api("PATCH", f"/widgets/{widget['id']}", key="client-a", json={
        "show_on_paths": ["shop/*"], "hide_on_paths": ["/a b"],
        "show_after_seconds": 3601, "show_after_scroll": 101})
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert set(errors) == {"show_on_paths", "hide_on_paths", "show_after_seconds",
                           "show_after_scroll"}
    assert errors["show_after_scroll"] == "Use a whole number from 0 to 100."
    assert "starts with /" in errors["show_on_paths"]
    assert api("GET", f"/widgets/{widget['id']}", key="client-a").get_json() == widget


def test_a_widget_mails_the_addresses_it_names_on_the_events_it_chooses(api):
    widget = make_widget(api, "client-a", notify_emails=[" Owner@Shop.EXAMPLE "],
                         notify_events=["digest", "missed"])
    assert (widget["notify_emails"], widget["notify_events"]) == (
        ["Owner@shop.example"], ["missed", "digest"])
    bad = api("PATCH", f"/widgets/{widget['id']}", key="client-a",
              json={"notify_emails": ["owner@shop.example\r\nBcc: x@evil.example"],
                    "notify_events": ["called"]})
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]
    assert set(errors) == {"notify_emails", "notify_events"}
    assert api("GET", f"/widgets/{widget['id']}", key="client-a").get_json() == widget
    off = api("PATCH", f"/widgets/{widget['id']}", key="client-a", json={"notify_events": []})
    assert off.get_json()["notify_events"] == []


def test_redials_are_off_by_default_and_set_within_their_ranges(api):
    widget = make_widget(api, "client-a")
    assert (widget["redial_attempts"], widget["redial_interval_minutes"]) == (0, 10)
    path = f"/widgets/{widget['id']}"
    changed = api("PATCH", path, json={"redial_attempts": 3, "redial_interval_minutes": 30})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["redial_attempts"],
            changed.get_json()["redial_interval_minutes"]) == (3, 30)
    refused = api("PATCH", path, json={"redial_attempts": 6, "redial_interval_minutes": 0})
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {
        "redial_attempts": "Use a whole number from 0 to 5.",
        "redial_interval_minutes": "Use a whole number from 1 to 1440."}
    assert api("GET", path).get_json()["redial_attempts"] == 3
