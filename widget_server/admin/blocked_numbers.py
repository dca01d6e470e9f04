"""Admin: an account's block list, the numbers its widgets refuse to call back.

Same roles as widgets (admin/widgets.py): everyone signed in reads the lists of
their subtree; owners and members (``CAN_MANAGE``) add and remove numbers,
also from a call's page in the reports ("Block this number", for the call's
account); read-only users get 403. An account or call outside the subtree is
a 404 for every role, so it is looked up before the role is checked.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound
from wtforms import StringField
from wtforms.validators import Length

from widget_server.abuse.blocklist import blocked_select
from widget_server.admin.auth import CAN_MANAGE, check_role, current_account
from widget_server.admin.views import (
    ask_first,
    blueprint,
    page_number,
    refusal_sentence,
    show_refusal,
)
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account, BlockedNumber, CallRequest, Widget
from widget_server.reports import CallFilter, calls_select
from widget_server.services.blocked_numbers import block_number, unblock
from widget_server.services.errors import ServiceError
from widget_server.tenancy import get_scoped

PAGE_SIZE = 100
ACCOUNT = "<int(max=2147483647):account_id>"


class BlockNumberForm(FlaskForm):
    number = StringField(_l("Phone number"), validators=[Length(max=64)],
                         description=_l("Any country's number, such as +44 20 7946 0018, or a "
                                        "national one such as (202) 555-0123 with its "
                                        "country."))
    country = StringField(_l("Country"), validators=[Length(max=2)],
                          description=_l("Two-letter code such as US or GB, for a number "
                                         "written without its +country prefix."))


def _home_country(account: Account) -> str:
    """The country a national number is read in by default: the account's first widget's."""
    country = db.session.scalar(select(Widget.home_country).where(
        Widget.account_id == account.id, Widget.deleted_at.is_(None)).order_by(Widget.id)
        .limit(1))
    return country or "US"


def _page(account: Account, form: BlockNumberForm | None = None, status: int = 200):
    if form is None:
        form = BlockNumberForm(country=_home_country(account))
    page = page_number()
    total = db.session.execute(select(func.count()).select_from(BlockedNumber).where(
        BlockedNumber.account_id == account.id)).scalar_one()
    entries = db.session.scalars(blocked_select(account.id).limit(PAGE_SIZE)
                                 .offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "admin/accounts/blocked_numbers.html", account=account, entries=entries, form=form,
        total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
        can_manage=current_user.role in CAN_MANAGE), status


@blueprint.get(f"/accounts/{ACCOUNT}/blocked-numbers")
@login_required
def blocked_numbers(account_id: int):
    return _page(get_scoped(Account, account_id, current_account()))


@blueprint.post(f"/accounts/{ACCOUNT}/blocked-numbers")
@login_required
def blocked_number_add(account_id: int):
    account = get_scoped(Account, account_id, current_account())
    check_role(CAN_MANAGE)
    form = BlockNumberForm()
    if not form.validate_on_submit():
        return _page(account, form, status=400)
    try:
        entry, added = block_number(current_user, account.id, form.number.data,
                                    form.country.data or None)
    except ServiceError as error:
        show_refusal(form, error)
        return _page(account, form, status=400)
    e164 = entry.e164
    if added:
        flash(_("%(number)s blocked: %(account)s's widgets refuse to call it back.",
                number=e164, account=account.name), "success")
    else:
        flash(_("%(number)s is on %(account)s's block list already; nothing changed.",
                number=e164, account=account.name), "success")
    return redirect(url_for("admin.blocked_numbers", account_id=account.id))


@blueprint.route(f"/accounts/{ACCOUNT}/blocked-numbers/<int(max=2147483647):entry_id>/delete",
                 methods=["GET", "POST"])
@login_required
def blocked_number_remove(account_id: int, entry_id: int):
    account = get_scoped(Account, account_id, current_account())
    entry = db.session.scalar(select(BlockedNumber).where(BlockedNumber.id == entry_id,
                                                          BlockedNumber.account_id == account.id))
    if entry is None:
        abort(404)
    check_role(CAN_MANAGE)
    page = ask_first(
        title=_("Remove %(number)s from the block list?", number=entry.e164),
        consequences=[_("The widgets of %(account)s may call %(number)s back again.",
                        account=account.name, number=entry.e164)],
        button=_("Remove %(number)s", number=entry.e164), style="secondary",
        back=url_for("admin.blocked_numbers", account_id=account.id))
    if page:
        return page
    try:
        entry = unblock(current_user, account.id, entry_id=entry_id)
    except ServiceError as error:  # only not found or forbidden: the entry is named by id
        abort(404 if error.kind == "not_found" else 403)
    flash(_("%(number)s removed from %(account)s's block list: its widgets may call it "
            "back again.", number=entry.e164, account=account.name), "success")
    return redirect(url_for("admin.blocked_numbers", account_id=account.id))


@blueprint.post("/reports/calls/<public_id>/block")
@login_required
def report_call_block(public_id: str):
    """Block a call's visitor number for the call's account (after a harassment call)."""
    call = db.session.scalar(calls_select(current_account(), CallFilter()).where(
        CallRequest.public_id == public_id))
    if call is None:
        raise NotFound()
    check_role(CAN_MANAGE)
    account = db.session.get_one(Account, call.account_id)
    try:
        entry, added = block_number(current_user, account.id, call.visitor_number)
    except ServiceError as error:
        flash(_("%(number)s could not be blocked: %(reason)s", number=call.visitor_number,
                reason=refusal_sentence(error)), "error")
    else:
        e164 = entry.e164
        flash(_("%(number)s blocked: %(account)s's widgets refuse to call it back.",
                number=e164, account=account.name) if added else
              _("%(number)s is on %(account)s's block list already.", number=e164,
                account=account.name), "success")
    return redirect(url_for("admin.report_call", public_id=call.public_id))
