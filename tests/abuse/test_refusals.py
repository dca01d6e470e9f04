"""Refused requests leave a count per widget, day and reason, in the admin, its CSV and the API."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import text

from tests.factories import call_body, create_tree, post_call, signed_in
from widget_server.abuse import refusals
from widget_server.abuse.refusals import REASONS, reason_of
from widget_server.extensions import db
from widget_server.models import BlockedNumber, Widget, utcnow
from widget_server.security import tokens

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the upsert differs there

BLOCKED = "+12025550199"


@pytest.fixture
def shop(app):
    """reseller > client-a with widget "shop" on shop.example; client-b with widget "other"."""
    tree = create_tree(app, resellers={"reseller": ("client-a", "client-b")},
                       users={"reseller": ("read-only",), "client-b": ("owner",)},
                       widgets={"shop": {"account": "client-a", "domains": ["shop.example"]},
                                "other": {"account": "client-b",
                                          "domains": ["other.example"]}},
                       keys=True)
    with app.app_context():
        db.session.add(BlockedNumber(account_id=tree.ids["client-a"], e164=BLOCKED))
        db.session.commit()
        widget = db.session.get(Widget, tree.widgets["shop"])
        db.session.expunge(widget)
    return tree, widget


def refuse_in_every_way(app, client, widget) -> None:
    """Eight refusals of six reasons against ``widget``, and one with no widget known."""
    def refused(body, code):
        response = post_call(client, body)
        assert response.get_json()["error"] == code, response.get_json()

    refused(call_body(app, client, widget, phone=BLOCKED), "phone_blocked")
    refused(call_body(app, client, widget, phone="+4930123456"), "phone_country")
    refused(call_body(app, client, widget, phone="911"), "phone_short")
    refused(call_body(app, client, widget, captcha="not-a-solution"), "captcha_failed")
    # The number was just called: the per-minute cap refuses the second request.
    assert post_call(client, call_body(app, client, widget, phone="+12025550123")
                     ).status_code == 202
    refused(call_body(app, client, widget, phone="+12025550123"), "cap_number_min")
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))
    for _ in range(2):  # a page on a site the widget is not allowed on
        response = client.get(f"/embed/v1/config/{token}",
                              headers={"Origin": "https://evil.example"})
        assert response.get_json()["error"] == "origin_not_allowed"
    # The form opened top-level, outside any site (a link to it): refused as off-site.
    assert client.get(f"/embed/v1/frame/{token}?origin=https://shop.example",
                      headers={"Sec-Fetch-Dest": "document"}).status_code == 403
    # A garbled token names no widget: nobody's count.
    refused(call_body(app, client, widget, token="garbled"), "token_invalid")


EXPECTED = {"cap_number_minute": 1, "blocked": 1, "country": 1, "emergency": 1,
            "captcha": 1, "origin": 3}


def test_refusals_show_with_their_counts_in_the_admin_the_csv_and_the_api(app, client, shop):
    tree, widget = shop
    refuse_in_every_way(app, client, widget)
    today = utcnow().date().isoformat()

    admin = signed_in(app, "read-only@reseller.example")
    page = admin.get("/admin/reports/refusals")
    assert page.status_code == 200
    totals = dict(re.findall(r'<span class="hint">(\w+)</span></th><td>(\d+)</td>',
                             page.get_data(as_text=True)))
    assert {reason: int(n) for reason, n in totals.items()} == EXPECTED
    assert "Blocked number" in page.get_data(as_text=True)

    exported = admin.get(f"/admin/reports/refusals.csv?date_from={today}&date_to={today}")
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {row["reason"]: int(row["count"]) for row in rows} == EXPECTED
    assert {(row["day_utc"], row["widget_id"], row["account"]) for row in rows} == {
        (today, widget.public_id, "client-a")}

    answer = client.get("/api/v1/reports/refusals",
                        headers={"Authorization": f"Bearer {tree.keys['reseller']}"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["totals"] == EXPECTED and body["total"] == len(EXPECTED)
    assert {(item["day"], item["widget_id"], item["reason"], item["count"])
            for item in body["items"]} == {(today, widget.public_id, reason, n)
                                           for reason, n in EXPECTED.items()}


def test_another_client_sees_none_of_them_and_filters_narrow(app, client, shop):
    tree, widget = shop
    refuse_in_every_way(app, client, widget)
    other = signed_in(app, "owner@client-b.example").get("/admin/reports/refusals")
    assert "No request was refused." in other.get_data(as_text=True)
    api = {"Authorization": f"Bearer {tree.keys['client-b']}"}
    assert client.get("/api/v1/reports/refusals", headers=api).get_json()["totals"] == {}
    api = {"Authorization": f"Bearer {tree.keys['reseller']}"}
    narrowed = client.get(f"/api/v1/reports/refusals?client_id={tree.ids['client-b']}",
                          headers=api).get_json()
    assert narrowed["items"] == [] and narrowed["totals"] == {}
    assert client.get("/api/v1/reports/refusals?until=2000-01-01",
                      headers=api).get_json()["total"] == 0
    unknown = client.get("/api/v1/reports/refusals?reason=captcha", headers=api)
    assert unknown.status_code == 422 and "reason" in unknown.get_json()["errors"]


def test_every_refusal_code_maps_to_a_stable_reason():
    assert reason_of("cap_ceiling_ip") == "cap_address"
    assert reason_of("phone_short") == "emergency"
    assert reason_of("something_new") == "other"
    assert REASONS[-1] == "other"


def test_a_refusal_is_still_answered_when_its_count_cannot_be_stored(app, client, shop,
                                                                     monkeypatch):
    _, widget = shop
    # The count's statement fails (as on a locked database): the visitor's answer does not.
    monkeypatch.setattr(refusals, "_UPSERT", text("INSERT INTO no_such_table VALUES (1)"))
    response = post_call(client, call_body(app, client, widget, phone="911"))
    assert response.status_code == 400 and response.get_json()["error"] == "phone_short"
