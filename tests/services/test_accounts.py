"""Accounts' allowances, and the API's reading of a body and a query, through every interface."""

import pytest
from sqlalchemy import select

from tests.services.interfaces import having
from widget_server.extensions import db
from widget_server.models import User, Widget
from widget_server.security.tokens import embed_token


@pytest.mark.parametrize("interface", having("create_account"))
def test_a_daily_allowance_above_the_monthly_one_is_refused_on_create(drive, interface):
    outcome = drive(interface).create_account(acting="reseller", name="shop", daily=100,
                                              monthly=10)
    assert outcome.refused_on("daily_call_cap"), outcome
    assert "cannot exceed the monthly one" in outcome.text


@pytest.mark.parametrize("interface", having("set_allowance"))
def test_a_daily_allowance_above_the_monthly_one_is_refused_when_set(drive, interface):
    driver = drive(interface)
    assert driver.set_allowance(acting="reseller", account="client", daily=10,
                                monthly=100).accepted
    outcome = driver.set_allowance(acting="reseller", account="client", daily=100, monthly=10)
    assert outcome.refused_on("daily_call_cap"), outcome


def test_a_body_that_is_json_but_not_an_object_is_refused_as_such(drive):
    outcome = drive("api").request("POST", "/clients", acting="reseller", data="null",
                                   content_type="application/json")
    assert outcome.refused_on("body"), outcome
    assert "object" in outcome.text and "not valid JSON" not in outcome.text


@pytest.mark.parametrize("path", ["/clients", "/widgets", "/provider_accounts",
                                  "/reports/usage"])
def test_an_unknown_query_parameter_is_refused_like_an_unknown_body_field(drive, path):
    api = drive("api")
    outcome = api.request("GET", path, acting="reseller", query_string={"colour": "red"})
    assert outcome.refused_on("colour"), outcome
    in_body = api.request("POST", "/clients", acting="reseller",
                          json={"name": "shop", "colour": "red"})
    assert in_body.refused_on("colour")
    assert outcome.text == in_body.text


def _config_error(app, tree) -> str | None:
    """What the client's widget's config answers a whitelisted page: its error, or None."""
    with app.app_context():
        widget = db.session.scalar(select(Widget).where(
            Widget.account_id == tree.ids["client"], Widget.deleted_at.is_(None)))
        token = embed_token(widget) if widget else None
    if token is None:
        return "no widget"
    response = app.test_client().get(f"/embed/v1/config/{token}",
                                     headers={"Origin": "https://shop.example"})
    return None if response.status_code == 200 else response.get_json()["error"]


@pytest.mark.parametrize("interface", having("suspend_account"))
def test_suspending_stops_the_client_s_widgets_and_unsuspending_restores_them(app, drive,
                                                                              interface):
    driver = drive(interface)
    assert drive("api").create_widget(acting="client").accepted
    assert driver.suspend_account(acting="reseller", account="client").accepted
    assert _config_error(app, driver.tree) == "account_suspended"
    assert driver.suspend_account(acting="reseller", account="client",
                                  suspended=False).accepted
    assert _config_error(app, driver.tree) is None


@pytest.mark.parametrize("interface", [name for name in having("suspend_account")
                                       if name != "cli"])
def test_no_account_suspends_or_deletes_itself(drive, interface):
    driver = drive(interface)
    assert not driver.suspend_account(acting="client", account="client").accepted
    assert not driver.delete_account(acting="reseller", account="reseller").accepted


@pytest.mark.parametrize("interface", having("delete_account"))
def test_deleting_a_client_takes_its_widgets_and_keys_and_frees_its_name(app, drive,
                                                                         interface):
    driver = drive(interface)
    assert drive("api").create_widget(acting="client").accepted
    assert driver.delete_account(acting="reseller", account="client").accepted, interface
    assert _config_error(app, driver.tree) == "no widget"
    assert not drive("api").request("GET", "/widgets", acting="client").accepted
    assert driver.create_account(acting="reseller", name="client").accepted


@pytest.mark.parametrize("interface", having("set_limits"))
def test_a_widget_limit_is_enforced_and_never_set_below_what_exists(drive, interface):
    driver = drive(interface)
    assert driver.set_limits(acting="reseller", account="client", max_widgets=1,
                             may_add_providers=False).accepted
    assert drive("api").create_widget(acting="client").accepted
    second = driver.create_widget(acting="client")
    assert not second.accepted and "max_widgets" in second.text, second
    own = driver.add_provider_account(acting="client", name="own", kind="simulator")
    if interface == "cli":  # the operator's: an account above may add one for the client
        assert own.accepted, own
    else:
        assert not own.accepted and "may_add_providers" in own.text, own
    below = driver.set_limits(acting="reseller", account="client", max_widgets=0,
                              may_add_providers=True)
    assert below.refused_on("max_widgets") and "has 1 widgets now" in below.text, below


@pytest.mark.parametrize("interface", having("change_role"))
def test_an_owner_above_changes_a_user_s_role(app, drive, interface):
    driver = drive(interface)
    assert driver.change_role(acting="reseller", email="owner@client.example",
                              role="read-only").accepted
    with app.app_context():
        assert db.session.scalar(select(User.role).where(
            User.email == "owner@client.example")) == "read-only"
    if interface != "cli":  # the command line acts as the operator, above everyone
        assert not driver.change_role(acting="client", email="owner@reseller.example",
                                      role="member").accepted
