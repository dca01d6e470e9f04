"""An account's block list in the admin, as the embedded widget then sees it.

Numbers added on the account's page or with "Block this number" on a call's
page are refused by ``POST /embed/v1/calls`` with 403 ``phone_blocked``;
other numbers still get through. Read-only users change nothing; another
tenant's account, entry or call is a 404 for every role.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from tests.factories import (
    RESELL_RIVAL,
    ROLES,
    admin_post,
    call_body,
    create_call,
    create_tree,
    post_call,
    signed_in,
)
from widget_server.extensions import db
from widget_server.models import BlockedNumber, CallRequest, Widget

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

BLOCKED, OTHER = "+12025550123", "+12025550124"


def blocked(app, account_id: int) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(BlockedNumber.e164).where(
            BlockedNumber.account_id == account_id)))


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def widget_row(app, widget_id: int) -> Widget:
    with app.app_context():
        row = db.session.get(Widget, widget_id)
        db.session.expunge(row)
        return row


def visitor_call(app, widget_id: int, phone: str):
    """The widget's frame asks for a call to ``phone``, as a visitor's browser does."""
    client = app.test_client()
    return post_call(client, call_body(app, client, widget_row(app, widget_id), phone=phone))


def assert_blocked(response) -> None:
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"] == "phone_blocked"


def stored_call(app, widget_id: int, number: str = "+12025550177") -> str:
    """A call in the widget's account's history, as the reports list it."""
    with app.app_context():
        return create_call(widget=db.session.get(Widget, widget_id), number=number).public_id


def add_entry(app, account_id: int, e164: str) -> int:
    with app.app_context():
        entry = BlockedNumber(account_id=account_id, e164=e164)
        db.session.add(entry)
        db.session.commit()
        return entry.id


def test_a_number_blocked_in_the_admin_is_normalised_and_refused_by_the_widget(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    member = signed_in(app, "member@resell.example")
    page = f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers"
    assert visitor_call(app, tenants.widgets["client shop"], BLOCKED).status_code == 202
    response = admin_post(member, page, number="(202) 555-0123", country="US")
    assert response.status_code == 302 and response.location.endswith(page)
    assert blocked(app, tenants.ids["client-a"]) == [BLOCKED]
    listing = text_of(member.get(page))
    assert "+12025550123 blocked: client-a's widgets refuse to call it back." in listing
    assert f"<code>{BLOCKED}</code>" in listing
    assert_blocked(visitor_call(app, tenants.widgets["client shop"], "(202) 555-0123"))
    assert visitor_call(app, tenants.widgets["client shop"], OTHER).status_code == 202


@pytest.mark.parametrize(("number", "country", "e164"), [
    ("+44 20 7946 0018", "", "+442079460018"),
    ("020 7946 0018", "gb", "+442079460018"),
    ("+49 151 23456789", "US", "+4915123456789"),
    ("+1 876 555 1234", "", "+18765551234"),
])
def test_any_valid_number_of_any_country_is_stored_as_e164(app, number, country, e164):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers",
                          number=number, country=country)
    assert response.status_code == 302
    assert blocked(app, tenants.ids["client-a"]) == [e164]


@pytest.mark.parametrize(("number", "country", "field", "sentence"), [
    ("not a number", "US", "number", "That does not look like a phone number."),
    ("12", "US", "number", "That phone number is not valid; please check it."),
    ("2025550123", "", "number",
     "Give the number in +country format, such as +12025550123, or choose its country."),
    ("", "US", "number", "Enter the phone number to block."),
    ("2025550123", "XX", "country", "'XX' is not a country code such as US or GB."),
])
def test_garbage_is_refused_next_to_its_field_and_blocks_nothing(app, number, country, field,
                                                                  sentence):
    tenants = create_tree(app, **RESELL_RIVAL)
    response = admin_post(signed_in(app, "owner@resell.example"),
                          f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers",
                          number=number, country=country)
    page = text_of(response)
    assert response.status_code == 400
    assert f'<p class="field-error" id="{field}-error">{sentence}</p>' in page
    assert f'aria-describedby="{field}-hint {field}-error" aria-invalid="true"' in page
    assert blocked(app, tenants.ids["client-a"]) == []


def test_blocking_a_number_twice_is_a_friendly_no_op(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    page = f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers"
    assert admin_post(owner, page, number=BLOCKED, country="").status_code == 302
    again = admin_post(owner, page, number="202-555-0123", country="US")
    assert again.status_code == 302
    assert ("+12025550123 is on client-a's block list already; nothing changed."
            in text_of(owner.get(page)))
    assert blocked(app, tenants.ids["client-a"]) == [BLOCKED]


def test_a_removed_number_is_called_back_again(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    entry_id = add_entry(app, tenants.ids["client-a"], BLOCKED)
    assert_blocked(visitor_call(app, tenants.widgets["client shop"], BLOCKED))
    owner = signed_in(app, "owner@resell.example")
    page = f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers"
    assert f"/blocked-numbers/{entry_id}/delete" in text_of(owner.get(page))
    response = admin_post(owner, f"{page}/{entry_id}/delete")
    assert response.status_code == 302
    assert blocked(app, tenants.ids["client-a"]) == []
    assert "+12025550123 removed from client-a's block list" in text_of(owner.get(page))
    assert visitor_call(app, tenants.widgets["client shop"], BLOCKED).status_code == 202


def test_block_this_number_on_a_call_blocks_it_for_the_calls_account(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    accepted = visitor_call(app, tenants.widgets["client shop"], "+1 202 555 0177")
    assert accepted.status_code == 202
    with app.app_context():
        call_id = db.session.scalar(select(CallRequest.public_id))
    member = signed_in(app, "member@resell.example")  # of the reseller above the call's account
    call_page = f"/admin/reports/calls/{call_id}"
    before = text_of(member.get(call_page))
    assert f'action="{call_page}/block"' in before and "Block this number" in before
    response = admin_post(member, f"{call_page}/block")
    assert response.status_code == 302 and response.location.endswith(call_page)
    after = text_of(member.get(call_page))
    assert "+12025550177 blocked: client-a's widgets refuse to call it back." in after
    assert "+12025550177 is on client-a's block list" in after
    assert "Block this number" not in after
    assert blocked(app, tenants.ids["client-a"]) == ["+12025550177"]
    assert blocked(app, tenants.ids["resell"]) == []
    assert_blocked(visitor_call(app, tenants.widgets["client shop"], "+12025550177"))
    assert visitor_call(app, tenants.widgets["client shop"], OTHER).status_code == 202
    # Pressed again (another tab): nothing changes, nothing fails.
    assert admin_post(member, f"{call_page}/block").status_code == 302
    assert blocked(app, tenants.ids["client-a"]) == ["+12025550177"]


def test_the_page_is_reached_from_the_accounts_page_and_the_navigation(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@client-a.example")
    page = f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers"
    assert f'href="{page}"' in text_of(owner.get("/admin/accounts"))
    assert f'href="{page}"' in text_of(owner.get("/admin/"))
    reseller = signed_in(app, "read-only@resell.example")
    accounts = text_of(reseller.get("/admin/accounts"))
    assert f'href="{page}"' in accounts
    assert f'href="/admin/accounts/{tenants.ids["resell"]}/blocked-numbers"' in accounts


def test_read_only_users_read_the_list_but_change_nothing(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    entry_id = add_entry(app, tenants.ids["client-a"], BLOCKED)
    call_id = stored_call(app, tenants.widgets["client shop"])
    reader = signed_in(app, "read-only@resell.example")
    page = f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers"
    listing = reader.get(page)
    assert listing.status_code == 200 and BLOCKED in text_of(listing)
    assert "Block number" not in text_of(listing) and "/delete" not in text_of(listing)
    assert "Block this number" not in text_of(reader.get(f"/admin/reports/calls/{call_id}"))
    for path in (page, f"{page}/{entry_id}/delete", f"/admin/reports/calls/{call_id}/block"):
        assert admin_post(reader, path, number=OTHER, country="US").status_code == 403, path
    assert blocked(app, tenants.ids["client-a"]) == [BLOCKED]


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_list_entries_and_calls_are_not_found_for_every_role(app, role):
    tenants = create_tree(app, **RESELL_RIVAL)
    with app.app_context():
        rival_id = db.session.get(Widget, tenants.widgets["rival shop"]).account_id
    rival_entry = add_entry(app, rival_id, BLOCKED)
    rival_call = stored_call(app, tenants.widgets["rival shop"], OTHER)
    user = signed_in(app, f"{role}@resell.example")
    rival, own = (f"/admin/accounts/{rival_id}/blocked-numbers",
                  f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers")
    assert user.get(rival).status_code == 404
    for path in (rival, f"{rival}/{rival_entry}/delete",
                 # The rival's entry through an account of one's own.
                 f"{own}/{rival_entry}/delete",
                 f"/admin/reports/calls/{rival_call}/block"):
        assert admin_post(user, path, number="+12025550199", country="US").status_code == 404, path
    assert blocked(app, rival_id) == [BLOCKED]
    assert blocked(app, tenants.ids["client-a"]) == []


def test_a_client_cannot_reach_its_resellers_list(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@client-a.example")
    page = f"/admin/accounts/{tenants.ids['resell']}/blocked-numbers"
    assert owner.get(page).status_code == 404
    assert admin_post(owner, page, number=BLOCKED, country="").status_code == 404
    assert blocked(app, tenants.ids["resell"]) == []


def test_the_list_is_paged(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    with app.app_context():
        db.session.add_all([BlockedNumber(account_id=tenants.ids["client-a"],
                                          e164=f"+1202555{1000 + i}") for i in range(105)])
        db.session.commit()
    reader = signed_in(app, "read-only@resell.example")
    page = f"/admin/accounts/{tenants.ids['client-a']}/blocked-numbers"
    first, second = text_of(reader.get(page)), text_of(reader.get(f"{page}?page=2"))
    numbers = re.compile(r"<code>(\+\d+)</code>")
    assert len(numbers.findall(first)) == 100 and len(numbers.findall(second)) == 5
    assert "105 numbers" in first and 'rel="next"' in first and 'rel="prev"' in second


def test_a_number_on_a_resellers_list_is_refused_by_every_client_widget_under_it(app):
    tenants = create_tree(app, **RESELL_RIVAL)
    owner = signed_in(app, "owner@resell.example")
    page = f"/admin/accounts/{tenants.ids['resell']}/blocked-numbers"
    assert "and those of every account" in text_of(owner.get(page))
    assert admin_post(owner, page, number=BLOCKED, country="US").status_code == 302
    assert blocked(app, tenants.ids["client-a"]) == []
    assert_blocked(visitor_call(app, tenants.widgets["client shop"], BLOCKED))
    # An account outside the reseller's subtree is not bound by its list.
    client = app.test_client()
    rival = call_body(app, client, widget_row(app, tenants.widgets["rival shop"]), phone=BLOCKED,
                      page_origin="https://rival.example")
    assert post_call(client, rival).status_code == 202
