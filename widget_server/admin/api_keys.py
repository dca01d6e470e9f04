"""Admin: API keys of the caller's subtree.

Everyone signed in may read the list (prefixes only); owners create and
revoke. A new key's plaintext is on the one page that answers its creation,
marked not to be cached, and nowhere afterwards.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length

from widget_server.admin.auth import CAN_ADMINISTER, check_role, current_account, posted_account
from widget_server.admin.views import ask_first, blueprint, select_options, show_refusal
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account, ApiKey
from widget_server.services.api_keys import create_api_key, revoke_api_key
from widget_server.services.errors import ServiceError
from widget_server.tenancy import get_scoped, scoped_select


class NewKeyForm(FlaskForm):
    # Any id may be posted: one outside the caller's subtree is a 404, not a form error.
    account_id = SelectField(_l("Account"), coerce=int, validate_choice=False,
                             description=_l("The key acts for this account and the accounts "
                                            "below it."))
    name = StringField(_l("Name"), validators=[Length(max=120)],
                       description=_l("What the key is for, e.g. the system that uses it."))


def _form() -> NewKeyForm:
    form = NewKeyForm()
    form.account_id.choices = select_options(
        (a.id, a.name) for a in db.session.scalars(scoped_select(Account, current_account())
                                                   .order_by(Account.name)))
    return form


def _page(form: NewKeyForm, new_key: str | None = None, status: int = 200):
    keys = db.session.scalars(scoped_select(ApiKey, current_account())
                              .order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))
    response = render_template("admin/accounts/api_keys.html", keys=list(keys), form=form,
                               new_key=new_key,
                               can_administer=current_user.role in CAN_ADMINISTER)
    return response, status, {"Cache-Control": "no-store"}


@blueprint.get("/api-keys")
@login_required
def api_keys():
    return _page(_form())


@blueprint.post("/api-keys")
@login_required
def api_key_create():
    posted_account()
    check_role(CAN_ADMINISTER)
    form = _form()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        _key, plaintext = create_api_key(current_user, account_id=form.account_id.data,
                                         name=form.name.data or "")
    except ServiceError as error:
        show_refusal(form, error)
        return _page(form, status=400)
    return _page(_form(), new_key=plaintext)


@blueprint.route("/api-keys/<int(max=2147483647):key_id>/revoke", methods=["GET", "POST"])
@login_required
def api_key_revoke(key_id: int):
    shown = get_scoped(ApiKey, key_id, current_account())
    check_role(CAN_ADMINISTER)
    page = ask_first(
        title=_("Revoke the key wsk_%(prefix)s_…?", prefix=shown.prefix),
        consequences=[_("Every program using it is refused from now on (401), at once."),
                      _("It cannot be used again: a program needs a new key.")],
        button=_("Revoke the key"), back=url_for("admin.api_keys"))
    if page:
        return page
    try:
        key = revoke_api_key(current_user, key_id=key_id)
    except ServiceError as error:  # only not found or forbidden: a revocation has no input
        abort(404 if error.kind == "not_found" else 403)
    flash(_("Key %(prefix)s revoked; programs using it are refused from now on.",
            prefix=key.prefix), "success")
    return redirect(url_for("admin.api_keys"))
