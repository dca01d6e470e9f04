"""Widgets and their domain whitelists; each answer carries the embed snippet."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

import phonenumbers
from flask import current_app, request
from sqlalchemy import select

from widget_server.abuse.caps import cap_above_ceiling
from widget_server.abuse.phone import normalise_business_number
from widget_server.api import blueprint
from widget_server.api.auth import caller
from widget_server.api.inputs import (
    MISSING,
    PUBLIC_ID,
    Fields,
    Query,
    json_body,
    paginated,
    timestamp,
)
from widget_server.api.problems import CONFLICT, Problem, invalid
from widget_server.extensions import db
from widget_server.models import Account, AllowedDomain, Widget, utcnow
from widget_server.security.origins import normalise_domain
from widget_server.security.tokens import embed_token
from widget_server.services import provider_accounts
from widget_server.services.errors import ServiceError
from widget_server.tenancy import scoped_select

ID = "<widget_id>"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POSITIONS = ("bottom-right", "bottom-left")
OUTSIDE_HOURS = ("hidden", "callback")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_LANGUAGE = re.compile(r"[a-z]{2}(-[A-Z]{2})?")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
SETTINGS = {"name", "paused", "business_numbers", "home_country", "allowed_countries",
            "language", "button_label", "button_colour", "button_position", "consent_text",
            "time_zone", "opening_hours", "outside_hours", "cap_per_ip", "cap_per_number",
            "cap_per_widget", "provider_account_id", "provider_options"}


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def snippet(widget: Widget) -> str:
    base = (current_app.config["PUBLIC_URL"] or request.host_url).rstrip("/")
    return (f'<script async src="{base}/embed/v1/loader.js" '
            f'data-widget="{embed_token(widget)}"></script>')


def widget_json(widget: Widget) -> dict:
    return {
        "id": widget.public_id, "account_id": widget.account_id, "name": widget.name,
        "paused": widget.paused, "business_numbers": list(widget.business_numbers),
        "home_country": widget.home_country, "allowed_countries": list(widget.allowed_countries),
        "language": widget.language, "button_label": widget.button_label,
        "button_colour": widget.button_colour, "button_position": widget.button_position,
        "consent_text": widget.consent_text, "time_zone": widget.time_zone,
        "opening_hours": widget.opening_hours or {}, "outside_hours": widget.outside_hours,
        "cap_per_ip": widget.cap_per_ip, "cap_per_number": widget.cap_per_number,
        "cap_per_widget": widget.cap_per_widget,
        "provider_account_id": widget.provider_account_id,
        "provider_options": widget.provider_options or {},
        "domains": [domain_json(d) for d in widget.domains],
        "embed_snippet": snippet(widget), "created_at": timestamp(widget.created_at),
    }


def domain_json(domain: AllowedDomain) -> dict:
    return {"id": domain.id, "pattern": domain.pattern}


def scoped_widget(widget_id: str) -> Widget:
    """The caller's live widget ``widget_id``, else 404 (deleted ones too)."""
    widget = None
    if PUBLIC_ID.fullmatch(widget_id):
        widget = db.session.scalar(scoped_select(Widget, caller()).where(
            Widget.public_id == widget_id, Widget.deleted_at.is_(None)))
    if widget is None:
        raise Problem(404)
    return widget


def _country(fields: Fields, name: str, value: str) -> str | None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        fields.error(name, f"{value!r} is not a country code such as US or GB.")
        return None
    return value


def _opening_hours(fields: Fields, value: dict) -> dict | None:
    """``{"mon": [["09:00", "17:00"]], ...}``: known days, HH:MM pairs, start before end."""
    for day, spans in value.items():
        if day not in DAYS or not isinstance(spans, list) or len(spans) > 6 or not all(
                isinstance(span, list) and len(span) == 2
                and all(isinstance(t, str) and _CLOCK.fullmatch(t) for t in span)
                and span[0] < span[1] for span in spans):
            fields.error("opening_hours", "Use {\"mon\": [[\"09:00\", \"17:00\"]], ...} with "
                         "days mon to sun and each opening before its closing.")
            return None
    return value


def _provider_account(fields: Fields, provider_id: int, owner: Account):
    """A provider account ``owner``'s widgets may use (services/provider_accounts.py)."""
    try:
        return provider_accounts.usable(owner, provider_id)
    except ServiceError as error:
        fields.error(error.field, error.message)
        return None


def read_settings(fields: Fields, owner: Account, *, creating: bool) -> dict:
    """The widget settings present in ``fields``, checked; errors collect in ``fields``."""
    values = {
        "name": fields.text("name", max_length=120),
        "paused": fields.boolean("paused"),
        "language": fields.text("language", max_length=8),
        "button_label": fields.text("button_label", max_length=60),
        "button_colour": fields.text("button_colour", max_length=7),
        "button_position": fields.choice("button_position", POSITIONS),
        "consent_text": fields.text("consent_text", max_length=500),
        "time_zone": fields.text("time_zone", max_length=64),
        "outside_hours": fields.choice("outside_hours", OUTSIDE_HOURS),
        "cap_per_ip": fields.integer("cap_per_ip"),
        "cap_per_number": fields.integer("cap_per_number"),
        "cap_per_widget": fields.integer("cap_per_widget"),
        "opening_hours": fields.mapping("opening_hours"),
        "provider_options": fields.mapping("provider_options"),
    }
    for name in ("cap_per_ip", "cap_per_number"):
        problem = values[name] is not MISSING and cap_above_ceiling(name, values[name])
        if problem:
            fields.error(name, problem)
    numbers = fields.text_list("business_numbers", max_items=10, max_length=32,
                               required=creating)
    if numbers is not MISSING:
        try:
            values["business_numbers"] = [normalise_business_number(n) for n in numbers]
        except ValueError as error:
            fields.error("business_numbers", str(error))
        if not numbers:
            fields.error("business_numbers", "Give at least one number to ring.")
    home = fields.text("home_country", max_length=2)
    if home is not MISSING:
        values["home_country"] = _country(fields, "home_country", home)
    countries = fields.text_list("allowed_countries", max_items=50, max_length=2)
    if countries is not MISSING:
        values["allowed_countries"] = [_country(fields, "allowed_countries", c)
                                       for c in countries]
    if values["language"] is not MISSING and not _LANGUAGE.fullmatch(values["language"]):
        fields.error("language", "Use a language code such as en or pt-BR.")
    if values["button_colour"] is not MISSING and not _COLOUR.fullmatch(values["button_colour"]):
        fields.error("button_colour", "Use a colour such as #0b6e4f.")
    if values["time_zone"] is not MISSING and values["time_zone"] not in _time_zones():
        fields.error("time_zone", "Use an IANA time zone such as Europe/London.")
    if values["opening_hours"] is not MISSING:
        _opening_hours(fields, values["opening_hours"])
    provider_id = fields.integer("provider_account_id")
    if provider_id not in (MISSING, None):
        values["provider_account"] = _provider_account(fields, provider_id, owner)
    elif provider_id is None:
        values["provider_account"] = None
    return {name: value for name, value in values.items() if value is not MISSING}


def _check_provider_options(fields: Fields, widget: Widget) -> None:
    """The widget's provider options, parsed as its provider's kind declares them."""
    if widget.provider_options:
        try:
            widget.provider_options = provider_accounts.widget_options(
                widget.provider_account, widget.provider_options)
        except ServiceError as error:
            for name, message in error.errors.items():
                fields.error(name, message)


@blueprint.get("/widgets")
def list_widgets():
    query = Query({"account_id", "paused"})
    statement = scoped_select(Widget, caller()).where(Widget.deleted_at.is_(None))
    account_id = query.integer("account_id")
    paused = query.choice("paused", ("true", "false"))
    if account_id is not None:
        statement = statement.where(Widget.account_id == account_id)
    if paused is not None:
        statement = statement.where(Widget.paused.is_(paused == "true"))
    return paginated(query, statement.order_by(Widget.id), widget_json)


@blueprint.post("/widgets")
def create_widget():
    fields = Fields(json_body(), SETTINGS | {"account_id", "domains"})
    account_id = fields.integer("account_id", nullable=False)
    owner = caller()
    if account_id is not MISSING:
        owner = db.session.scalar(scoped_select(Account, caller()).where(
            Account.id == account_id))
        if owner is None:
            fields.error("account_id", "There is no such account under yours.")
            owner = caller()
    settings = read_settings(fields, owner, creating=True)
    domains = fields.text_list("domains", max_items=50, max_length=260)
    patterns = set()
    for raw in [] if domains is MISSING else domains:
        try:
            patterns.add(normalise_domain(raw))
        except ValueError as error:  # DomainError, or a URL that does not parse
            fields.error("domains", str(error))
    widget = Widget(account_id=owner.id, **settings)
    widget.domains = [AllowedDomain(pattern=p) for p in sorted(patterns)]
    _check_provider_options(fields, widget)
    fields.done()
    db.session.add(widget)
    db.session.commit()
    return widget_json(widget), 201


@blueprint.get(f"/widgets/{ID}")
def get_widget(widget_id: str):
    return widget_json(scoped_widget(widget_id))


@blueprint.patch(f"/widgets/{ID}")
def update_widget(widget_id: str):
    widget = scoped_widget(widget_id)
    fields = Fields(json_body(), SETTINGS)
    settings = read_settings(fields, widget.account, creating=False)
    fields.done()
    with db.session.no_autoflush:
        for name, value in settings.items():
            setattr(widget, name, value)
        _check_provider_options(fields, widget)
    if fields.errors:
        db.session.rollback()
        fields.done()
    db.session.commit()
    return widget_json(widget)


@blueprint.delete(f"/widgets/{ID}")
def delete_widget(widget_id: str):
    """Soft: the call history stays, the snippet and token stop working."""
    widget = scoped_widget(widget_id)
    widget.deleted_at = utcnow()
    db.session.commit()
    return "", 204


@blueprint.post(f"/widgets/{ID}/rotate_token")
def rotate_token(widget_id: str):
    """A new token: the old snippet stops working at once."""
    widget = scoped_widget(widget_id)
    widget.token_version += 1
    db.session.commit()
    return widget_json(widget)


@blueprint.get(f"/widgets/{ID}/domains")
def list_domains(widget_id: str):
    widget = scoped_widget(widget_id)
    query = Query(set())
    statement = select(AllowedDomain).where(AllowedDomain.widget_id == widget.id)
    return paginated(query, statement.order_by(AllowedDomain.id), domain_json)


@blueprint.post(f"/widgets/{ID}/domains")
def add_domain(widget_id: str):
    widget = scoped_widget(widget_id)
    fields = Fields(json_body(), {"pattern"})
    raw = fields.text("pattern", max_length=260, required=True)
    fields.done()
    try:
        pattern = normalise_domain(raw)
    except ValueError as error:  # DomainError, or a URL that does not parse
        raise invalid({"pattern": str(error)}) from None
    if any(d.pattern == pattern for d in widget.domains):
        raise Problem(409, f"{pattern} is on this widget's whitelist already.", type_=CONFLICT)
    domain = AllowedDomain(widget_id=widget.id, pattern=pattern)
    db.session.add(domain)
    db.session.commit()
    return domain_json(domain), 201


@blueprint.delete(f"/widgets/{ID}/domains/<int(max=2147483647):domain_id>")
def remove_domain(widget_id: str, domain_id: int):
    widget = scoped_widget(widget_id)
    domain = db.session.scalar(select(AllowedDomain).where(
        AllowedDomain.widget_id == widget.id, AllowedDomain.id == domain_id))
    if domain is None:
        raise Problem(404)
    db.session.delete(domain)
    db.session.commit()
    return "", 204

