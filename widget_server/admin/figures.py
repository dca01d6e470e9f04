"""Admin figures: refused requests per widget and day, and usage per client for invoicing.

Read-only pages, open to every role, scoped to the caller's subtree through
``widget_server.reports`` like the call reports (admin/reports.py). Both have
a CSV of exactly what the page shows. Days and months are UTC, as the caps
and the call reports count them.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Response, abort, render_template, request
from flask_login import login_required
from wtforms import DateField, Form, SelectField
from wtforms.validators import Optional

from widget_server.admin.auth import current_account
from widget_server.admin.refusal_reasons import REASON_LABELS
from widget_server.admin.reports import (
    client_options,
    csv_cell,
    in_report_range,
    unreadable_filters,
)
from widget_server.admin.views import blueprint, page_number, select_options
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Widget
from widget_server.reports import (
    OUTCOMES,
    RefusalFilter,
    last_closed_month,
    month_bounds,
    refusal_totals,
    refusals_select,
    usage_by_account,
)
from widget_server.tenancy import scoped_select

PAGE_SIZE = 100
USAGE_COLUMNS = ("account_id", "account", "kind", "parent_id", "requests", *OUTCOMES,
                 "answered_minutes", "answered_with_duration", "subtree_requests",
                 *[f"subtree_{outcome}" for outcome in OUTCOMES], "subtree_answered_minutes")


class RefusalFilterForm(Form):
    """The refusal report's filters, from the query string (a GET form: no CSRF needed)."""

    widget = SelectField(_l("Widget"), validators=[Optional()], validate_choice=True)
    client = SelectField(_l("Client"), validators=[Optional()], validate_choice=True)
    date_from = DateField(_l("From (UTC)"), validators=[Optional(), in_report_range])
    date_to = DateField(_l("To (UTC, inclusive)"), validators=[Optional(), in_report_range])


def _refusal_filters():
    account = current_account()
    form = RefusalFilterForm(request.args)
    widgets = db.session.scalars(scoped_select(Widget, account).order_by(Widget.name,
                                                                          Widget.id)).all()
    form.widget.choices = select_options(
        [("", _("Any widget")), *[(str(w.id), w.name) for w in widgets]])
    form.client.choices = client_options(account)
    if not form.validate():
        return account, form, None
    widget, client = (form.widget.data or "").strip(), (form.client.data or "").strip()
    return account, form, RefusalFilter(
        widget_id=int(widget) if widget else None, client_id=int(client) if client else None,
        date_from=form.date_from.data, date_to=form.date_to.data)


def _attachment(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@blueprint.get("/reports/refusals")
@login_required
def report_refusals():
    account, form, criteria = _refusal_filters()
    if criteria is None:
        return render_template("admin/reports/refusals.html", form=form, invalid=True), 400
    page = page_number()
    query = refusals_select(account, criteria)
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/reports/refusals.html", form=form, rows=rows, page=page,
        more=len(rows) == PAGE_SIZE, args=args, totals=refusal_totals(account, criteria),
        labels=REASON_LABELS)


@blueprint.get("/reports/refusals.csv")
@login_required
def report_refusals_csv():
    account, form, criteria = _refusal_filters()
    if criteria is None:
        return unreadable_filters(form)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("day_utc", "widget_id", "widget", "account", "reason", "count"))
    for row in db.session.scalars(refusals_select(account, criteria)):
        writer.writerow([csv_cell(value) for value in (
            row.day.isoformat(), row.widget.public_id, row.widget.name,
            row.widget.account.name, row.reason, row.count)])
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return _attachment(out.getvalue(), f"refusals-{stamp}.csv")


def _month(now: datetime) -> str | None:
    """``?month=`` (YYYY-MM, a closed month), None when absent; a bad one is a 400."""
    month = request.args.get("month", "").strip()
    if not month:
        return None
    try:
        month_bounds(month, now)
    except ValueError as problem:
        abort(400, description=str(problem))
    return month


@blueprint.get("/reports/usage")
@login_required
def report_usage():
    """This month so far and today, or with ``?month=`` a closed month for invoicing."""
    account = current_account()
    now = datetime.now(UTC).replace(tzinfo=None)
    month = _month(now)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if month is None:
        start, end = day_start.replace(day=1), None
        today = {row.account_id: row for row in usage_by_account(account, day_start)}
    else:
        start, end = month_bounds(month, now)
        today = None
    rows = usage_by_account(account, start, end)
    return render_template("admin/reports/usage.html", rows=rows, today=today,
                           month=month, month_start=start.date(),
                           latest_closed=last_closed_month(now), outcomes=OUTCOMES,
                           total=next(row for row in rows if row.account_id == account.id))


@blueprint.get("/reports/usage.csv")
@login_required
def report_usage_csv():
    """A closed month's usage, a row per account and a total row (the caller's subtree)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    month = _month(now)
    if month is None:
        abort(400, description=_("Choose a closed month, such as %(month)s.",
                                 month=last_closed_month(now)))
    account = current_account()
    rows = usage_by_account(account, *month_bounds(month, now))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(USAGE_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(value) for value in (
            row.account_id, row.name, row.kind, row.parent_id or "", row.total,
            *[row.by_outcome[o] for o in OUTCOMES], row.answered_minutes, row.timed,
            row.subtree_total, *[row.subtree_by_outcome[o] for o in OUTCOMES],
            row.subtree_answered_minutes)])
    own = next(row for row in rows if row.account_id == account.id)
    writer.writerow([csv_cell(value) for value in (
        "", "total", "", "", own.subtree_total, *[own.subtree_by_outcome[o] for o in OUTCOMES],
        own.subtree_answered_minutes, own.subtree_timed, own.subtree_total,
        *[own.subtree_by_outcome[o] for o in OUTCOMES], own.subtree_answered_minutes)])
    return _attachment(out.getvalue(), f"usage-{month}.csv")
