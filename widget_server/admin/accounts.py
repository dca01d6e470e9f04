"""Admin: the account tree, allowances and usage per account.

Everyone signed in may read their subtree (a reseller sees its clients, a
client only itself). Only owners create accounts and set allowances, and only
for accounts below their own: an account's allowance is its parent's
decision, so nobody can raise their own caps (there is no form for one's own
account, and a post to it is refused with 403).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from widget_server.admin.auth import CAN_ADMINISTER, check_role, current_account, posted_account
from widget_server.admin.views import account_label, blueprint, select_options, show_refusal
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account, CallRequest, utcnow
from widget_server.services.accounts import create_account, set_allowance
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
