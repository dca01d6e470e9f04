"""Admin reports: the calls of the caller's subtree, one call's timeline, charts, CSV.

Every role may read reports (read-only included); nothing here changes
anything, so there is no form to protect with CSRF (the forms on a call's
page post elsewhere: "Block this number" to admin/blocked_numbers.py, "Call
now" and "Cancel" to admin/calls.py). Queries go through
``widget_server.reports`` (scoped to the subtree); a call of another tenant is
a 404. Provider exchanges are shown as stored: the adapters redact them
before they are stored, and provider account credentials are never read here.
Each step's reason is worded by calls/status.py, as the visitor reads it.

Times are shown in the zone ``formats.zone_for`` gives (the user's, else each
call's widget's: a call-back booked for 09:00 in Berlin reads 09:00), and the
page names it; the CSV has each call's zone in a column beside its local
times, and keeps the UTC columns. Per-day counts and the date filters are UTC
days, as the caps count, and say so.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from flask import Response, render_template, request
from flask_login import current_user, login_required
from flask_wtf.i18n import translations as wtforms_translations
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound
from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from widget_server.abuse.blocklist import is_blocked
from widget_server.admin.auth import CAN_MANAGE, current_account
from widget_server.admin.charts import day_chart, fill_days
from widget_server.admin.formats import in_zone, zone_for
from widget_server.admin.views import blueprint, page_number, select_options
from widget_server.call_states import CallState
from widget_server.calls.lead import CAMPAIGN_FIELDS, MAX_CAMPAIGN_VALUE_LENGTH
from widget_server.calls.redial import attempts_of
from widget_server.calls.status import reason_sentence
from widget_server.extensions import db
from widget_server.i18n import admin_gettext as _
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.i18n import translate
from widget_server.models import Account, CallEvent, CallRequest, Widget, utcnow
from widget_server.reports import (
    CAMPAIGN_FILTERS,
    FIRST_DAY,
    LAST_DAY,
    OUTCOMES,
    CallFilter,
    answer_rate,
    calls_per_day,
    calls_select,
    day_problem,
    outcome_of,
)
from widget_server.services.calls import call_now_refusal, is_booked
from widget_server.tenancy import scoped_select, subtree_ids

PAGE_SIZE = 50
# Each listed call shows its widget and the widget's account: loaded with it.
WITH_WIDGET = joinedload(CallRequest.widget).joinedload(Widget.account)
# What the provider may report of a call, and how the report names it.
REPORT_FIGURES = (("business_seconds", _l("Business leg (s)")),
                  ("visitor_seconds", _l("Visitor leg (s)")),
                  ("minutes", _l("Minutes")), ("credit", _l("Credit")))
CSV_COLUMNS = ("call_id", "created_at_utc", "scheduled_for_utc", "time_zone",
               "created_at_local", "scheduled_for_local", "widget", "account",
               "visitor_number", "country", "status", "reason", "outcome", "provider",
               "page_url", *CAMPAIGN_FIELDS,
               "business_seconds", "visitor_seconds", "minutes", "credit")


def in_report_range(_form, field) -> None:
    if day_problem(field.data):
        raise ValidationError(_("Use a date from %(first)s to %(last)s.",
                                first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))


# As stored (calls/lead.py): PostgreSQL refuses a NUL in a text parameter.
CAMPAIGN_VALUE = [Optional(), Length(max=MAX_CAMPAIGN_VALUE_LENGTH),
                  Regexp(r"^[^\x00-\x1f\x7f]*$", message=_l("Use printable characters only."))]


class CallFilterForm(Form):
    """The report filters, read from the query string (a GET form: no CSRF needed)."""

    class Meta:
        def get_translations(self, form):
            """WTForms' own messages ("Not a valid date value.") in the admin's language,
            as FlaskForm has them."""
            return wtforms_translations

    widget = SelectField(_l("Widget"), validators=[Optional()], validate_choice=True)
    date_from = DateField(_l("From (UTC)"), validators=[Optional(), in_report_range])
    date_to = DateField(_l("To (UTC, inclusive)"), validators=[Optional(), in_report_range])
    status = SelectField(_l("Status"),
                         choices=select_options([("", _l("Any status")),
                                                 *[(s, s) for s in CallState]]),
                         validators=[Optional()])
    country = StringField(_l("Visitor country"), validators=[
        Optional(), Regexp(r"^[A-Za-z]{2}$",
                           message=_l("Use a two-letter country code, like US."))])
    utm_source = StringField(_l("Campaign source"), validators=CAMPAIGN_VALUE)
    utm_medium = StringField(_l("Campaign medium"), validators=CAMPAIGN_VALUE)
    utm_campaign = StringField(_l("Campaign"), validators=CAMPAIGN_VALUE)
    client = SelectField(_l("Client"), validators=[Optional()], validate_choice=True)
    show = SelectField(_l("Attempts"), validators=[Optional()], choices=select_options([
        ("", _l("Every attempt")), ("requests", _l("Visitors' requests (first attempts)")),
        ("last", _l("Each request's last attempt")), ("booked", _l("Booked for later"))]))

    def criteria(self) -> CallFilter | None:
        """The filters, or None while a field has an error (shown next to it)."""
        if any(field.errors for field in self):
            return None
        # Optional() lets a blank (" ") through unchecked: it means any widget.
        widget = (self.widget.data or "").strip()
        client = (self.client.data or "").strip()
        campaign: dict = {name: (getattr(self, name).data or "").strip() or None
                          for name in CAMPAIGN_FILTERS}
        return CallFilter(widget_id=int(widget) if widget else None,
                          client_id=int(client) if client else None,
                          show=self.show.data or None,
                          date_from=self.date_from.data, date_to=self.date_to.data,
                          status=self.status.data or None,
                          country=(self.country.data or "").upper() or None,
                          **campaign)


def client_options(account) -> list:
    """The accounts a report may be narrowed to: the caller's own and each under it."""
    accounts = {a.id: a for a in db.session.scalars(select(Account).where(
        Account.id.in_(subtree_ids(account))))}

    def path(each: Account) -> str:  # reseller/client, from the caller's account down
        names = [each.name]
        while each.id != account.id and each.parent_id in accounts:
            each = accounts[each.parent_id]
            names.insert(0, each.name)
        return "/".join(names)

    named = sorted(((a.id, path(a)) for a in accounts.values()), key=lambda p: p[1].lower())
    return select_options([("", _l("Any client")), *[(str(i), path) for i, path in named]])


def _filters():
    account = current_account()
    form = CallFilterForm(request.args)
    widgets = db.session.scalars(scoped_select(Widget, account).order_by(Widget.name,
                                                                          Widget.id)).all()
    form.widget.choices = select_options(
        [("", _("Any widget")), *[(str(w.id), w.name) for w in widgets]])
    form.client.choices = client_options(account)
    form.validate()
    if form.date_from.data and form.date_to.data and form.date_to.data < form.date_from.data:
        form.date_to.errors = [*form.date_to.errors, _("The end date is before the start date.")]
    return account, form, form.criteria()


def source(call: CallRequest) -> str:
    """The Source column: the campaign as source / medium / campaign, or its ad click id."""
    campaign = call.campaign or {}
    named = " / ".join(campaign[name] for name in ("utm_source", "utm_medium", "utm_campaign")
                       if campaign.get(name))
    return named or ("gclid " + campaign["gclid"] if campaign.get("gclid") else "")


def _figures(call: CallRequest) -> dict[str, object]:
    """The durations and credit the provider reported, where it did (plain values only)."""
    report = call.provider_report or {}
    return {name: report[name] for name, _label in REPORT_FIGURES
            if isinstance(report.get(name), int | float | str) and report.get(name) != ""}


@blueprint.get("/reports/calls")
@login_required
def report_calls():
    account, form, criteria = _filters()
    if criteria is None:
        return render_template("admin/reports/calls.html", form=form, invalid=True), 400
    page = page_number()
    query = calls_select(account, criteria)
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    calls = db.session.scalars(query.options(WITH_WIDGET).limit(PAGE_SIZE)
                               .offset((page - 1) * PAGE_SIZE)).all()
    days = fill_days(calls_per_day(account, criteria))
    totals = dict.fromkeys(OUTCOMES, 0)
    for _day, counts in days:
        for outcome, n in counts.items():
            totals[outcome] += n
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/reports/calls.html", form=form, calls=calls, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), args=args, outcome_of=outcome_of,
        figures=_figures, source=source, days=days, chart=day_chart(days), totals=totals,
        rate=answer_rate(totals), day_rate=answer_rate, outcomes=OUTCOMES, zone_for=zone_for,
        user_zone=current_user.time_zone)


def business_answered(attempt: CallRequest) -> CallEvent | None:
    """The step at which the business answered this attempt, or None.

    Each attempt rings one business number, recorded on it (calls/redial.py: the
    next number, a redial). The business answered once the visitor's leg is
    rung (the adapters report ``leg: visitor``) or the call connected; a call
    that completed answered without either step reported counts at its end.
    """
    for event in attempt.events:
        if event.status == CallState.CONNECTED or (event.detail or {}).get("leg") == "visitor":
            return event
    if outcome_of(attempt.status, attempt.reason) == "answered":
        return attempt.events[-1] if attempt.events else None
    return None


@blueprint.get("/reports/calls/<public_id>")
@login_required
def report_call(public_id: str):
    call = db.session.scalar(calls_select(current_account(), CallFilter()).where(
        CallRequest.public_id == public_id))
    if call is None:
        raise NotFound()
    steps, exchanges = [], []
    for event in call.events:
        detail = event.detail or {}
        if "exchange" in detail:
            exchanges.append((event, json.dumps(detail["exchange"], indent=2, sort_keys=True,
                                                default=str)))
        else:
            # The visitor's sentence, from their catalogue, in the reader's language.
            sentence = reason_sentence(event.reason)
            steps.append((event, detail, translate(sentence) if sentence else None))
    attempts = attempts_of(call)
    answered = next((a for a in attempts if a.business_number
                     and business_answered(a) is not None), None)
    return render_template(
        "admin/reports/call.html", call=call, steps=steps, exchanges=exchanges,
        outcome=outcome_of(call.status, call.reason), figures=_figures(call),
        figure_labels=dict(REPORT_FIGURES), can_block=current_user.role in CAN_MANAGE,
        blocked=is_blocked(call.account_id, call.visitor_number), attempts=attempts,
        latest=attempts[-1], booked=is_booked(attempts[-1]), answered=answered,
        answered_event=business_answered(call),
        can_call_now=call_now_refusal(attempts, utcnow()) is None, zone=zone_for(call.widget))


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def unreadable_filters(form) -> Response:
    """The 400 a CSV export answers when its filters do not parse: each problem, in words."""
    problems = " ".join(str(e) for field in form for e in field.errors)
    return Response(_("These filters do not read: %(problems)s", problems=problems) + "\n",
                    status=400, mimetype="text/plain")


@blueprint.get("/reports/calls.csv")
@login_required
def report_calls_csv():
    account, form, criteria = _filters()
    if criteria is None:
        return unreadable_filters(form)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for call in db.session.scalars(calls_select(account, criteria).options(WITH_WIDGET)):
        figures = _figures(call)
        zone = zone_for(call.widget)
        writer.writerow([csv_cell(value) for value in (
            call.public_id, call.created_at.isoformat(timespec="seconds"),
            call.scheduled_for.isoformat(timespec="seconds") if call.scheduled_for else "",
            zone, in_zone(call.created_at, zone).isoformat(timespec="seconds"),
            in_zone(call.scheduled_for, zone).isoformat(timespec="seconds")
            if call.scheduled_for else "",
            call.widget.name, call.widget.account.name, call.visitor_number,
            call.visitor_country, call.status, call.reason or "",
            outcome_of(call.status, call.reason), call.provider_kind, call.page_url,
            *[(call.campaign or {}).get(name, "") for name in CAMPAIGN_FIELDS],
            *[figures.get(name, "") for name in CSV_COLUMNS[-4:]])])
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="calls-{stamp}.csv"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
