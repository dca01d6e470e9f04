"""Provider accounts: what each kind needs, and typed options refused at save, all at once."""

import pytest

from tests.conftest import free_port
from tests.factories import create_provider_account
from tests.services.interfaces import having
from widget_server.extensions import db
from widget_server.models import Account


@pytest.mark.parametrize("interface", having("add_provider_account"))
def test_a_simulator_needs_no_base_url_nor_credentials(drive, interface):
    outcome = drive(interface).add_provider_account(acting="reseller", name="practice",
                                                    kind="simulator")
    assert outcome.accepted, outcome


@pytest.mark.parametrize("interface", having("add_provider_account"))
def test_c2c_php_options_of_the_wrong_type_are_refused_with_every_other_error(drive,
                                                                             interface):
    outcome = drive(interface).add_provider_account(
        acting="reseller", name="white-label", kind="c2c-php",
        options={"holdfile": "7", "max_duration": "abc", "number_format": "weird"})
    # One answer names everything: the options, the credentials and the missing address.
    assert outcome.refused_on("options.max_duration", "options.number_format",
                              "credentials.uid", "credentials.pin", "base_url"), outcome


@pytest.mark.parametrize("interface", having("add_provider_account"))
def test_a_dialogtech_answer_time_that_is_no_number_is_refused_at_save(drive, interface):
    outcome = drive(interface).add_provider_account(
        acting="reseller", name="dt", kind="dialogtech", options={"first_leg_timeout": "abc"},
        credentials={"access_key": "a", "secret_access_key": "b"})
    assert outcome.fields == {"options.first_leg_timeout"}, outcome
    assert not outcome.accepted


@pytest.mark.parametrize("interface", having("check_provider"))
def test_a_test_calls_numbers_are_read_and_refused_alike(app, drive, interface):
    driver = drive(interface)
    with app.app_context():
        reseller = db.session.scalar(db.select(Account).where(Account.name == "reseller"))
        create_provider_account(account=reseller, name="practice")
    both_bad = driver.check_provider(acting="reseller", name="practice", test_from="12",
                                     test_to="+1 202 555 0100 ext. 12")
    assert both_bad.fields == {"test_from", "test_to"}, both_bad
    assert "extension" in both_bad.text
    one = driver.check_provider(acting="reseller", name="practice", test_from="+12025550100")
    assert one.refused_on("test_to") and "both numbers, or neither" in one.text, one
    assert driver.check_provider(acting="reseller", name="practice",
                                 test_from="+1 202 555 0100", test_to="+12025550111").accepted


@pytest.mark.parametrize("interface", having("check_provider"))
def test_a_check_that_checked_nothing_does_not_pass(app, drive, interface):
    with app.app_context():
        reseller = db.session.scalar(db.select(Account).where(Account.name == "reseller"))
        create_provider_account(account=reseller, name="practice")
    outcome = drive(interface).check_provider(acting="reseller", name="practice")
    assert "Nothing was checked" in outcome.text, outcome
    assert "has no way to check credentials without placing a call" in outcome.text
    assert "Check passed" not in outcome.text


@pytest.mark.parametrize("interface", having("check_provider"))
def test_a_provider_we_could_not_reach_did_not_refuse(app, drive, interface):
    with app.app_context():
        reseller = db.session.scalar(db.select(Account).where(Account.name == "reseller"))
        create_provider_account(account=reseller, name="gone", kind="c2c-php",
                                base_url=f"http://127.0.0.1:{free_port()}",
                                credentials={"uid": "u", "pin": "p"},
                                options={"holdfile": "17"})
    outcome = drive(interface).check_provider(acting="reseller", name="gone",
                                              test_from="+12025550100", test_to="+12025550123")
    assert "Could not reach the provider: provider_unreachable" in outcome.text, outcome
    assert "refused" not in outcome.text.replace("ConnectionRefused", "")
