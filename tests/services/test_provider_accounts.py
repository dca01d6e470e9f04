"""Provider accounts: what each kind needs, and typed options refused at save, all at once."""

import pytest

from tests.services.interfaces import having


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
