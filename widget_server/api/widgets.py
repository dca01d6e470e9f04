"""Widgets and their domain whitelists; each answer carries the embed snippet.

The models (api/schemas/widgets.py) take each field's shape and type; what a
setting may be is services/widgets.py's rule, as for the admin and the command
line. A body with fields of the wrong type is checked by the services for the
rest, so one 422 names every bad field.
"""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation, paginated
from widget_server.api.problems import Problem
from widget_server.api.schemas import widgets as schema
from widget_server.api.schemas.common import Id, PageQuery, PublicId
from widget_server.extensions import db
from widget_server.models import AllowedDomain, Widget
from widget_server.services import domains, widgets
from widget_server.tenancy import scoped_select

ID = "<widget_id>"


def snippet(widget: Widget) -> str:
    return widgets.embed_snippet(widget, request.host_url)


def widget_answer(widget: Widget) -> schema.Widget:
    return schema.Widget.model_validate(widget, context={"snippet": snippet})


def scoped_widget(widget_id: str) -> Widget:
    """The caller's live widget ``widget_id``, else 404 (deleted ones too)."""
    widget = db.session.scalar(scoped_select(Widget, caller()).where(
        Widget.public_id == widget_id, Widget.deleted_at.is_(None)))
    if widget is None:
        raise Problem(404)
    return widget


def _settings(body: schema.WidgetSettings) -> dict:
    """The settings ``body`` sends, by name, for services/widgets.py."""
    return body.model_dump(include=set(schema.WidgetSettings.model_fields),
                           exclude_unset=True)


def _new_widget(body: schema.WidgetCreate) -> dict:
    return {"account_id": body.account_id, "settings": _settings(body),
            "domains": body.domains}


def _check_new_widget(body: schema.WidgetCreate) -> None:
    widgets.check_new_widget(caller(), **_new_widget(body))


def _check_settings(widget_id: str, body: schema.WidgetUpdate) -> None:
    widgets.check_settings(caller(), scoped_widget(widget_id), _settings(body))


@blueprint.get("/widgets")
@operation("Widgets (not deleted)", query=schema.WidgetQuery, answer=schema.WidgetPage)
def list_widgets(query: schema.WidgetQuery):
    statement = scoped_select(Widget, caller()).where(Widget.deleted_at.is_(None))
    if query.account_id is not None:
        statement = statement.where(Widget.account_id == query.account_id)
    if query.paused is not None:
        statement = statement.where(Widget.paused.is_(query.paused == "true"))
    return paginated(query, statement.order_by(Widget.id), schema.WidgetPage,
                     context={"snippet": snippet})


@blueprint.post("/widgets")
@operation("Create a widget", body=schema.WidgetCreate, answer=schema.Widget, status=201,
           rules=_check_new_widget)
def create_widget(body: schema.WidgetCreate):
    return widget_answer(widgets.create_widget(caller(), **_new_widget(body)))


@blueprint.get(f"/widgets/{ID}")
@operation("One widget with its snippet", answer=schema.Widget, errors=(404,))
def get_widget(widget_id: PublicId):
    return widget_answer(scoped_widget(widget_id))


@blueprint.patch(f"/widgets/{ID}")
@operation("Change settings", body=schema.WidgetUpdate, answer=schema.Widget, errors=(404,),
           rules=_check_settings)
def update_widget(widget_id: PublicId, body: schema.WidgetUpdate):
    return widget_answer(widgets.update_widget(caller(), scoped_widget(widget_id),
                                               _settings(body)))


@blueprint.delete(f"/widgets/{ID}")
@operation("Delete (calls are kept; the snippet stops working)", status=204, errors=(404,))
def delete_widget(widget_id: PublicId):
    """Soft: the call history stays, the snippet and token stop working."""
    widgets.delete_widget(caller(), scoped_widget(widget_id))


@blueprint.post(f"/widgets/{ID}/rotate_token")
@operation("New embed token; the old snippet stops working", answer=schema.Widget,
           errors=(404,))
def rotate_token(widget_id: PublicId):
    """A new token: the old snippet stops working at once."""
    return widget_answer(widgets.rotate_token(caller(), scoped_widget(widget_id)))


@blueprint.get(f"/widgets/{ID}/domains")
@operation("The widget's domain whitelist", query=PageQuery, answer=schema.DomainPage,
           errors=(404,))
def list_domains(widget_id: PublicId, query: PageQuery):
    widget = scoped_widget(widget_id)
    statement = select(AllowedDomain).where(AllowedDomain.widget_id == widget.id)
    return paginated(query, statement.order_by(AllowedDomain.id), schema.DomainPage)


@blueprint.post(f"/widgets/{ID}/domains")
@operation("Whitelist a domain or *.wildcard", body=schema.DomainCreate, answer=schema.Domain,
           status=201, errors=(404, 409))
def add_domain(widget_id: PublicId, body: schema.DomainCreate):
    return schema.Domain.model_validate(
        domains.add_domain(caller(), scoped_widget(widget_id), body.pattern))


@blueprint.delete(f"/widgets/{ID}/domains/<int(max=2147483647):domain_id>")
@operation("Remove a whitelist entry", status=204, errors=(404,))
def remove_domain(widget_id: PublicId, domain_id: Id):
    domains.remove_domain(caller(), scoped_widget(widget_id), domain_id)
