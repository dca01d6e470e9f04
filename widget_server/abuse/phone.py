"""Which numbers a widget may ring: parsed to E.164 and checked by region and type.

A number's country is its region (``region_code_for_number``), never its
calling code: +1 876 is Jamaica, not the US. Only fixed-line and mobile
numbers are accepted; premium, shared-cost, UAN, pager, personal, VoIP and
unknown types, extensions, short and emergency numbers are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, shortnumberinfo

from widget_server.errors import Refusal
from widget_server.i18n import N_, CountryNames

_ACCEPTED_TYPES = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
_TYPE_SENTENCES = {
    PhoneNumberType.PREMIUM_RATE: N_("Premium-rate numbers cannot be called back."),
    PhoneNumberType.SHARED_COST: N_("Shared-cost numbers cannot be called back."),
    PhoneNumberType.UAN: N_("Company switchboard (UAN) numbers cannot be called back."),
    PhoneNumberType.PAGER: N_("Pager numbers cannot be called back."),
    PhoneNumberType.PERSONAL_NUMBER: N_("Personal forwarding numbers cannot be called back."),
    PhoneNumberType.TOLL_FREE: N_("Toll-free numbers cannot be called back."),
    PhoneNumberType.VOIP: N_("Internet (VoIP) numbers cannot be called back."),
    PhoneNumberType.VOICEMAIL: N_("Voicemail numbers cannot be called back."),
}


_OTHER_TYPES = N_("Only landline and mobile numbers can be called back.")


@dataclass(frozen=True)
class VisitorNumber:
    e164: str
    region: str


def blocked_refusal() -> Refusal:
    return Refusal("phone_blocked", "This number cannot be called from this site.", status=403)


def check_visitor_number(raw: object, *, home_country: str, countries: list[str],
                         is_blocked: Callable[[str], bool] | None = None) -> VisitorNumber:
    """The visitor's number in E.164 with its region, or a ``Refusal`` saying why not.

    ``is_blocked`` is asked about the E.164 form only, once the number is valid:
    an account's block list can be long, so it is looked up, not loaded. Without
    it the caller looks the number up itself (the call request reads it with the
    rest of its standing, abuse/standing.py) and refuses with ``blocked_refusal``.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise Refusal("phone_missing", "Please enter your phone number.")
    text = raw.strip()
    if len(text) > 32:
        raise Refusal("phone_invalid", "That does not look like a phone number.")
    if shortnumberinfo.is_emergency_number(text, home_country) or (
        text.isdigit() and len(text) <= 6
    ):
        raise Refusal("phone_short", "Short and emergency numbers cannot be called back.")
    try:
        number = phonenumbers.parse(text, home_country)
    except NumberParseException:
        raise Refusal("phone_invalid", "That does not look like a phone number.") from None
    if number.extension:
        raise Refusal("phone_extension", "Please enter a number without an extension.")
    if not phonenumbers.is_valid_number(number):
        raise Refusal("phone_invalid", "That phone number is not valid; please check it.")
    # The type first: a +1 800 number is "US" to phonenumbers, and a Canadian
    # visitor should hear that toll-free numbers are refused, not that it is foreign.
    number_type = phonenumbers.number_type(number)
    if number_type not in _ACCEPTED_TYPES:
        sentence = _TYPE_SENTENCES.get(number_type, _OTHER_TYPES)
        raise Refusal("phone_type", sentence)
    region = phonenumbers.region_code_for_number(number)
    if region not in countries:
        raise Refusal("phone_country", "We can only call numbers in %(countries)s.",
                      params={"countries": CountryNames(countries)})
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if is_blocked is not None and is_blocked(e164):
        raise blocked_refusal()
    return VisitorNumber(e164=e164, region=region)


def normalise_business_number(raw: str) -> str:
    """A business number for the widget's settings, E.164, or ``ValueError``.

    An extension is refused, not dropped: the provider would ring the switchboard.
    """
    try:
        number = phonenumbers.parse(raw, None)
    except NumberParseException as error:
        raise ValueError(f"{raw!r} is not a phone number in +country format.") from error
    if number.extension:
        raise ValueError(f"{raw!r} has an extension; give a number that rings directly.")
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{raw!r} is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
