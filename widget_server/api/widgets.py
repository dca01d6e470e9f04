"""Widgets and their domain whitelists; each answer carries the embed snippet."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

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
from widget_server.api.problems import Problem
from widget_server.extensions import db
from widget_server.models import AllowedDomain, Widget
from widget_server.services import domains, widgets
from widget_server.services.errors import ServiceError
from widget_server.tenancy import scoped_select

ID = "<widget_id>"


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
        "embed_snippet": widgets.embed_snippet(widget, request.host_url),
        "created_at": timestamp(widget.created_at),
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


def read_settings(fields: Fields, *, creating: bool) -> dict:
    """The widget settings present in ``fields``, by JSON type; services/widgets.py checks
    what they mean. Type errors collect in ``fields``."""
    values = {
        "name": fields.text("name", max_length=120),
        "paused": fields.boolean("paused"),
        "language": fields.text("language", max_length=8),
        "button_label": fields.text("button_label", max_length=60),
        "button_colour": fields.text("button_colour", max_length=7),
        "button_position": fields.text("button_position", max_length=16),
        "consent_text": fields.text("consent_text", max_length=500),
        "time_zone": fields.text("time_zone", max_length=64),
        "outside_hours": fields.text("outside_hours", max_length=16),
        "cap_per_ip": fields.integer("cap_per_ip"),
        "cap_per_number": fields.integer("cap_per_number"),
        "cap_per_widget": fields.integer("cap_per_widget"),
        "opening_hours": fields.mapping("opening_hours"),
        "provider_options": fields.mapping("provider_options"),
        "business_numbers": fields.text_list("business_numbers", max_items=10, max_length=32,
                                             required=creating),
        "home_country": fields.text("home_country", max_length=2),
        "allowed_countries": fields.text_list("allowed_countries", max_items=50,
                                              max_length=2),
        "provider_account_id": fields.integer("provider_account_id"),
    }
    return {name: value for name, value in values.items() if value is not MISSING}


def _done(fields: Fields, check) -> None:
    """422 when ``fields`` has errors, listing the services' refusals of the rest beside
    them (``check``), so one answer names every bad field."""
    if not fields.errors:
        return
    try:
        check()
    except (ServiceError, ExceptionGroup) as error:
        for each in error.exceptions if isinstance(error, ExceptionGroup) else [error]:
            if isinstance(each, ServiceError) and each.kind == "invalid":
                fields.error(each.field or "body", each.message)
    fields.done()


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
    fields = Fields(json_body(), set(widgets.SETTINGS) | {"account_id", "domains"})
    account_id = fields.integer("account_id", nullable=False)
    settings = read_settings(fields, creating=True)
    domain_list = fields.text_list("domains", max_items=50, max_length=260)
    request_values = {"account_id": None if account_id is MISSING else account_id,
                      "settings": settings,
                      "domains": [] if domain_list is MISSING else domain_list}
    _done(fields, lambda: widgets.check_new_widget(caller(), **request_values))
    return widget_json(widgets.create_widget(caller(), **request_values)), 201


@blueprint.get(f"/widgets/{ID}")
def get_widget(widget_id: str):
    return widget_json(scoped_widget(widget_id))


@blueprint.patch(f"/widgets/{ID}")
def update_widget(widget_id: str):
    widget = scoped_widget(widget_id)
    fields = Fields(json_body(), set(widgets.SETTINGS))
    settings = read_settings(fields, creating=False)
    _done(fields, lambda: widgets.check_settings(caller(), widget, settings))
    return widget_json(widgets.update_widget(caller(), widget, settings))


@blueprint.delete(f"/widgets/{ID}")
def delete_widget(widget_id: str):
    """Soft: the call history stays, the snippet and token stop working."""
    widgets.delete_widget(caller(), scoped_widget(widget_id))
    return "", 204


@blueprint.post(f"/widgets/{ID}/rotate_token")
def rotate_token(widget_id: str):
    """A new token: the old snippet stops working at once."""
    return widget_json(widgets.rotate_token(caller(), scoped_widget(widget_id)))


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
    return domain_json(domains.add_domain(caller(), widget, raw)), 201


@blueprint.delete(f"/widgets/{ID}/domains/<int(max=2147483647):domain_id>")
def remove_domain(widget_id: str, domain_id: int):
    domains.remove_domain(caller(), scoped_widget(widget_id), domain_id)
    return "", 204
