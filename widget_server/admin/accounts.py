"""Admin: the account tree, allowances, limits, suspension, deletion and usage per account.

Everyone signed in may read their subtree (a reseller sees its clients, a
client only itself). Only owners create accounts, set allowances and limits,
rename, suspend and delete them, and only accounts below their own: these are
the parent's decisions, so nobody makes them for their own account (there is
no form for one's own account, and a post to it is refused with 403).
Suspending and deleting ask first (``ask_first``), saying what will happen.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from widget_server.admin.auth import CAN_ADMINISTER, check_role, current_account, posted_account
from widget_server.admin.views import (
    account_label,
    ask_first,
    blueprint,
    refusal_sentence,
    select_options,
    show_refusal,
)
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import admin_ngettext as ngettext
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account, CallRequest, utcnow
from widget_server.services.accounts import (
    MAX_WIDGETS_TOP,
    Deletion,
    create_account,
    delete_account,
    deletion_of,
    live_widget_count,
    set_allowance,
    set_suspended,
    update_account,
)
from widget_server.services.errors import ServiceError
from widget_server.tenancy import get_scoped, scoped_select

ALLOWANCE_HINT = _l("Calls, counting those of every account under this one. Empty means the "
                    "installation's default, allowed only when the account above has no "
                    "limit of its own.")


class AllowanceForm(FlaskForm):
    daily_call_cap = IntegerField(_l("Daily allowance"),
                                  validators=[Optional(), NumberRange(min=0)],
                                  description=ALLOWANCE_HINT)
    monthly_call_cap = IntegerField(_l("Monthly allowance"),
                                    validators=[Optional(), NumberRange(min=0)],
                                    description=ALLOWANCE_HINT)


class NewAccountForm(AllowanceForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    # Any id may be posted: one outside the caller's subtree is a 404, not a form error.
    parent_id = SelectField(_l("Under"), coerce=int, validate_choice=False)
    kind = SelectField(_l("Kind"), choices=select_options([("client", _l("Client")),
                                                          ("reseller", _l("Reseller"))]))


class AccountSettingsForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    may_add_providers = BooleanField(
        _l("May add provider accounts of its own"),
        description=_l("Otherwise its widgets call through the provider accounts above it."))
    max_widgets = IntegerField(
        _l("Most widgets it may have"),
        validators=[Optional(), NumberRange(min=0, max=MAX_WIDGETS_TOP)],
        description=_l("Empty means no limit."))


def _usage(account_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Calls requested today and this month (UTC, as the caps count) per account."""
    now = utcnow()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    rows = db.session.execute(
        select(CallRequest.account_id,
               func.count().filter(CallRequest.created_at >= day_start),
               func.count())
        .where(CallRequest.account_id.in_(account_ids), CallRequest.created_at >= month_start)
        .group_by(CallRequest.account_id))
    return {account_id: (today, month) for account_id, today, month in rows}


def _parents_for(caller: Account) -> list[Account]:
    """Accounts the caller may create clients under: itself and resellers below it."""
    if caller.kind == "client":
        return []
    return list(db.session.scalars(scoped_select(Account, caller)
                                   .where(Account.kind.in_(("operator", "reseller")))
                                   .order_by(Account.name)))


@blueprint.get("/accounts")
@login_required
def accounts():
    caller = current_account()
    tree = list(db.session.scalars(scoped_select(Account, caller).order_by(Account.name)))
    tree.sort(key=lambda a: a.id != caller.id)
    return render_template("admin/accounts/list.html", accounts=tree, caller=caller,
                           usage=_usage([a.id for a in tree]),
                           can_administer=current_user.role in CAN_ADMINISTER,
                           can_create=bool(_parents_for(caller)),
                           month=utcnow())


@blueprint.route("/accounts/new", methods=["GET", "POST"])
@login_required
def account_new():
    caller = current_account()
    posted_account()
    check_role(CAN_ADMINISTER)
    parents = _parents_for(caller)
    if not parents:
        abort(403)
    form = NewAccountForm()
    form.parent_id.choices = select_options((p.id, account_label(p)) for p in parents)
    if caller.kind != "operator":
        form.kind.choices = select_options([("client", _("Client"))])
    if form.validate_on_submit():
        try:
            created = create_account(current_user, name=form.name.data or "",
                                     parent_id=form.parent_id.data, kind=form.kind.data,
                                     daily=form.daily_call_cap.data,
                                     monthly=form.monthly_call_cap.data)
        except ServiceError as error:
            show_refusal(form, error)
        else:
            parent = created.parent
            assert parent is not None, "create_account puts each account under another"
            flash(_("Account %(name)s created under %(parent)s.", name=created.name,
                    parent=parent.name), "success")
            return redirect(url_for("admin.accounts"))
    return render_template("admin/accounts/new.html", form=form)


@blueprint.route("/accounts/<int(max=2147483647):account_id>/allowance",
                 methods=["GET", "POST"])
@login_required
def account_allowance(account_id: int):
    account = get_scoped(Account, account_id, current_account())
    if account.id == current_account().id:
        abort(403)
    check_role(CAN_ADMINISTER)
    form = AllowanceForm(obj=account)
    if form.validate_on_submit():
        try:
            set_allowance(current_user, account.id, form.daily_call_cap.data,
                          form.monthly_call_cap.data)
        except ServiceError as error:
            show_refusal(form, error)
        else:
            flash(_("Allowance of %(name)s saved.", name=account.name), "success")
            return redirect(url_for("admin.accounts"))
    return render_template("admin/accounts/allowance.html", form=form, account=account)


def _child(account_id: int) -> Account:
    """A live account below the caller's, for an owner to decide for: else 404 or 403."""
    account = get_scoped(Account, account_id, current_account())
    if account.id == current_account().id:
        abort(403)
    check_role(CAN_ADMINISTER)
    return account


@blueprint.route("/accounts/<int(max=2147483647):account_id>", methods=["GET", "POST"])
@login_required
def account_settings(account_id: int):
    """Rename the account, and decide its provider accounts and widget limit."""
    account = _child(account_id)
    form = AccountSettingsForm(obj=account)
    if form.validate_on_submit():
        try:
            update_account(current_user, account.id, name=form.name.data or "",
                           may_add_providers=bool(form.may_add_providers.data),
                           max_widgets=form.max_widgets.data)
        except ServiceError as error:
            db.session.rollback()
            show_refusal(form, error)
        else:
            flash(_("Settings of %(name)s saved.", name=account.name), "success")
            return redirect(url_for("admin.account_settings", account_id=account.id))
    return render_template("admin/accounts/settings.html", form=form, account=account,
                           widgets=live_widget_count(account))


@blueprint.route("/accounts/<int(max=2147483647):account_id>/suspend", methods=["GET", "POST"])
@login_required
def account_suspend(account_id: int):
    account = _child(account_id)
    back = url_for("admin.account_settings", account_id=account.id)
    page = ask_first(
        title=_("Suspend %(name)s?", name=account.name),
        consequences=[
            _("Every widget of %(name)s, and of the accounts under it, stops answering: "
              "visitors read that call-backs are not available on the site.", name=account.name),
            _("Nobody of %(name)s can sign in, and its API keys are refused.",
              name=account.name),
            _("Nothing is deleted: lifting the suspension restores everything as it was."),
        ],
        button=_("Suspend %(name)s", name=account.name), back=back)
    if page:
        return page
    try:
        set_suspended(current_user, account.id, True)
    except ServiceError as error:
        abort(404 if error.kind == "not_found" else 403)
    flash(_("%(name)s is suspended: its widgets no longer answer.", name=account.name),
          "success")
    return redirect(back)


@blueprint.post("/accounts/<int(max=2147483647):account_id>/unsuspend")
@login_required
def account_unsuspend(account_id: int):
    account = _child(account_id)
    try:
        set_suspended(current_user, account.id, False)
    except ServiceError as error:
        abort(404 if error.kind == "not_found" else 403)
    flash(_("%(name)s is no longer suspended: its widgets answer again.", name=account.name),
          "success")
    return redirect(url_for("admin.account_settings", account_id=account.id))


def _what_goes(deletion: Deletion) -> list[str]:
    """The confirmation's sentences: each thing that goes, counted."""
    name = deletion.account.name
    return [
        ngettext("%(num)d widget: its snippet stops working and its domains are removed.",
                 "%(num)d widgets: their snippets stop working and their domains are removed.",
                 deletion.widgets),
        ngettext("%(num)d user, who can no longer sign in.",
                 "%(num)d users, who can no longer sign in.", deletion.users),
        ngettext("%(num)d provider account, with its credentials.",
                 "%(num)d provider accounts, with their credentials.",
                 deletion.provider_accounts),
        ngettext("%(num)d API key, revoked.", "%(num)d API keys, revoked.", deletion.api_keys),
        ngettext("%(num)d webhook endpoint.", "%(num)d webhook endpoints.", deletion.webhooks),
        ngettext("%(num)d blocked number.", "%(num)d blocked numbers.",
                 deletion.blocked_numbers),
        _("The calls of %(name)s stay in the reports and the usage, so past months can "
          "still be invoiced; its name becomes free for a new account.", name=name),
    ]


@blueprint.route("/accounts/<int(max=2147483647):account_id>/delete", methods=["GET", "POST"])
@login_required
def account_delete(account_id: int):
    account = _child(account_id)
    back = url_for("admin.account_settings", account_id=account.id)
    try:
        deletion = deletion_of(current_user, account.id)
    except ServiceError as error:
        abort(404 if error.kind == "not_found" else 403)
    refusal = None
    if deletion.children:
        refusal = ngettext("%(name)s has %(num)d account under it: delete it first.",
                           "%(name)s has %(num)d accounts under it: delete them first.",
                           deletion.children, name=account.name)
    page = ask_first(title=_("Delete %(name)s?", name=account.name),
                     consequences=_what_goes(deletion),
                     button=_("Delete %(name)s and all of this", name=account.name),
                     back=back, refusal=refusal)
    if page:
        return page
    try:
        delete_account(current_user, account.id)
    except ServiceError as error:
        if error.kind in ("not_found", "forbidden"):
            abort(404 if error.kind == "not_found" else 403)
        flash(refusal_sentence(error), "error")
        return redirect(back)
    flash(_("%(name)s deleted; its calls stay in the reports.", name=account.name), "success")
    return redirect(url_for("admin.accounts"))
