"""Widgets: opening hours, business numbers and provider accounts, the same everywhere."""

import pytest

from tests.factories import create_provider_account, create_widget
from tests.services.interfaces import NUMBER, having
from widget_server.extensions import db
from widget_server.models import Account
from widget_server.services.widgets import PROMISE_RULE

OVERNIGHT = {"fri": [["22:00", "02:00"]], "sat": [["18:00", "24:00"]]}


def client_widget(app, **fields) -> str:
    """A widget of the client, with the reseller's simulator ``reseller-sim`` available."""
    with app.app_context():
        client = db.session.scalar(db.select(Account).where(Account.name == "client"))
        create_provider_account(account=client.parent, name="reseller-sim")
        return create_widget(account=client, **fields).public_id


@pytest.mark.parametrize("interface", having("resave_widget"))
def test_overnight_hours_and_a_midnight_close_survive_being_saved_as_shown(app, drive,
                                                                          interface):
    driver = drive(interface)
    widget = client_widget(app, opening_hours=OVERNIGHT)
    outcome = driver.resave_widget(widget, acting="client")
    assert outcome.accepted, outcome
    stored = driver.widget_row(widget)["opening_hours"]
    # The admin writes the days it shows empty as []: closed, as a day left out is.
    assert {day: spans for day, spans in stored.items() if spans} == OVERNIGHT


@pytest.mark.parametrize("interface", having("set_hours"))
def test_each_days_bad_hours_are_refused_next_to_that_day_all_at_once(app, drive, interface):
    driver = drive(interface)
    widget = client_widget(app, opening_hours=OVERNIGHT)
    outcome = driver.set_hours(widget, acting="client", hours={
        "mon": [["09:00", "09:00"]], "tue": [["09:00", "17:00"]], "wed": [["09:00", "24:30"]]})
    assert outcome.fields == {"opening_hours.mon", "opening_hours.wed"}, outcome
    assert "The range 09:00-09:00 is empty." in outcome.text
    assert "'24:30' is not a time like 09:00." in outcome.text
    assert driver.widget_row(widget)["opening_hours"] == OVERNIGHT
    assert driver.set_hours(widget, acting="client", hours=OVERNIGHT).accepted


@pytest.mark.parametrize("interface", having("update_widget"))
def test_a_client_chooses_its_resellers_provider_again_after_switching_away(app, drive,
                                                                           interface):
    driver = drive(interface)
    widget = client_widget(app)
    resellers = driver.provider_id("reseller-sim")
    assert driver.update_widget(widget, acting="client", provider="reseller-sim").accepted
    assert driver.update_widget(widget, acting="client", provider=None).accepted
    assert driver.widget_row(widget)["provider_account_id"] is None
    outcome = driver.update_widget(widget, acting="client", provider="reseller-sim")
    assert outcome.accepted, outcome
    assert driver.widget_row(widget)["provider_account_id"] == resellers


@pytest.mark.parametrize("interface", having("create_widget"))
def test_a_clients_new_widget_may_use_its_resellers_provider(app, drive, interface):
    driver = drive(interface)
    client_widget(app)
    outcome = driver.create_widget(acting="client", provider="reseller-sim")
    assert outcome.accepted, outcome
    assert driver.widget_row(driver.newest_widget())["provider_account_id"] == \
        driver.provider_id("reseller-sim")


@pytest.mark.parametrize("interface", having("create_widget"))
def test_a_provider_account_of_another_branch_is_refused(app, drive, interface):
    driver = drive(interface)
    client_widget(app)
    outcome = driver.create_widget(acting="reseller", provider=None)
    assert outcome.accepted, outcome
    with app.app_context():
        client = db.session.scalar(db.select(Account).where(Account.name == "client"))
        create_provider_account(account=client, name="clients-own")
    assert driver.create_widget(acting="reseller", provider="clients-own").refused_on(
        "provider_account_id")


@pytest.mark.parametrize("interface", having("create_widget"))
def test_the_same_business_number_twice_is_refused(drive, interface):
    outcome = drive(interface).create_widget(acting="client",
                                             numbers=["+1 202 555 0100", NUMBER])
    assert outcome.refused_on("business_numbers"), outcome
    assert "twice" in outcome.text


@pytest.mark.parametrize("interface", having("create_widget"))
def test_an_extension_on_a_business_number_is_refused_with_a_sentence(drive, interface):
    outcome = drive(interface).create_widget(acting="client",
                                             numbers=["+1 202 555 0100 ext. 12"])
    assert outcome.refused_on("business_numbers"), outcome
    assert "extension" in outcome.text


@pytest.mark.parametrize("interface", having("set_widget_options"))
def test_a_widgets_own_options_of_the_wrong_type_are_refused_together(app, drive, interface):
    driver = drive(interface)
    with app.app_context():
        client = db.session.scalar(db.select(Account).where(Account.name == "client"))
        white_label = create_provider_account(account=client, name="white-label",
                                              kind="c2c-php", base_url="https://voice.example",
                                              credentials={"uid": "u1", "pin": "p1"},
                                              options={"holdfile": "7"})
        widget = create_widget(account=client, provider_account_id=white_label.id).public_id
    outcome = driver.set_widget_options(widget, acting="client", options={
        "max_duration": "abc", "number_format": "weird"})
    assert outcome.fields == {"provider_options.max_duration",
                              "provider_options.number_format"}, outcome
    assert not outcome.accepted
    assert driver.set_widget_options(widget, acting="client", options={
        "max_duration": "60", "number_format": "plus"}).accepted


@pytest.mark.parametrize("interface", having("create_widget"))
def test_a_widgets_promise_is_one_short_line_or_none(app, drive, interface):
    driver = drive(interface)
    outcome = driver.create_widget(acting="client", promise="  We call you back within 30 "
                                                             "seconds  ")
    assert outcome.accepted, outcome
    assert driver.widget_row(driver.newest_widget())["promise_text"] == \
        "We call you back within 30 seconds"
    assert driver.create_widget(acting="client").accepted
    assert driver.widget_row(driver.newest_widget())["promise_text"] == ""
    refused = driver.create_widget(acting="client", promise="x" * 81)
    assert refused.refused_on("promise_text"), refused
    assert PROMISE_RULE in refused.text
