"""An account's block list: numbers its widgets never call back.

The call request looks the visitor's E.164 number up in the lists of its
widget's account and of every account above it (calls/service.py,
``phone_blocked``): a reseller's list applies to all its clients' widgets, the
operator's to every widget. The worker looks again when a call falls due
(calls/placing.py), so a number blocked after a call was booked is not dialled.
The admin, the management API and
the command line change the list through services/blocked_numbers.py, which
reads a number with the function here, so a number is read the same way
everywhere: any valid number of any country, parsed with ``phonenumbers`` (a
national form needs its country) and stored as E.164.
"""

from __future__ import annotations

from functools import cache

import phonenumbers
from phonenumbers import NumberParseException
from sqlalchemy import bindparam, exists, select

from widget_server.extensions import db
from widget_server.models import BlockedNumber

MAX_INPUT = 32


class BlockedNumberError(ValueError):
    """A number that cannot be blocked; its text is a sentence for the person who typed it.

    ``field`` names what is wrong: the ``number``, or the ``country`` it was read in.
    """

    def __init__(self, message: str, field: str = "number"):
        super().__init__(message)
        self.field = field


def normalise_blocked_number(raw: object, country: str | None = None) -> str:
    """``raw`` as E.164, read in ``country`` when it has no +country prefix; else the error.

    Unlike a visitor's number, any valid number of any country and of any type
    may be blocked: a harasser's number need not be one the widget would ring.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise BlockedNumberError("Enter the phone number to block.")
    text = raw.strip()
    if len(text) > MAX_INPUT or not text.isprintable():
        raise BlockedNumberError("That does not look like a phone number.")
    region = (country or "").strip().upper() or None
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise BlockedNumberError(f"{region!r} is not a country code such as US or GB.",
                                 "country")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        if (error.error_type == NumberParseException.INVALID_COUNTRY_CODE
                and not text.startswith("+")):
            raise BlockedNumberError(
                "Give the number in +country format, such as +12025550123, or choose its "
                "country.") from None
        raise BlockedNumberError("That does not look like a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise BlockedNumberError("That phone number is not valid; please check it.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Built once: every call request asks it (building a statement costs more than running it).
_IS_BLOCKED = select(exists().where(BlockedNumber.account_id == bindparam("account_id"),
                                    BlockedNumber.e164 == bindparam("e164")))


def is_blocked(account_id: int, e164: str) -> bool:
    return bool(db.session.scalar(_IS_BLOCKED, {"account_id": account_id, "e164": e164}))


@cache
def blocked_for_any(account_count: int):
    """Whether any of ``:account_0`` .. ``:account_<n-1>`` blocks ``:e164``: the call
    request asks it with its standing (abuse/standing.py), the worker with the
    number's cooldown (calls/placing.py). A parameter per account, built once per
    count: an expanding ``IN`` list is rewritten on every execution."""
    return exists().where(
        BlockedNumber.account_id.in_([bindparam(f"account_{i}") for i in range(account_count)]),
        BlockedNumber.e164 == bindparam("e164"))


def account_params(account_ids: list[int]) -> dict[str, int]:
    """The parameters of ``blocked_for_any(len(account_ids))``."""
    return {f"account_{i}": account_id for i, account_id in enumerate(account_ids)}


def blocked_select(account_id: int):
    """The account's entries, newest first."""
    return (select(BlockedNumber).where(BlockedNumber.account_id == account_id)
            .order_by(BlockedNumber.created_at.desc(), BlockedNumber.id.desc()))
