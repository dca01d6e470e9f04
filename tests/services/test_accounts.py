"""Accounts' allowances, and the API's reading of a body and a query, through every interface."""

import pytest

from tests.services.interfaces import having


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
