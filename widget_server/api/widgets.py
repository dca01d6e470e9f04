"""Widgets and their domain whitelists; each answer carries the embed snippet."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy import select

from widget_server.abuse.caps import cap_above_ceiling
from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation, paginated
from widget_server.api.problems import CONFLICT, Problem, invalid
from widget_server.api.providers import widget_options_problem
from widget_server.api.schemas import widgets as schema
from widget_server.api.schemas.common import Id, PageQuery, PublicId
from widget_server.extensions import db
from widget_server.models import Account, AllowedDomain, ProviderAccount, Widget, utcnow
from widget_server.security.tokens import embed_token
from widget_server.tenancy import scoped_select

ID = "<widget_id>"


def snippet(widget: Widget) -> str:
    base = (current_app.config["PUBLIC_URL"] or request.host_url).rstrip("/")
    return (f'<script async src="{base}/embed/v1/loader.js" '
            f'data-widget="{embed_token(widget)}"></script>')


def widget_answer(widget: Widget) -> schema.Widget:
    return schema.Widget.model_validate(widget, context={"snippet": snippet})


def scoped_widget(widget_id: str) -> Widget:
    """The caller's live widget ``widget_id``, else 404 (deleted ones too)."""
    widget = db.session.scalar(scoped_select(Widget, caller()).where(
        Widget.public_id == widget_id, Widget.deleted_at.is_(None)))
    if widget is None:
        raise Problem(404)
    return widget


def _provider_account(errors: dict, provider_id: int, owner: Account):
    """A provider account of the widget's account or one above it, within the caller's."""
    lineage, account = [], owner
    while account is not None:
        lineage.append(account.id)
        account = account.parent
    found = db.session.scalar(scoped_select(ProviderAccount, caller()).where(
        ProviderAccount.id == provider_id, ProviderAccount.account_id.in_(lineage)))
    if found is None:
        errors["provider_account_id"] = "There is no such provider account for this widget."
    return found


def read_settings(body: schema.WidgetSettings, owner: Account, errors: dict) -> dict:
    """The settings ``body`` sends, as the widget's attributes; errors collect in ``errors``."""
    values = body.model_dump(include=schema.WidgetSettings.model_fields.keys(),
                             exclude_unset=True)
    for name in ("cap_per_ip", "cap_per_number"):
        problem = name in values and cap_above_ceiling(name, values[name])
        if problem:
            errors[name] = problem
    if "provider_account_id" in values:
        provider_id = values.pop("provider_account_id")
        values["provider_account"] = (None if provider_id is None
                                      else _provider_account(errors, provider_id, owner))
    return values


def _check_provider_options(errors: dict, widget: Widget) -> None:
    """The widget's provider options must be ones its provider declares."""
    if widget.provider_options:
        problem = widget_options_problem(widget.provider_account, widget.provider_options)
        if problem:
            errors.setdefault("provider_options", problem)


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
@operation("Create a widget", body=schema.WidgetCreate, answer=schema.Widget, status=201)
def create_widget(body: schema.WidgetCreate):
    errors: dict[str, str] = {}
    owner = caller()
    if "account_id" in body.model_fields_set:
        owner = db.session.scalar(scoped_select(Account, caller()).where(
            Account.id == body.account_id))
        if owner is None:
            errors["account_id"] = "There is no such account under yours."
            owner = caller()
    widget = Widget(account_id=owner.id, **read_settings(body, owner, errors))
    widget.domains = [AllowedDomain(pattern=p) for p in sorted(set(body.domains))]
    _check_provider_options(errors, widget)
    if errors:
        raise invalid(errors)
    db.session.add(widget)
    db.session.commit()
    return widget_answer(widget)


@blueprint.get(f"/widgets/{ID}")
@operation("One widget with its snippet", answer=schema.Widget, errors=(404,))
def get_widget(widget_id: PublicId):
    return widget_answer(scoped_widget(widget_id))


@blueprint.patch(f"/widgets/{ID}")
@operation("Change settings", body=schema.WidgetUpdate, answer=schema.Widget, errors=(404,))
def update_widget(widget_id: PublicId, body: schema.WidgetUpdate):
    widget = scoped_widget(widget_id)
    errors: dict[str, str] = {}
    settings = read_settings(body, widget.account, errors)
    if errors:
        raise invalid(errors)
    with db.session.no_autoflush:
        for name, value in settings.items():
            setattr(widget, name, value)
        _check_provider_options(errors, widget)
    if errors:
        db.session.rollback()
        raise invalid(errors)
    db.session.commit()
    return widget_answer(widget)


@blueprint.delete(f"/widgets/{ID}")
@operation("Delete (calls are kept; the snippet stops working)", status=204, errors=(404,))
def delete_widget(widget_id: PublicId):
    """Soft: the call history stays, the snippet and token stop working."""
    widget = scoped_widget(widget_id)
    widget.deleted_at = utcnow()
    db.session.commit()


@blueprint.post(f"/widgets/{ID}/rotate_token")
@operation("New embed token; the old snippet stops working", answer=schema.Widget,
           errors=(404,))
def rotate_token(widget_id: PublicId):
    """A new token: the old snippet stops working at once."""
    widget = scoped_widget(widget_id)
    widget.token_version += 1
    db.session.commit()
    return widget_answer(widget)


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
    widget = scoped_widget(widget_id)
    if any(d.pattern == body.pattern for d in widget.domains):
        raise Problem(409, f"{body.pattern} is on this widget's whitelist already.",
                      type_=CONFLICT)
    domain = AllowedDomain(widget_id=widget.id, pattern=body.pattern)
    db.session.add(domain)
    db.session.commit()
    return schema.Domain.model_validate(domain)


@blueprint.delete(f"/widgets/{ID}/domains/<int(max=2147483647):domain_id>")
@operation("Remove a whitelist entry", status=204, errors=(404,))
def remove_domain(widget_id: PublicId, domain_id: Id):
    widget = scoped_widget(widget_id)
    domain = db.session.scalar(select(AllowedDomain).where(
        AllowedDomain.widget_id == widget.id, AllowedDomain.id == domain_id))
    if domain is None:
        raise Problem(404)
    db.session.delete(domain)
    db.session.commit()
