"""Opening hours: whether a widget takes calls now, and when it next does.

``Widget.opening_hours`` maps weekdays to ranges of local wall-clock time in
``Widget.time_zone``: ``{"mon": [["09:00", "17:00"]], "fri": [["22:00", "02:00"]]}``.
An empty mapping means always open; a day left out is closed all day. A range
whose end is not after its start runs overnight into the next day, and "24:00"
ends a range at midnight.

Comparisons are made on the local wall clock, so a range keeps its meaning
across daylight-saving changes; a start that falls in a spring-forward gap
opens at the first real moment after it. Times given and returned are UTC
(aware; a naive value is read as UTC, as the database stores them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from flask_babel import get_locale

from widget_server.errors import Refusal

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Callback slots offered to a visitor: every half hour of opening, a week ahead.
SLOT_STEP = timedelta(minutes=30)
CALLBACK_HORIZON = timedelta(days=7)
MAX_RANGES = 6


class HoursError(ValueError):
    """Opening hours that cannot be read; the sentence says what is wrong."""


def parse_clock(text: object) -> time | None:
    """``"HH:MM"`` as a time; ``"24:00"`` is None (the end of the day)."""
    if not (isinstance(text, str) and len(text) == 5 and text[2] == ":" and text.isascii()
            and text[:2].isdigit() and text[3:].isdigit()):
        raise HoursError(f"{text!r} is not a time like 09:00.")
    if text == "24:00":
        return None
    try:
        return time(int(text[:2]), int(text[3:]))
    except ValueError:
        raise HoursError(f"{text!r} is not a time like 09:00.") from None


def validate_hours(hours: object) -> dict[str, list[list[str]]]:
    """The opening hours if they can be read, else ``HoursError``.

    The one rule for the command line, the API and the admin (services/widgets.py).
    """
    if not isinstance(hours, dict):
        raise HoursError("Opening hours must map weekdays to lists of ranges.")
    for day, ranges in hours.items():
        if day not in DAYS:
            raise HoursError(f"{day!r} is not a weekday; use mon, tue, wed, thu, fri, sat, sun.")
        if not isinstance(ranges, list):
            raise HoursError(f"The hours of {day} must be a list of [start, end] ranges.")
        if len(ranges) > MAX_RANGES:
            raise HoursError(f"Give at most {MAX_RANGES} ranges on {day}.")
        for entry in ranges:
            if not isinstance(entry, list | tuple) or len(entry) != 2:
                raise HoursError(f"The hours of {day} must be a list of [start, end] ranges.")
            start, end = parse_clock(entry[0]), parse_clock(entry[1])
            if start is None:
                raise HoursError("A range cannot start at 24:00; use 00:00 of the next day.")
            if start == end:
                raise HoursError(f"The range {entry[0]}-{entry[1]} on {day} is empty.")
    return hours


def zone_of(widget) -> ZoneInfo:
    try:
        return ZoneInfo(widget.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        # A zone the system no longer knows must not break the visitor's path.
        return ZoneInfo("UTC")


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _ranges(widget, day: date) -> list[tuple[datetime, datetime]]:
    """The ranges that start on local ``day``, as naive local wall-clock datetimes.

    A stored range that does not read (written around ``validate_hours``) is
    skipped: the visitor's path must not fail on it.
    """
    found = []
    ranges = (widget.opening_hours or {}).get(DAYS[day.weekday()], [])
    for entry in ranges if isinstance(ranges, list) else []:
        try:
            start_text, end_text = entry
            start, end = parse_clock(start_text), parse_clock(end_text)
        except (TypeError, ValueError):
            continue
        if start is None:
            continue
        opens = datetime.combine(day, start)
        closes = datetime.combine(day + timedelta(days=1), end or time()) if (
            end is None or end <= start) else datetime.combine(day, end)
        found.append((opens, closes))
    return found


def always_open(widget) -> bool:
    return not widget.opening_hours


def is_open(widget, now_utc: datetime) -> bool:
    """Whether ``widget`` takes calls at ``now_utc``."""
    if always_open(widget):
        return True
    local = _as_utc(now_utc).astimezone(zone_of(widget)).replace(tzinfo=None)
    return any(opens <= local < closes
               for day in (local.date() - timedelta(days=1), local.date())
               for opens, closes in _ranges(widget, day))


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time in UTC; in a DST gap, the first real moment after it.

    A skipped wall time has two readings (the offsets before and after the
    change) with the change between them: found by bisection on whole seconds.
    """
    moment = local.replace(tzinfo=zone).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) == local:
        return moment
    low = int(local.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    high = int(moment.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        wall = datetime.fromtimestamp(middle, zone).replace(tzinfo=None)
        low, high = (low, middle) if wall >= local else (middle, high)
    return datetime.fromtimestamp(high, UTC)


def open_ranges(widget, now_utc: datetime, horizon: timedelta = CALLBACK_HORIZON):
    """The opening ranges (UTC start, UTC end) overlapping [now, now + horizon), in order."""
    zone = zone_of(widget)
    now = _as_utc(now_utc)
    if always_open(widget):
        return [(now, now + horizon)]
    first = now.astimezone(zone).date() - timedelta(days=1)
    found = []
    for offset in range(horizon.days + 3):
        for opens, closes in _ranges(widget, first + timedelta(days=offset)):
            start, end = _to_utc(opens, zone), _to_utc(closes, zone)
            if end > now and start < now + horizon:
                found.append((max(start, now), min(end, now + horizon)))
    return sorted(found)


def next_opening(widget, now_utc: datetime) -> datetime | None:
    """``now_utc`` when open, else when the widget next opens (within a week); None if never."""
    if is_open(widget, now_utc):
        return _as_utc(now_utc)
    ranges = open_ranges(widget, now_utc, timedelta(days=8))
    return ranges[0][0] if ranges else None


def callback_slots(widget, now_utc: datetime, limit: int = 48) -> list[datetime]:
    """Times a visitor may choose for a call back: the half hours of the coming week's
    opening, the first at least ``SLOT_STEP`` from now."""
    earliest = _as_utc(now_utc) + SLOT_STEP
    slots: list[datetime] = []
    for start, end in open_ranges(widget, now_utc):
        slot = start
        while slot < end and len(slots) < limit:
            if slot >= earliest:
                slots.append(slot)
            slot += SLOT_STEP
    return slots


def callback_time_allowed(widget, when: datetime, now_utc: datetime) -> bool:
    """Whether ``when`` is in opening hours, in the future and within the coming week."""
    when, now = _as_utc(when), _as_utc(now_utc)
    return now < when <= now + CALLBACK_HORIZON and is_open(widget, when)


def slot_label(widget, slot: datetime) -> str:
    """A callback slot as the visitor reads it: on the widget's local clock, zone named,
    day and month in the visitor's language."""
    local = _as_utc(slot).astimezone(zone_of(widget))
    when = format_datetime(local, "EEE dd MMM, HH:mm", locale=get_locale() or "en")
    return f"{when} ({local.tzname()})"


def when_to_call(widget, callback_at: object, now_utc: datetime) -> datetime | None:
    """When to place a visitor's call: None for now, else the chosen time (naive UTC).

    Refuses (409 ``closed``) a call while closed unless the widget offers call-backs
    and a time was chosen, and (400 ``callback_at_invalid``) a time that is not an
    ISO datetime with an offset, in opening hours, within the coming week.
    """
    open_now = is_open(widget, now_utc)
    offers_callback = widget.outside_hours == "callback"
    if callback_at is None:
        if open_now:
            return None
        if offers_callback:
            raise Refusal("closed", "We are closed right now; please choose a time for us to "
                          "call you back.", status=409)
        raise Refusal("closed", "Call-backs are not available at this time. Please come back "
                      "during opening hours.", status=409)
    if not offers_callback:
        if not open_now:
            raise Refusal("closed", "Call-backs are not available at this time. Please come "
                          "back during opening hours.", status=409)
        raise Refusal("callback_at_invalid", "This site calls back right away; it does not "
                      "take a time for later.")
    try:
        when = datetime.fromisoformat(callback_at) if isinstance(callback_at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise Refusal("callback_at_invalid", "Please choose a call-back time from the list.")
    if not callback_time_allowed(widget, when, now_utc):
        raise Refusal("callback_at_invalid", "That time is outside opening hours or more "
                      "than a week ahead; please choose another.")
    return _as_utc(when).replace(tzinfo=None)
