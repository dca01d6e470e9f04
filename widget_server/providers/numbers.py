"""The forms a provider takes a phone number in, from the E.164 number we store.

Written once so every adapter formats numbers the same way.
"""

from __future__ import annotations

import phonenumbers


def digits(text: str) -> str:
    """Only the digits: E.164 without the plus (``12025550123``), a caller id's digits."""
    return "".join(ch for ch in text if ch.isdigit())


def plus(e164: str) -> str:
    """E.164 with its plus: ``+12025550123``."""
    return "+" + digits(e164)


def double_zero(e164: str) -> str:
    """The international prefix 00 instead of the plus: ``0012025550123``."""
    return "00" + digits(e164)


def split(e164: str) -> tuple[str, str]:
    """(country code, national significant number), digits only."""
    number = phonenumbers.parse(e164)
    return str(number.country_code), phonenumbers.national_significant_number(number)


def north_american_national(e164: str) -> str:
    """The 10-digit national number in North America, else the full number's digits."""
    country_code, national = split(e164)
    return national if country_code == "1" else digits(e164)
