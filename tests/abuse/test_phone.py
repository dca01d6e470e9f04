"""Which visitor numbers a widget may ring: E.164 out, region and type checked.

Refused number types are drawn from phonenumbers' own example numbers per
region, so the tests follow the metadata rather than numbers typed in here.
"""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from widget_server.abuse.phone import check_visitor_number
from widget_server.errors import Refusal

REGIONS = ["US", "CA", "JM", "GB", "IE", "DE", "AT", "CH", "FR", "BE", "NL", "IT", "ES",
           "SE", "PL", "AU", "NZ", "JP", "IN", "BR", "MX", "ZA"]
REFUSED_TYPES = {
    "PREMIUM_RATE": "Premium-rate",
    "TOLL_FREE": "Toll-free",
    "SHARED_COST": "Shared-cost",
    "UAN": "(UAN)",
    "PAGER": "Pager",
    "PERSONAL_NUMBER": "Personal",
    "VOIP": "(VoIP)",
    "VOICEMAIL": "Voicemail",
}


def check(raw, home="US", countries=None, blocked=()):
    return check_visitor_number(raw, home_country=home, countries=countries or [home],
                                is_blocked=set(blocked).__contains__)


def refusal_of(raw, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as caught:
        check(raw, **kwargs)
    refusal = caught.value
    assert refusal.message[0].isupper() and refusal.message.endswith(".")
    assert len(refusal.message.split()) >= 4
    assert 400 <= refusal.status < 500
    return refusal


def examples(type_name: str):
    """(region, E.164) of phonenumbers' example for ``type_name`` in each region having one."""
    wanted = getattr(PhoneNumberType, type_name)
    for region in REGIONS:
        number = phonenumbers.example_number_for_type(region, wanted)
        if number is not None and phonenumbers.number_type(number) == wanted:
            yield region, phonenumbers.format_number(number, PhoneNumberFormat.E164)


@pytest.mark.parametrize("raw, home, expected", [
    ("202 555 0123", "US", "+12025550123"),
    ("(202) 555-0123", "US", "+12025550123"),
    ("1-202-555-0123", "US", "+12025550123"),
    ("  +1 202.555.0123  ", "US", "+12025550123"),
    ("07400 123456", "GB", "+447400123456"),
    ("0121 234 5678", "GB", "+441212345678"),
    ("030 123456", "DE", "+4930123456"),
    ("0151 23456789", "DE", "+4915123456789"),
    ("00 49 30 123456", "DE", "+4930123456"),
    ("(876) 523-0123", "JM", "+18765230123"),
])
def test_a_national_number_comes_out_in_e164_with_its_region(raw, home, expected):
    number = check(raw, home=home)
    assert number.e164 == expected
    assert number.region == home


@pytest.mark.parametrize("type_name", ["FIXED_LINE", "MOBILE"])
@pytest.mark.parametrize("region", REGIONS)
def test_landline_and_mobile_examples_are_accepted_in_their_own_region(region, type_name):
    number = phonenumbers.example_number_for_type(region, getattr(PhoneNumberType, type_name))
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert check(e164, home=region).e164 == e164


def test_a_jamaican_number_is_refused_for_a_us_widget_despite_sharing_plus_one():
    refusal = refusal_of("+1 876 523 0123", home="US")
    assert refusal.code == "phone_country"
    assert "United States" in refusal.message


def test_a_jamaican_number_is_accepted_once_jamaica_is_allowed():
    number = check("+1 876 523 0123", home="US", countries=["US", "JM"])
    assert (number.e164, number.region) == ("+18765230123", "JM")


def test_a_us_number_typed_nationally_on_a_widget_allowing_two_countries_stays_us():
    assert check("202 555 0123", home="US", countries=["US", "JM"]).region == "US"


def test_a_foreign_number_is_refused_and_the_sentence_names_the_allowed_countries():
    refusal = refusal_of("+44 7400 123456", home="US", countries=["US", "CA"])
    assert refusal.code == "phone_country"
    assert "Canada and United States" in refusal.message


def test_an_international_freephone_number_is_refused():
    assert refusal_of("+800 1234 5678", home="US").code == "phone_type"


def test_a_canadian_widget_refuses_a_toll_free_number_as_toll_free_not_as_foreign():
    refusal = refusal_of("1-800-212-3456", home="CA")
    assert (refusal.code, refusal.message) == (
        "phone_type", "Toll-free numbers cannot be called back.")


@pytest.mark.parametrize("region, e164, type_name", [
    (region, e164, type_name)
    for type_name in REFUSED_TYPES for region, e164 in examples(type_name)
])
def test_numbers_of_refused_types_are_refused_with_a_sentence_naming_the_type(
        region, e164, type_name):
    refusal = refusal_of(e164, home=region)
    assert refusal.code == "phone_type"
    assert REFUSED_TYPES[type_name].lower() in refusal.message.lower()


def test_every_refused_type_has_examples_in_the_tables():
    """Guards the table above: a type with no example would be silently untested."""
    assert all(list(examples(type_name)) for type_name in REFUSED_TYPES)


def test_a_us_premium_rate_900_number_is_refused():
    refusal = refusal_of("+1 900 200 1234", home="US")
    assert refusal.code == "phone_type"
    assert "Premium-rate" in refusal.message


@pytest.mark.parametrize("raw", [
    "+1 202 555 0123 ext. 12",
    "+1 202 555 0123 x12",
    "202-555-0123;ext=7",
])
def test_a_number_with_an_extension_is_refused(raw):
    assert refusal_of(raw).code == "phone_extension"


@pytest.mark.parametrize("raw, home", [
    ("911", "US"), ("112", "US"), ("112", "DE"), ("110", "DE"), ("999", "GB"),
    ("611", "US"), ("411", "US"), ("22000", "US"), ("116117", "DE"),
])
def test_short_and_emergency_numbers_are_refused(raw, home):
    assert refusal_of(raw, home=home).code == "phone_short"


@pytest.mark.parametrize("raw, code", [
    (None, "phone_missing"),
    ("", "phone_missing"),
    ("   ", "phone_missing"),
    (12025550123, "phone_missing"),
    (["+12025550123"], "phone_missing"),
    ("hello", "phone_invalid"),
    ("+", "phone_invalid"),
    ("<script>alert(1)</script>", "phone_invalid"),
    ("1" * 40, "phone_invalid"),
    ("+1 202 555 01234567", "phone_invalid"),
    ("+1 123 456 7890", "phone_invalid"),
    ("+999 1234 5678", "phone_invalid"),
    ("0", "phone_short"),
])
def test_garbage_is_refused_with_a_code_and_a_sentence(raw, code):
    assert refusal_of(raw).code == code


@pytest.mark.parametrize("raw", ["+12025550123", "(202) 555-0123", "1 202 555 0123"])
def test_a_blocked_number_is_refused_however_it_is_typed(raw):
    refusal = refusal_of(raw, blocked={"+12025550123"})
    assert (refusal.code, refusal.status) == ("phone_blocked", 403)


def test_a_number_next_to_a_blocked_one_is_accepted():
    assert check("+12025550124", blocked={"+12025550123"}).e164 == "+12025550124"
