"""Admin: an account's block list, the numbers its widgets refuse to call back.

Same roles as widgets (admin/widgets.py): everyone signed in reads the lists of
their subtree; owners and members (``CAN_MANAGE``) add and remove numbers,
also from a call's page in the reports ("Block this number", for the call's
account); read-only users get 403. An account or call outside the subtree is
a 404 for every role, so it is looked up before the role is checked.
"""

from __future__ import annotations

import phonenumbers
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound
from wtforms import StringField
from wtforms.validators import Length, ValidationError

from widget_server.abuse.blocklist import (
    BlockedNumberError,
    block,
    blocked_select,
    normalise_blocked_number,
)
from widget_server.admin.auth import CAN_MANAGE, check_role, current_account
from widget_server.admin.views import blueprint, page_number
from widget_server.extensions import db
from widget_server.models import Account, BlockedNumber, CallRequest, Widget
from widget_server.reports import CallFilter, calls_select
from widget_server.tenancy import get_scoped

PAGE_SIZE = 100
ACCOUNT = "<int(max=2147483647):account_id>"


class BlockNumberForm(FlaskForm):
    number = StringField("Phone number", validators=[Length(max=64)],
                         description="Any country's number, such as +44 20 7946 0018, or a "
                                     "national one such as (202) 555-0123 with its country.")
    country = StringField("Country", validators=[Length(max=2)],
                          description="Two-letter code such as US or GB, for a number written "
                                      "without its +country prefix.")

    def validate_country(self, field):
        field.data = (field.data or "").strip().upper()
        if field.data and field.data not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(f"{field.data!r} is not a country code such as US or GB.")

    def validate_number(self, field):
        country = (self.country.data or "").strip().upper()
        if country and country not in phonenumbers.SUPPORTED_REGIONS:
            return  # said next to the country
        try:
            field.normalised = normalise_blocked_number(field.data, country or None)
        except BlockedNumberError as error:
            raise ValidationError(str(error)) from None


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
    total = db.session.scalar(select(func.count()).select_from(BlockedNumber).where(
        BlockedNumber.account_id == account.id))
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
    e164 = form.number.normalised
    _entry, added = block(account.id, e164)
    db.session.commit()
    if added:
        flash(f"{e164} blocked: {account.name}'s widgets refuse to call it back.", "success")
    else:
        flash(f"{e164} is on {account.name}'s block list already; nothing changed.", "success")
    return redirect(url_for("admin.blocked_numbers", account_id=account.id))


@blueprint.post(f"/accounts/{ACCOUNT}/blocked-numbers/<int(max=2147483647):entry_id>/delete")
@login_required
def blocked_number_remove(account_id: int, entry_id: int):
    account = get_scoped(Account, account_id, current_account())
    entry = db.session.scalar(select(BlockedNumber).where(
        BlockedNumber.id == entry_id, BlockedNumber.account_id == account.id))
    if entry is None:
        abort(404)
    check_role(CAN_MANAGE)
    db.session.delete(entry)
    db.session.commit()
    flash(f"{entry.e164} removed from {account.name}'s block list: its widgets may call it "
          "back again.", "success")
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
    account = db.session.get(Account, call.account_id)
    try:
        e164 = normalise_blocked_number(call.visitor_number)
    except BlockedNumberError as error:
        flash(f"{call.visitor_number} could not be blocked: {error}", "error")
    else:
        _entry, added = block(account.id, e164)
        db.session.commit()
        flash(f"{e164} blocked: {account.name}'s widgets refuse to call it back."
              if added else f"{e164} is on {account.name}'s block list already.", "success")
    return redirect(url_for("admin.report_call", public_id=call.public_id))
