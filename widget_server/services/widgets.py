"""Widgets: create one, change its settings, pause, delete, rotate its token, its snippet.

The command line, the management API and the admin all change widgets through
the functions here, so a setting means the same everywhere. Each takes the
actor (services/actors.py) and plain values. Settings are checked together
before any is stored; their errors come as an ``ExceptionGroup`` of
``ServiceError``, one per field, so a form shows them all at once.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Iterable
from functools import cache, partial
from typing import Any

import phonenumbers
from flask import current_app

from widget_server.abuse.caps import cap_above_ceiling
from widget_server.abuse.phone import normalise_business_number
from widget_server.calls.hours import DAYS, HoursError, validate_hours
from widget_server.extensions import db
from widget_server.i18n import AUTO_LANGUAGE, LANGUAGES, supported
from widget_server.models import Account, AllowedDomain, Widget, utcnow
from widget_server.security.tokens import embed_token
from widget_server.services import provider_accounts
from widget_server.services.accounts import check_widget_room
from widget_server.services.actors import Actor, acting_account, check_may_change, check_widget
from widget_server.services.domains import normalise_domains
from widget_server.services.errors import ServiceError, refusals
from widget_server.tenancy import scoped_select

POSITIONS = ("bottom-right", "bottom-left")
OUTSIDE_HOURS = ("hidden", "callback")
TEXTS = {"name": 120, "button_label": 60, "consent_text": 500}
# The owner's optional promise under the form's heading ("We call you back within 30
# seconds"): one short line, so the card stays small.
PROMISE_LENGTH = 80
PROMISE_RULE = (f"Write one line of at most {PROMISE_LENGTH} characters, or leave it empty "
                "for none.")
CAPS = ("cap_per_ip", "cap_per_number", "cap_per_widget")
PATH_RULES = ("show_on_paths", "hide_on_paths")
# The loader reads these on every page view: a few short globs, a bounded wait.
MAX_PATH_GLOBS, MAX_GLOB_LENGTH = 20, 200
DISPLAY_NUMBERS = {"show_after_seconds": 3600, "show_after_scroll": 100}
# What a widget's recipients may be mailed about (mail/notifications.py): a new request,
# a call-back booked, a missed call (business not reached or no answer), a failed one,
# and a digest of each day.
NOTIFY_EVENTS = ("requested", "scheduled", "missed", "failed", "digest")
MAX_NOTIFY_EMAILS = 10
# Redials of a call the business missed (calls/redial.py): how many, how far apart.
REDIAL_RANGES = {"redial_attempts": (0, 5), "redial_interval_minutes": (1, 1440)}
SETTINGS = frozenset({
    *TEXTS, *CAPS, *REDIAL_RANGES, *PATH_RULES, *DISPLAY_NUMBERS, "paused", "business_numbers",
    "home_country", "allowed_countries", "language", "button_colour", "button_position",
    "time_zone", "opening_hours", "outside_hours", "provider_account_id", "provider_options",
    "notify_emails", "notify_events", "promise_text"})
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# An address a mail header can carry as it is: ASCII, no spaces or line breaks.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")
_LANGUAGE = re.compile(r"[a-z]{2}(-[A-Z]{2})?|auto")


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def embed_snippet(widget: Widget, fallback_url: str) -> str:
    """The tag a site owner pastes: served from PUBLIC_URL when set, else ``fallback_url``."""
    base = (current_app.config["PUBLIC_URL"] or fallback_url).rstrip("/")
    return (f'<script async src="{base}/embed/v1/loader.js" '
            f'data-widget="{embed_token(widget)}"></script>')


def business_numbers(raw: Iterable[str]) -> list[str]:
    """The numbers to ring, first first, as E.164: each valid, none twice, no extension."""
    numbers = []
    for text in raw:
        try:
            number = normalise_business_number(text.strip())
        except ValueError as error:
            raise ServiceError(str(error), "business_numbers") from None
        if number in numbers:
            raise ServiceError(f"{number} is in the list twice; give each number once.",
                               "business_numbers")
        numbers.append(number)
    if not numbers:
        raise ServiceError("Give at least one number to ring.", "business_numbers")
    return numbers


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ServiceError("Enter some text.", name)
    if len(value.strip()) > TEXTS[name]:
        raise ServiceError("Use at most %(count)s characters.", name,
                           params={"count": TEXTS[name]})
    return value.strip()


def _promise(value: object) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or len(text) > PROMISE_LENGTH or not text.isprintable():
        raise ServiceError(PROMISE_RULE, "promise_text")
    return text


def _country(name: str, value: str) -> str:
    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ServiceError(f"{value!r} is not a country code such as US or GB.", name)
    return code


def _countries(values: Iterable[str]) -> list[str]:
    codes = [value.strip().upper() for value in values]
    unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise ServiceError(f"Not country codes: {', '.join(unknown)}.", "allowed_countries")
    return list(dict.fromkeys(codes))


def _cap(name: str, value: int | None, owner: Account) -> int | None:
    """A widget's own cap: none (the default), or within the ceilings and the allowance."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ServiceError("Use a whole number, 0 or more.", name)
    problem = cap_above_ceiling(name, value)
    if problem:
        raise ServiceError(problem, name)
    if owner.daily_call_cap is not None and value > owner.daily_call_cap:
        raise ServiceError(f"{owner.name}'s daily allowance is {owner.daily_call_cap} calls; "
                           "stay within it.", name)
    return value


def _in_range(name: str, value: object) -> int:
    low, high = REDIAL_RANGES[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ServiceError("Use a whole number from %(low)s to %(high)s.", name,
                           params={"low": low, "high": high})
    return value


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ServiceError(f"Use one of: {', '.join(choices)}.", name)
    return value


def _matching(name: str, value: str, pattern: re.Pattern, sentence: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
        raise ServiceError(sentence, name)
    return value.strip()


def _language(value: str) -> str:
    """A language visitors can read (a catalogue ships for it), or ``auto``: a code
    without a catalogue would silently show English."""
    language = _matching("language", value, _LANGUAGE,
                         "Use a language code such as en or pt-BR, or auto.")
    if language != AUTO_LANGUAGE and supported(language) is None:
        raise ServiceError(f"There is no visitor form in {language!r} yet. Use auto or one of "
                           f"{', '.join(LANGUAGES)}.", "language")
    return language


def _time_zone(value: str) -> str:
    if value.strip() not in _time_zones():
        raise ServiceError("%(value)s is not a time zone such as Europe/London.", "time_zone",
                           params={"value": repr(value)})
    return value.strip()


def _path_globs(name: str, value: object) -> list[str]:
    """Page path globs such as ``/pricing`` or ``/blog/*`` (``*`` any characters,
    ``/`` included), as the loader matches them against ``location.pathname``."""
    if not isinstance(value, list | tuple) or len(value) > MAX_PATH_GLOBS:
        raise ServiceError("Give a list of at most %(count)s paths.", name,
                           params={"count": MAX_PATH_GLOBS})
    globs = []
    for glob in value:
        glob = glob.strip() if isinstance(glob, str) else ""
        if not glob.startswith("/") or len(glob) > MAX_GLOB_LENGTH or any(
                c.isspace() or not c.isprintable() for c in glob):
            raise ServiceError("Each path starts with / and has no spaces, at most "
                               "%(count)s characters, like /blog/*.", name,
                               params={"count": MAX_GLOB_LENGTH})
        globs.append(glob)
    return list(dict.fromkeys(globs))


def _display_number(name: str, value: object) -> int:
    top = DISPLAY_NUMBERS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise ServiceError("Use a whole number from 0 to %(top)s.", name, params={"top": top})
    return value


def _day_problem(day: str, spans: object) -> ServiceError | None:
    """Why one day's ranges cannot be read, named ``opening_hours.<day>``, or None."""
    try:
        validate_hours({day: spans})
    except HoursError as error:
        if day in DAYS:
            return ServiceError(str(error).replace(f" on {day}", ""), f"opening_hours.{day}")
        return ServiceError(str(error), "opening_hours")
    return None


def _opening_hours(value: object) -> dict:
    """The hours as stored; a day's problem is keyed by its day, so a form shows it next
    to that day, and every day's comes at once."""
    if not isinstance(value, dict):
        try:
            validate_hours(value)  # refuses it, saying what hours look like
        except HoursError as error:
            raise ServiceError(str(error), "opening_hours") from None
        raise ServiceError("Give the opening hours by day.", "opening_hours")
    errors = [problem for day, spans in value.items()
              if (problem := _day_problem(day, spans)) is not None]
    if errors:
        raise ExceptionGroup("The opening hours are not valid.", errors)
    return {day: [list(span) for span in spans] for day, spans in value.items()}


def notify_emails(values: Iterable[str]) -> list[str]:
    """The recipients of a widget's mail: addresses, none twice, at most ten."""
    if isinstance(values, str) or not all(isinstance(value, str) for value in values):
        raise ServiceError("Give a list of e-mail addresses.", "notify_emails")
    addresses = []
    for value in values:
        address = value.strip()
        if len(address) > 254 or not _EMAIL.fullmatch(address):
            raise ServiceError(f"{address!r} is not an e-mail address such as "
                               "owner@example.com.", "notify_emails")
        local, _, domain = address.rpartition("@")
        address = f"{local}@{domain.lower()}"
        if address not in addresses:
            addresses.append(address)
    if len(addresses) > MAX_NOTIFY_EMAILS:
        raise ServiceError("Give at most %(count)s addresses.", "notify_emails",
                           params={"count": MAX_NOTIFY_EMAILS})
    return addresses


def notify_events(values: Iterable[str]) -> list[str]:
    """The events a widget's recipients are mailed about, in the order of ``NOTIFY_EVENTS``."""
    chosen = set(values)
    unknown = chosen - set(NOTIFY_EVENTS)
    if unknown:
        raise ServiceError(f"Not mail events: {', '.join(sorted(map(str, unknown)))}. Use "
                           f"{', '.join(NOTIFY_EVENTS)}.", "notify_events")
    return [event for event in NOTIFY_EVENTS if event in chosen]


def _checked(actor: Actor, settings: dict, owner: Account, widget: Widget | None) -> dict:
    """``settings`` with every rule applied, as the widget stores them; else every error.

    ``provider_account_id`` comes back as ``provider_account``.
    """
    unknown = set(settings) - SETTINGS
    if unknown:
        raise TypeError(f"Not widget settings: {', '.join(sorted(unknown))}")
    rules: dict[str, Callable[[Any], Any]] = {
        "paused": bool,
        "business_numbers": business_numbers,
        "home_country": lambda value: _country("home_country", value),
        "allowed_countries": _countries,
        "language": _language,
        "button_colour": lambda value: _matching("button_colour", value, _COLOUR,
                                                 "Use a colour such as #0b6e4f.").lower(),
        "button_position": lambda value: _choice("button_position", value, POSITIONS),
        "outside_hours": lambda value: _choice("outside_hours", value, OUTSIDE_HOURS),
        "time_zone": _time_zone,
        "opening_hours": _opening_hours,
        "provider_options": dict,
        "notify_emails": notify_emails,
        "notify_events": notify_events,
        **{name: partial(_text, name) for name in TEXTS},
        "promise_text": _promise,
        **{name: partial(_cap, name, owner=owner) for name in CAPS},
        **{name: partial(_path_globs, name) for name in PATH_RULES},
        **{name: partial(_display_number, name) for name in DISPLAY_NUMBERS},
        **{name: partial(_in_range, name) for name in REDIAL_RANGES},
        "provider_account_id": lambda value: provider_accounts.usable(owner, value),
    }
    values, errors = {}, []
    for name, value in settings.items():
        try:
            values[name] = rules[name](value)
        except ServiceError as error:
            errors.append(error)
        except ExceptionGroup as group:
            errors.extend(refusals(group))
    if "provider_account_id" in values:
        values["provider_account"] = values.pop("provider_account_id")
    if not errors and ({"provider_account", "provider_options"} & set(values)):
        provider = values.get("provider_account", widget.provider_account if widget else None)
        options = values.get("provider_options",
                             (widget.provider_options if widget else None) or {})
        try:
            parsed = provider_accounts.widget_options(provider, options)
        except ExceptionGroup as group:
            errors.extend(refusals(group))
        else:
            if "provider_options" in values:
                values["provider_options"] = parsed
    if errors:
        raise ExceptionGroup("The widget's settings are not valid.", errors)
    return values


def _prepared(actor: Actor, account_id: int | None, settings: dict,
              domains: Iterable[str]) -> tuple[Account, dict, list[str]]:
    """The new widget's owner, checked settings and domains; else every refusal."""
    check_may_change(actor, None, "widget")
    caller = acting_account(actor)
    owner = caller
    if account_id is not None:
        owner = db.session.scalar(scoped_select(Account, caller).where(Account.id == account_id))
        if owner is None:
            raise ServiceError("There is no such account under yours.", "account_id")
    check_widget_room(owner)
    errors, values, patterns = [], {}, []
    if "business_numbers" not in settings:
        errors.append(ServiceError("Give at least one number to ring.", "business_numbers"))
    try:
        values = _checked(actor, settings, owner, None)
    except ExceptionGroup as group:
        errors.extend(refusals(group))
    try:
        patterns = normalise_domains(domains)
    except ServiceError as error:
        errors.append(error)
    if errors:
        raise ExceptionGroup("The widget's settings are not valid.", errors)
    return owner, values, patterns


def check_new_widget(actor: Actor, *, account_id: int | None, settings: dict,
                     domains: Iterable[str] = ()) -> None:
    """Every refusal ``create_widget`` would give, storing nothing: for an interface that
    found other errors in the input first and shows them all at once."""
    _prepared(actor, account_id, settings, domains)


def create_widget(actor: Actor, *, account_id: int | None, settings: dict,
                  domains: Iterable[str] = ()) -> Widget:
    """A new widget of the actor's account or one under it (``account_id``), committed."""
    owner, values, patterns = _prepared(actor, account_id, settings, domains)
    widget = Widget(account_id=owner.id, **values)
    widget.domains = [AllowedDomain(pattern=pattern) for pattern in patterns]
    db.session.add(widget)
    db.session.commit()
    return widget


def check_settings(actor: Actor, widget: Widget, settings: dict) -> None:
    """Every refusal ``update_widget`` would give, storing nothing (see ``check_new_widget``)."""
    check_widget(actor, widget)
    _checked(actor, settings, widget.account, widget)


def update_widget(actor: Actor, widget: Widget, settings: dict) -> Widget:
    """Change the named settings only; nothing is stored unless every one is valid."""
    check_widget(actor, widget)
    values = _checked(actor, settings, widget.account, widget)
    for name, value in values.items():
        setattr(widget, name, value)
    db.session.commit()
    return widget


def set_paused(actor: Actor, widget: Widget, paused: bool) -> Widget:
    """A paused widget's button no longer shows; its settings stay."""
    return update_widget(actor, widget, {"paused": paused})


def delete_widget(actor: Actor, widget: Widget) -> None:
    """Soft: the call history stays in the reports, the snippet and token stop working."""
    check_widget(actor, widget)
    widget.deleted_at = utcnow()
    db.session.commit()


def rotate_token(actor: Actor, widget: Widget) -> Widget:
    """A new token: every snippet carrying the old one is refused (``token_revoked``)."""
    check_widget(actor, widget)
    widget.token_version += 1
    db.session.commit()
    return widget

