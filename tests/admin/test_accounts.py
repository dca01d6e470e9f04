"""The account tree pages: a reseller sees and provisions its clients within its own allowance."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import (
    NORTH_SOUTH,
    create_call,
    create_tree,
    create_widget,
    csrf_token,
    signed_in,
)
from widget_server.extensions import db
from widget_server.models import Account, utcnow


def new_account(client, **fields):
    return client.post("/admin/accounts/new", data={"csrf_token": csrf_token(client),
                                                    "kind": "client", **fields})


def test_reseller_sees_itself_and_its_clients_only(app):
    create_tree(app, **NORTH_SOUTH)
    body = signed_in(app, "read-only@north.example").get("/admin/accounts").get_data(as_text=True)
    names = re.findall(r'<th scope="row">([\w-]+)', body)
    assert names == ["north", "north-a", "north-b"]


def test_client_sees_only_itself_and_is_offered_no_new_account(app):
    create_tree(app, **NORTH_SOUTH)
    client = signed_in(app, "owner@north-a.example")
    body = client.get("/admin/accounts").get_data(as_text=True)
    assert re.findall(r'<th scope="row">([\w-]+)', body) == ["north-a"]
    assert "/admin/accounts/new" not in body
    assert client.get("/admin/accounts/new").status_code == 403


def test_reseller_creates_a_client_within_its_allowance(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@north.example")
    response = new_account(client, name="north-c", parent_id=ids["north"],
                           daily_call_cap="50", monthly_call_cap="500")
    assert response.status_code == 302
    with app.app_context():
        created = db.session.scalar(select(Account).where(Account.name == "north-c"))
        assert (created.kind, created.parent_id, created.daily_call_cap,
                created.monthly_call_cap) == ("client", ids["north"], 50, 500)


def test_an_allowance_above_the_resellers_own_is_refused_next_to_the_field(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@north.example")
    response = new_account(client, name="north-c", parent_id=ids["north"],
                           daily_call_cap="101", monthly_call_cap="500")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="daily_call_cap-error">The daily allowance cannot exceed north', body)
    assert 'aria-describedby="daily_call_cap-hint daily_call_cap-error"' in body
    with app.app_context():
        assert db.session.scalar(select(Account).where(Account.name == "north-c")) is None


def test_a_reseller_cannot_make_resellers_but_the_operator_can(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    new_account(signed_in(app, "owner@north.example"), name="sub", parent_id=ids["north"],
                kind="reseller", daily_call_cap="5", monthly_call_cap="5")
    operator = signed_in(app, "owner@operator.example")
    assert new_account(operator, name="east", parent_id=ids["operator"],
                       kind="reseller").status_code == 302
    with app.app_context():
        kinds = dict(db.session.execute(select(Account.name, Account.kind)
                                        .where(Account.name.in_(["sub", "east"]))).all())
    assert kinds == {"east": "reseller"}


def test_a_duplicate_name_is_refused(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    response = new_account(signed_in(app, "owner@north.example"), name="North-B",
                           parent_id=ids["north"], daily_call_cap="1", monthly_call_cap="1")
    assert "north has an account with this name already." in response.get_data(as_text=True)


def test_another_resellers_client_name_is_free_and_not_revealed(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    response = new_account(signed_in(app, "owner@north.example"), name="South-A",
                           parent_id=ids["north"], daily_call_cap="1", monthly_call_cap="1")
    assert response.status_code == 302
    with app.app_context():
        parents = sorted(db.session.scalars(select(Account.parent_id).where(
            func.lower(Account.name) == "south-a")))
    assert parents == sorted([ids["north"], ids["south"]])


def test_reseller_lowers_a_clients_allowance_but_not_above_its_own(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@north.example")
    url = f"/admin/accounts/{ids['north-a']}/allowance"
    too_much = client.post(url, data={"csrf_token": csrf_token(client),
                                      "daily_call_cap": "5", "monthly_call_cap": "5000"})
    assert "monthly allowance cannot exceed north" in too_much.get_data(as_text=True)
    saved = client.post(url, data={"csrf_token": csrf_token(client),
                                   "daily_call_cap": "5", "monthly_call_cap": "50"})
    assert saved.status_code == 302
    with app.app_context():
        account = db.session.get(Account, ids["north-a"])
        assert (account.daily_call_cap, account.monthly_call_cap) == (5, 50)


def test_operator_cannot_lower_a_reseller_below_what_it_gave_a_client(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@operator.example")
    response = client.post(f"/admin/accounts/{ids['north']}/allowance", data={
        "csrf_token": csrf_token(client), "daily_call_cap": "9", "monthly_call_cap": "1000"})
    assert "north-a, below this account, has a larger allowance" in response.get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(Account, ids["north"]).daily_call_cap == 100


def test_reseller_page_shows_calls_today_and_this_month_per_client(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    now = utcnow()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with app.app_context():
        widget = create_widget(account=db.session.get(Account, ids["north-a"]))
        for created in (now, now, month_start, month_start - timedelta(seconds=1)):
            create_call(widget=widget, created_at=created)
    body = signed_in(app, "owner@north.example").get("/admin/accounts").get_data(as_text=True)

    def usage(name):
        row = re.search(rf'<th scope="row">{name}</th>(.*?)</tr>', body, re.DOTALL).group(1)
        return re.findall(r"<td>([^<]*)</td>", row)[-2:]

    assert usage("north-a") == [str(2 + (now.day == 1)), "3"]
    assert usage("north-b") == ["0", "0"]


def test_a_daily_allowance_above_the_monthly_one_is_refused_next_to_the_field(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@operator.example")
    created = new_account(client, name="tiny", parent_id=ids["operator"],
                          daily_call_cap="100", monthly_call_cap="10")
    assert re.search(r'id="daily_call_cap-error">The daily allowance cannot exceed the '
                     r'monthly one \(10\)', created.get_data(as_text=True))
    set_ = client.post(f"/admin/accounts/{ids['south']}/allowance", data={
        "csrf_token": csrf_token(client), "daily_call_cap": "100", "monthly_call_cap": "10"})
    assert "cannot exceed the monthly one" in set_.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Account).where(Account.name == "tiny")) is None
        assert db.session.get(Account, ids["south"]).daily_call_cap is None


def test_the_operator_puts_no_reseller_under_a_reseller(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@operator.example")
    response = new_account(client, name="sub", parent_id=ids["north"], kind="reseller",
                           daily_call_cap="1", monthly_call_cap="1")
    assert re.search(r'id="kind-error">Only the operator has resellers under it',
                     response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(Account).where(Account.name == "sub")) is None
