"""How the admin writes times, numbers and domains for the person reading it.

Times are stored as naive UTC. A report shows each call in its widget's time
zone (the one its opening hours are in, so a call-back booked for 09:00 in
Berlin reads 09:00), or in the user's own zone when they chose one on their
settings page; the page always says which zone (``zone_for``). Dates and
numbers follow the admin's language (Babel's formats for the locale).

Allowed domains are stored as the browser sends them, punycode (A-labels);
the admin shows a non-ASCII one in Unicode with its punycode beside it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import idna
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale
from flask_login import current_user

from widget_server.admin.views import blueprint
from widget_server.i18n import DEFAULT_LANGUAGE

UTC_ZONE = "UTC"


def _locale() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


@blueprint.app_template_global()
def zone_for(widget=None) -> str:
    """The zone name times are shown in: the user's choice, else ``widget``'s, else UTC."""
    chosen = getattr(current_user, "time_zone", None)
    return chosen or (getattr(widget, "time_zone", None) if widget is not None else None) \
        or UTC_ZONE


def in_zone(moment: datetime, zone: str) -> datetime:
    """A stored (naive UTC) moment as an aware time in ``zone`` (UTC for an unknown name)."""
    try:
        tzinfo = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tzinfo = ZoneInfo(UTC_ZONE)
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(tzinfo)


@blueprint.app_template_filter("local_time")
def local_time(moment: datetime | None, zone: str = UTC_ZONE, length: str = "medium") -> str:
    """``moment`` in ``zone`` as the reader's language writes a date and time."""
    if moment is None:
        return ""
    return format_datetime(in_zone(moment, zone), length, locale=_locale())


@blueprint.app_template_filter("local_clock")
def local_clock(moment: datetime, zone: str = UTC_ZONE) -> str:
    """The time of day of ``moment`` in ``zone``, with seconds (a call's timeline)."""
    return format_datetime(in_zone(moment, zone), "HH:mm:ss", locale=_locale())


@blueprint.app_template_filter("short_day")
def short_day(day: date) -> str:
    """A day as a chart's axis names it: "3 Mar", "3. März"."""
    return format_date(day, "d MMM", locale=_locale())


@blueprint.app_template_filter("long_day")
def long_day(day: date) -> str:
    return format_date(day, "medium", locale=_locale())


@blueprint.app_template_filter("month_name")
def month_name(day: date) -> str:
    """The month of ``day`` standing alone ("March 2026", "März 2026")."""
    return format_date(day, "LLLL y", locale=_locale())


@blueprint.app_template_filter("number")
def number(value: float | int) -> str:
    return format_decimal(value, locale=_locale())


@blueprint.app_template_filter("percent")
def percent(value: float | None) -> str:
    """A rate (0..1) as the reader writes a whole percentage; a dash for none."""
    return "\u2013" if value is None else format_percent(value, locale=_locale())


def unicode_domain(pattern: str) -> str:
    """A stored domain entry (``*.xn--bcher-kva.example:8080``) with its labels in Unicode;
    a label that does not decode stays as stored."""
    host, colon, port = pattern.rpartition(":") if pattern.count(":") == 1 else (pattern, "", "")
    labels = []
    for label in host.split("."):
        try:
            labels.append(idna.decode(label) if label.startswith("xn--") else label)
        except idna.IDNAError:
            labels.append(label)
    return ".".join(labels) + colon + port


@blueprint.app_template_global()
def domain_names(pattern: str) -> tuple[str, str | None]:
    """How to show an entry: its Unicode form, and the stored punycode when they differ."""
    shown = unicode_domain(pattern)
    return shown, (pattern if shown != pattern else None)
