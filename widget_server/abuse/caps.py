"""Daily caps per client IP, destination number, widget and account.

The captcha is a speed bump; these caps are the control. Each is checked and
counted in one atomic statement inside the transaction that records the call,
so concurrent requests and several processes can never admit more than the
cap, and a restart loses nothing (the counts are rows in the database).

Per number and per client address the caps come in two layers. The operator's
ceilings (``CEILING_PER_NUMBER``, ``CEILING_PER_IP``) count across every widget
of every tenant: they protect the people who are called, and stop one address
working through many sites. Each widget's own caps (``cap_per_number``,
``cap_per_ip``) count on that widget alone, so one office behind one address
does not spend every other site's allowance; a widget may not set them above
the ceilings (``cap_above_ceiling``).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import tuple_, update

from widget_server.db_ops import increment_below
from widget_server.errors import Refusal
from widget_server.extensions import db
from widget_server.i18n import N_
from widget_server.models import UsageCounter

_SITE_FULL_TODAY = N_("This site has taken all the call requests it can today.")
_NUMBER_FULL_TODAY = N_("This number has had as many call-backs as we allow today.")
_ADDRESS_FULL_TODAY = N_("You have requested as many calls as we allow in a day.")
# A widget's own cap, and the installation's ceiling it must stay within.
CEILINGS = {"cap_per_number": "CEILING_PER_NUMBER", "cap_per_ip": "CEILING_PER_IP"}


@dataclass(frozen=True)
class Cap:
    scope: str
    key: str
    period: str
    limit: int
    retry_after: int
    message: str


def _seconds_until(now: datetime, end: datetime) -> int:
    """Whole seconds, rounded up: a visitor who waits that long finds the period over."""
    return max(1, math.ceil((end - now).total_seconds()))


def _seconds_to_next_month(now: datetime) -> int:
    first = (now.replace(day=28) + timedelta(days=4)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((first - now).total_seconds()))


def caps_for_call(widget, *, visitor_number: str, client_ip: str, now: datetime,
                  ancestors=()) -> list[Cap]:
    """The caps a call must fit under, cheapest to exhaust (per number per minute) first.

    ``ancestors`` are the accounts above the widget's (a client's reseller, the
    operator): an allowance one of them has counts every call in its subtree,
    its own widgets' and its clients', on the same counters.
    """
    config = current_app.config
    day = now.strftime("%Y-%m-%d")
    minute_start = now.replace(second=0, microsecond=0)
    until_next_minute = _seconds_until(now, minute_start + timedelta(minutes=1))
    until_tomorrow = _seconds_until(now, minute_start.replace(hour=0, minute=0)
                                    + timedelta(days=1))

    def limit(own: int | None, default_key: str) -> int:
        return own if own is not None else config[default_key]

    # The widget's own per-number and per-visitor caps are keyed on the widget too.
    on_widget = f"{widget.public_id}/"
    caps = [
        Cap("number-min", visitor_number, now.strftime("%Y-%m-%dT%H:%M"),
            config["CAP_PER_NUMBER_PER_MINUTE"], until_next_minute,
            N_("A call to this number was just requested; please wait a minute.")),
        Cap("ceiling-number", visitor_number, day, config["CEILING_PER_NUMBER"],
            until_tomorrow, _NUMBER_FULL_TODAY),
        Cap("number", on_widget + visitor_number, day,
            limit(widget.cap_per_number, "CAP_PER_NUMBER"), until_tomorrow, _NUMBER_FULL_TODAY),
        Cap("ceiling-ip", client_ip, day, config["CEILING_PER_IP"], until_tomorrow,
            _ADDRESS_FULL_TODAY),
        Cap("ip", on_widget + client_ip, day, limit(widget.cap_per_ip, "CAP_PER_IP"),
            until_tomorrow, _ADDRESS_FULL_TODAY),
        Cap("widget", widget.public_id, day, limit(widget.cap_per_widget, "CAP_PER_WIDGET"),
            until_tomorrow, _SITE_FULL_TODAY),
        Cap("account", str(widget.account_id), day,
            limit(widget.account.daily_call_cap, "CAP_PER_ACCOUNT"), until_tomorrow,
            _SITE_FULL_TODAY),
    ]
    for account in (widget.account, *ancestors):
        if account is not widget.account and account.daily_call_cap is not None:
            caps.append(Cap("account", str(account.id), day, account.daily_call_cap,
                            until_tomorrow, _SITE_FULL_TODAY))
        if account.monthly_call_cap is not None:
            caps.append(Cap("account-month", str(account.id), now.strftime("%Y-%m"),
                            account.monthly_call_cap, _seconds_to_next_month(now),
                            N_("This site has taken all the call requests it can this month.")))
    return caps


def cap_above_ceiling(name: str, value: int | None) -> str | None:
    """Why a widget's own cap ``name`` may not be ``value``, or None when it may.

    The admin, the management API and anything else that sets a widget's caps
    ask here, so the rule is the same everywhere.
    """
    setting = CEILINGS.get(name)
    if setting is None or value is None:
        return None
    ceiling = current_app.config[setting]
    if value > ceiling:
        what = "calls a day to one number" if name == "cap_per_number" else \
            "calls a day from one visitor address"
        return (f"This installation allows at most {ceiling} {what} on any widget; "
                f"use {ceiling} or less.")
    return None


# How long a process refuses a cap it found full without reading its count again.
# Within a period a count only grows (but for ``give_back``), so a full cap stays
# full: the second bounds how long a given-back call, or a cap raised in the
# admin, goes unnoticed by a process that saw the cap full.
FULL_CAP_MEMORY_SECONDS = 1.0


class KnownFull:
    """The caps this process found full in the last ``FULL_CAP_MEMORY_SECONDS``.

    An attack is mostly requests against a full cap; refused from here they cost no
    read, not even of the settings version (calls/live_widgets.py). Only a shortcut
    to a refusal: the guarded upsert stays the check, and nothing refused from here
    would have been admitted but for a cap raised, or a call given back, within the
    memory's second. A cap is known by its counter and its limit: one raised in the
    configuration is read again at once, one raised on a widget or an account in
    the database once the memory lapses.
    """

    def __init__(self, ttl_seconds: float = FULL_CAP_MEMORY_SECONDS,
                 max_caps: int = 50_000) -> None:
        self.caps: TTLCache[tuple, bool] = TTLCache(max_caps, ttl_seconds)
        self.lock = threading.Lock()

    def add(self, cap: Cap) -> None:
        with self.lock:
            self.caps[(cap.scope, cap.key, cap.period, cap.limit)] = True

    def first_full(self, caps: list[Cap]) -> Cap | None:
        """The first of ``caps`` known full, if any. Under the lock throughout: even
        the cache's length expires entries."""
        with self.lock:
            if not self.caps:  # the usual case: no lookups
                return None
            return next((cap for cap in caps
                         if (cap.scope, cap.key, cap.period, cap.limit) in self.caps), None)


def known_full() -> KnownFull:
    """This app's ``KnownFull``, shared by its threads."""
    extensions = current_app.extensions
    if "known_full_caps" not in extensions:
        extensions.setdefault("known_full_caps", KnownFull())
    return extensions["known_full_caps"]


def cap_reached(cap: Cap) -> Refusal:
    """The 429 naming ``cap``, with the seconds until its period ends."""
    return Refusal(f"cap_{cap.scope.replace('-', '_')}", cap.message, status=429,
                   retry_after=cap.retry_after)


def _found_full(cap: Cap) -> Refusal:
    """The refusal of ``cap``, found full by a read or a count, remembered as such (a
    refusal from memory is not remembered again, so a cap is read once a second)."""
    known_full().add(cap)
    return cap_reached(cap)


def refuse_if_reached(caps: list[Cap], counts: tuple[int, ...]) -> None:
    """Raise the refusal of the first cap already full, given the counters as read
    (abuse/standing.py reads them with the rest of a call request's standing).

    A fast path for the caller to take before the captcha and the write: a
    flood against a full cap is then refused for the price of one SELECT a
    second, the cap remembered (``KnownFull``) in between. It decides nothing
    on its own: ``count_within_caps`` stays the check.
    """
    for cap, count in zip(caps, counts, strict=True):
        if cap.limit <= 0 or count >= cap.limit:
            raise _found_full(cap)


def count_within_caps(caps: list[Cap]) -> None:
    """Count one call against every cap, or raise a 429 naming the first one reached.

    Call inside the transaction that records the call: on a refusal the caller
    rolls back, so the caps counted beside the one reached are not spent. All
    caps are counted in one statement; with the caps listed in the same order
    by every request, concurrent requests lock the counter rows in one order.
    """
    countable = caps_to_count(caps)
    counted = increment_below(UsageCounter, counter_keys(countable),
                              [cap.limit for cap in countable]) if countable else set()
    refuse_unless_counted(caps, counted)


def caps_to_count(caps: list[Cap]) -> list[Cap]:
    """The caps a request counts against: a cap of 0 is reached before it is counted,
    so only the caps before it matter."""
    closed = next((i for i, cap in enumerate(caps) if cap.limit <= 0), len(caps))
    return caps[:closed]


def counter_keys(caps: list[Cap]) -> list[dict]:
    return [{"scope": cap.scope, "key": cap.key, "period": cap.period} for cap in caps]


def refuse_unless_counted(caps: list[Cap], counted: set[tuple]) -> None:
    """Raise a 429 naming the first cap whose (scope, key, period) was not counted."""
    for cap in caps:
        if (cap.scope, cap.key, cap.period) not in counted:
            raise _found_full(cap)


def give_back(caps: list[Cap]) -> None:
    """Uncount a call that was counted but will never be placed (the queue refused it).

    Otherwise a visitor who was told to try again later would find the per-minute
    guard, or a day's cap, spent on a call that never rang.
    """
    db.session.execute(
        update(UsageCounter)
        .where(tuple_(UsageCounter.scope, UsageCounter.key, UsageCounter.period).in_(
            [(cap.scope, cap.key, cap.period) for cap in caps]), UsageCounter.count > 0)
        .values(count=UsageCounter.count - 1))
