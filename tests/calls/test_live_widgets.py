"""A process keeps the widgets call requests read, and sees every change at the next request.

Each change is made the way the admin, the API and the command line make it
(the services), by a second app on the same database: another process, as a
worker or another gunicorn worker would be. The first app has the widget in
memory from an admitted call; its next call request must act on the change.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import event, select, text

from tests.factories import (
    call_body,
    create_account,
    create_widget,
    post_call,
    statements_sent,
)
from widget_server.abuse.captcha import AltchaVerifier
from widget_server.extensions import db
from widget_server.models import Account, AllowedDomain, Widget
from widget_server.services import accounts, domains, widgets

pytestmark = pytest.mark.databases("sqlite", "postgresql")


@pytest.fixture
def tree(app):
    """An operator over a reseller (north) over a client (acme) whose widget takes calls."""
    with app.app_context():
        operator = create_account(name="operator", kind="operator")
        north = create_account(name="north", kind="reseller", parent=operator)
        acme = create_account(name="acme", parent=north)
        made = create_widget(account=acme, domains=["shop.example", "localhost:5000"])
        ids = {"operator": operator.id, "north": north.id, "acme": acme.id, "widget": made.id}
        db.session.expunge(made)
        return made, ids


def _widget(ids) -> Widget:
    return db.session.get(Widget, ids["widget"])


def _account(ids, name) -> Account:
    return db.session.get(Account, ids[name])


def _remove_shop_domain(ids) -> None:
    domain_id = db.session.scalar(select(AllowedDomain.id).where(
        AllowedDomain.widget_id == ids["widget"], AllowedDomain.pattern == "shop.example"))
    domains.remove_domain(_account(ids, "acme"), _widget(ids), domain_id)


CHANGES: dict[str, tuple[Callable, str]] = {
    "paused": (lambda ids: widgets.set_paused(_account(ids, "acme"), _widget(ids), True),
               "widget_paused"),
    "token rotated": (lambda ids: widgets.rotate_token(_account(ids, "acme"), _widget(ids)),
                      "token_revoked"),
    "widget deleted": (lambda ids: widgets.delete_widget(_account(ids, "acme"), _widget(ids)),
                       "widget_removed"),
    "domain removed": (_remove_shop_domain, "origin_not_allowed"),
    "widget cap lowered": (lambda ids: widgets.update_widget(
        _account(ids, "acme"), _widget(ids), {"cap_per_widget": 1}), "cap_widget"),
    "reseller suspended": (lambda ids: accounts.set_suspended(
        _account(ids, "operator"), ids["north"], True), "account_suspended"),
    "client allowance lowered": (lambda ids: accounts.set_allowance(
        _account(ids, "north"), ids["acme"], 1, None), "cap_account"),
    # An operator in psql, a data migration, a process running older code.
    "paused by SQL": (lambda ids: db.session.execute(
        text("UPDATE widgets SET paused = :yes WHERE id = :id"),
        {"yes": True, "id": ids["widget"]}) and db.session.commit(), "widget_paused"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_made_by_another_process_is_acted_on_at_the_next_request(
        make_app, app, client, tree, change):
    made, ids = tree
    first = post_call(client, call_body(app, client, made))
    other_process = make_app()
    make_change, refusal = CHANGES[change]
    with other_process.app_context():
        make_change(ids)
        db.session.remove()

    after = post_call(client, call_body(app, client, made, phone="+12025550142"))

    assert first.status_code == 202
    assert after.get_json()["error"] == refusal


def test_with_nothing_changed_the_next_request_reads_no_widget(app, client, tree):
    made, _ = tree
    first = post_call(client, call_body(app, client, made))
    body = call_body(app, client, made, phone="+12025550142")
    with statements_sent(app) as statements:
        second = post_call(client, body)

    assert first.status_code == second.status_code == 202
    # Up to the call's row: the test's queue places the call inline, and reads more.
    admitted = next(i for i, s in enumerate(statements) if "INSERT INTO call_requests" in s)
    reads = [s for s in statements[:admitted] if s.lstrip().upper().startswith("SELECT")]
    assert not any("FROM widgets" in s or "FROM accounts" in s for s in reads), reads
    # One read before the write: the settings version comes with the standing.
    assert len(reads) == 1 and "settings_version" in reads[0], reads


@pytest.fixture
def connections_held(app, monkeypatch):
    """The most pooled connections held at once in ``app``, and how many were held while
    the captcha was verified (a vendor's is a network call)."""
    with app.app_context():
        engine = db.engine
    held = {"now": 0, "most": 0, "during_captcha": []}

    def checked_out(*_):
        held["now"] += 1
        held["most"] = max(held["most"], held["now"])

    def checked_in(*_):
        held["now"] -= 1

    verify = AltchaVerifier.verify

    def noting_verify(self, *args, **kwargs):
        held["during_captcha"].append(held["now"])
        return verify(self, *args, **kwargs)

    monkeypatch.setattr(AltchaVerifier, "verify", noting_verify)
    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)
    yield held
    event.remove(engine, "checkout", checked_out)
    event.remove(engine, "checkin", checked_in)


def test_a_request_holds_one_connection_at_most_and_none_during_the_captcha(
        make_app, app, client, tree, connections_held):
    """On every path: a fresh widget, a kept one, and a kept one found moved."""
    made, ids = tree
    answers = [post_call(client, call_body(app, client, made)),
               post_call(client, call_body(app, client, made, phone="+12025550142"))]
    with make_app().app_context():
        widgets.update_widget(_account(ids, "acme"), _widget(ids), {"cap_per_widget": 50})
        db.session.remove()
    answers.append(post_call(client, call_body(app, client, made, phone="+12025550144")))

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert connections_held["most"] == 1
    assert connections_held["during_captcha"] == [0, 0, 0]


def _add_shop_domain(ids) -> None:
    domains.add_domain(_account(ids, "acme"), _widget(ids), "shop.example")


# What a second process does to make the first refuse, and then to lift it.
LIFTED: dict[str, tuple[Callable, Callable]] = {
    "unpaused": (lambda ids: widgets.set_paused(_account(ids, "acme"), _widget(ids), True),
                 lambda ids: widgets.set_paused(_account(ids, "acme"), _widget(ids), False)),
    "domain added back": (_remove_shop_domain, _add_shop_domain),
    "reseller unsuspended": (
        lambda ids: accounts.set_suspended(_account(ids, "operator"), ids["north"], True),
        lambda ids: accounts.set_suspended(_account(ids, "operator"), ids["north"], False)),
    # Refused after the standing read, which brings the settings version with it.
    "visitor's country allowed": (
        lambda ids: widgets.update_widget(_account(ids, "acme"), _widget(ids),
                                          {"allowed_countries": ["GB"]}),
        lambda ids: widgets.update_widget(_account(ids, "acme"), _widget(ids),
                                          {"allowed_countries": ["GB", "US"]})),
}


@pytest.mark.parametrize("lift", LIFTED)
def test_a_refusal_lifted_by_another_process_is_lifted_at_the_next_request(
        make_app, app, client, tree, lift):
    """The first process refuses on the widget it keeps; once another lifts the cause,
    that kept copy must not go on refusing."""
    made, ids = tree
    other_process = make_app()
    impose, lift_it = LIFTED[lift]
    with other_process.app_context():
        impose(ids)
        db.session.remove()
    refused = post_call(client, call_body(app, client, made))
    with other_process.app_context():
        lift_it(ids)
        db.session.remove()

    admitted = post_call(client, call_body(app, client, made, phone="+12025550142"))

    assert refused.status_code in (400, 403), refused.get_json()
    assert admitted.status_code == 202, admitted.get_json()


def test_a_token_rotated_by_another_process_is_taken_at_the_next_request(
        make_app, app, client, tree):
    made, ids = tree
    first = post_call(client, call_body(app, client, made))
    other_process = make_app()
    with other_process.app_context():
        rotated = widgets.rotate_token(_account(ids, "acme"), _widget(ids))
        db.session.refresh(rotated)
        db.session.expunge(rotated)

    with_new_token = post_call(client, call_body(app, client, rotated, phone="+12025550142"))
    with_old_token = post_call(client, call_body(app, client, made, phone="+12025550143"))

    assert first.status_code == with_new_token.status_code == 202
    assert with_old_token.get_json()["error"] == "token_revoked"


def test_a_widget_deleted_in_sql_is_refused_as_removed_and_counted_against_nothing(
        make_app, app, client, tree, caplog):
    made, ids = tree
    kept = post_call(client, call_body(app, client, made, consent=False))  # no call row
    other_process = make_app()
    with other_process.app_context():
        for table in ("refusal_counts", "allowed_domains", "widgets"):
            column = "id" if table == "widgets" else "widget_id"
            db.session.execute(text(f"DELETE FROM {table} WHERE {column} = :id"),
                               {"id": ids["widget"]})
        db.session.commit()

    gone = [post_call(client, call_body(app, client, made, phone=f"+1202555014{n}"))
            for n in range(2)]

    assert kept.get_json()["error"] == "consent_missing"
    assert [(a.status_code, a.get_json()["error"]) for a in gone] == [(410, "widget_removed")] * 2
    # No count was tried against the deleted widget (it would fail on its key, and a
    # server adding counts up would keep retrying the batch).
    assert "not counted" not in caplog.text
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM refusal_counts")) == 0
        # Forgotten: the next request loads, and finds nothing to check first.
        assert app.extensions["live_widgets"].kept(made.public_id) is None
