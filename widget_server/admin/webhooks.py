"""Admin: webhook endpoints of the caller's subtree, their deliveries and test events.

Everyone signed in reads the endpoints and their delivery logs; owners
create, enable or disable, test, rotate and delete (services/webhooks.py
says why owners only). A new or rotated secret is on the one page that
answers the request, marked not to be cached, and nowhere afterwards.
Deleting and rotating ask for a ticked confirmation (the admin runs no
inline script for a dialog).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from widget_server.admin.auth import CAN_ADMINISTER, check_role, current_account, posted_account
from widget_server.admin.views import (
    ask_first,
    blueprint,
    page_number,
    refusal_sentence,
    select_options,
    show_refusal,
)
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account, WebhookDelivery, WebhookEndpoint
from widget_server.services import webhooks
from widget_server.services.errors import ServiceError
from widget_server.tenancy import scoped_select
from widget_server.webhooks import EVENT_TYPES

PAGE_SIZE = 50
ID = "<int(max=2147483647):endpoint_id>"
NO_STORE = {"Cache-Control": "no-store"}


class NewEndpointForm(FlaskForm):
    # Any id may be posted: one outside the caller's subtree is a 404, not a form error.
    account_id = SelectField(_l("Account"), coerce=int, validate_choice=False,
                             description=_l("The endpoint receives this account's calls only."))
    url = StringField(_l("URL"), validators=[Length(max=500)],
                      description=_l("https:// on a public host; each event is POSTed here, "
                                     "signed by Standard Webhooks."))
    events = SelectMultipleField(
        _l("Events"), choices=select_options((name, name) for name in EVENT_TYPES),
        default=list(EVENT_TYPES), widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput())


def _form() -> NewEndpointForm:
    form = NewEndpointForm()
    form.account_id.choices = select_options(
        (a.id, a.name) for a in db.session.scalars(scoped_select(Account, current_account())
                                                   .order_by(Account.name)))
    return form


def _list(form: NewEndpointForm, new: tuple[WebhookEndpoint, str] | None = None,
          status: int = 200):
    endpoints = db.session.scalars(webhooks.endpoints_select(current_user)).all()
    return render_template("admin/webhooks/list.html", endpoints=endpoints, form=form,
                           new=new, can_administer=current_user.role in CAN_ADMINISTER
                           ), status, NO_STORE


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    try:
        return webhooks.visible_endpoint(current_user, endpoint_id)
    except ServiceError:
        abort(404)


def _detail(endpoint: WebhookEndpoint, new_secret: str | None = None):
    page = page_number()
    total = db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id)) or 0
    deliveries = db.session.scalars(webhooks.deliveries_select(endpoint).limit(PAGE_SIZE)
                                    .offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "admin/webhooks/detail.html", endpoint=endpoint, deliveries=deliveries,
        new_secret=new_secret, page=page, pages=max(1, -(-total // PAGE_SIZE)),
        can_administer=current_user.role in CAN_ADMINISTER), 200, NO_STORE


def _act(action, *args):
    """Run a service action for the signed-in owner; its 404 and 403 as such."""
    try:
        return action(current_user, *args)
    except ServiceError as error:
        if error.kind in ("not_found", "forbidden"):
            abort(404 if error.kind == "not_found" else 403)
        flash(refusal_sentence(error), "error")
        return None


@blueprint.get("/webhooks")
@login_required
def webhooks_page():
    return _list(_form())


@blueprint.post("/webhooks")
@login_required
def webhook_create():
    posted_account()
    check_role(CAN_ADMINISTER)
    form = _form()
    if not form.validate_on_submit():
        return _list(form, status=400)
    try:
        new = webhooks.create_endpoint(current_user, form.account_id.data,
                                       form.url.data or "", form.events.data or [])
    except (ServiceError, ExceptionGroup) as error:
        show_refusal(form, error)
        return _list(form, status=400)
    return _list(_form(), new=new)


@blueprint.get(f"/webhooks/{ID}")
@login_required
def webhook_detail(endpoint_id: int):
    return _detail(_endpoint(endpoint_id))


@blueprint.post(f"/webhooks/{ID}/test")
@login_required
def webhook_test(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    if _act(webhooks.send_test_event, endpoint) is not None:
        flash(_("Test event queued: its delivery is listed below."), "success")
    return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint.id))


@blueprint.post(f"/webhooks/{ID}/enabled")
@login_required
def webhook_enabled(endpoint_id: int):
    """Enable the endpoint again (disabling asks first: ``webhook_disable``)."""
    endpoint = _endpoint(endpoint_id)
    enable = request.form.get("enabled") == "yes"
    if _act(lambda actor, e: webhooks.update_endpoint(actor, e, enabled=enable),
            endpoint) is not None:
        flash(_("Endpoint enabled: new events are sent to it.") if enable
              else _("Endpoint disabled: nothing more is sent to it."), "success")
    return redirect(url_for("admin.webhook_detail", endpoint_id=endpoint.id))


@blueprint.route(f"/webhooks/{ID}/disable", methods=["GET", "POST"])
@login_required
def webhook_disable(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    check_role(CAN_ADMINISTER)
    back = url_for("admin.webhook_detail", endpoint_id=endpoint.id)
    page = ask_first(
        title=_("Disable the endpoint %(url)s?", url=endpoint.url),
        consequences=[_("No event is sent to it from now on, and events in between are not "
                        "sent later."),
                      _("Its settings, secret and delivery log stay; enable it again here.")],
        button=_("Disable the endpoint"), style="secondary", back=back)
    if page:
        return page
    if _act(lambda actor, e: webhooks.update_endpoint(actor, e, enabled=False),
            endpoint) is not None:
        flash(_("Endpoint disabled: nothing more is sent to it."), "success")
    return redirect(back)


@blueprint.route(f"/webhooks/{ID}/rotate", methods=["GET", "POST"])
@login_required
def webhook_rotate(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    check_role(CAN_ADMINISTER)
    page = ask_first(
        title=_("Replace the signing secret of %(url)s?", url=endpoint.url),
        consequences=[_("The current secret stops signing at once: the receiver refuses "
                        "our events until it uses the new one."),
                      _("The new secret is shown once, on the next page.")],
        button=_("Replace the secret"), style="secondary",
        back=url_for("admin.webhook_detail", endpoint_id=endpoint.id))
    if page:
        return page
    return _detail(endpoint, new_secret=_act(webhooks.rotate_secret, endpoint))


@blueprint.route(f"/webhooks/{ID}/delete", methods=["GET", "POST"])
@login_required
def webhook_delete(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    check_role(CAN_ADMINISTER)
    page = ask_first(
        title=_("Delete the endpoint %(url)s?", url=endpoint.url),
        consequences=[_("No event is sent to it any more."),
                      _("Its delivery log is deleted with it; this cannot be undone.")],
        button=_("Delete the endpoint"),
        back=url_for("admin.webhook_detail", endpoint_id=endpoint.id))
    if page:
        return page
    url = endpoint.url
    _act(webhooks.delete_endpoint, endpoint)
    flash(_("Endpoint %(url)s deleted with its delivery log.", url=url), "success")
    return redirect(url_for("admin.webhooks_page"))
