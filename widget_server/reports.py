"""Call reports shared by the admin and the management API (no Flask here).

Every function takes the caller's ``Account`` and counts only calls of its
subtree (``tenancy.subtree_ids``), so both front ends get the same figures and
the same isolation. Times are naive UTC, as stored.

Outcomes group a call's ``status``/``reason`` into what a site owner asks:
- ``answered``: completed with a known outcome;
- ``unknown``: completed, but the provider cannot tell whether anyone answered
  (reason ``outcome_unknown...``);
- ``failed``: placed but not connected;
- ``rejected``: refused before any phone rang (credentials, options, provider);
- ``pending``: not finished yet (queued, scheduled, dialing, ringing, connected).

The answer rate is answered / (answered + unknown + failed): calls that were
actually tried and ended; rejected and pending calls are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from widget_server.abuse.refusals import REASONS
from widget_server.call_states import CallState
from widget_server.extensions import db
from widget_server.models import Account, CallRequest, RefusalCount, Widget
from widget_server.tenancy import subtree_ids

CAMPAIGN_FILTERS = ("utm_source", "utm_medium", "utm_campaign")
OUTCOMES = ("answered", "unknown", "failed", "rejected", "pending")
# Report days the filters take: no call predates the product, and the last day
# leaves room for the day after it (date.max + 1 day is an OverflowError).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
DAY_RANGE = f"Use a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."


def day_problem(day: date | datetime | None) -> str | None:
    """Why a report filter's day cannot be used (a sentence), or None."""
    if day is None:
        return None
    day = day.date() if isinstance(day, datetime) else day
    return None if FIRST_DAY <= day <= LAST_DAY else DAY_RANGE


def outcome_of(status: str, reason: str | None) -> str:
    """The outcome group of one call (see the module docstring)."""
    if status == CallState.COMPLETED:
        return "unknown" if (reason or "").startswith("outcome_unknown") else "answered"
    if status in (CallState.FAILED, CallState.REJECTED):
        return status
    return "pending"


def outcome_column(status=CallRequest.status, reason=CallRequest.reason):
    """``outcome_of`` as a SQL expression, so the database does the grouping."""
    return case(
        (and_(status == CallState.COMPLETED,
              func.coalesce(reason, "").like("outcome_unknown%")), "unknown"),
        (status == CallState.COMPLETED, "answered"),
        (status == CallState.FAILED, "failed"),
        (status == CallState.REJECTED, "rejected"),
        else_="pending",
    )


def answer_rate(counts: dict[str, int]) -> float | None:
    """answered / (answered + unknown + failed), or None when no call ended that way."""
    tried = counts.get("answered", 0) + counts.get("unknown", 0) + counts.get("failed", 0)
    return counts.get("answered", 0) / tried if tried else None


@dataclass
class AccountUsage:
    """One account's requests in a period (see ``usage_by_account``).

    ``total``, ``by_outcome`` and ``answered_seconds`` are the account's own
    widgets' requests; ``subtree_*`` add those of every account under it, so a
    reseller's row counts its clients' requests too (a client's are its own).
    """

    account_id: int
    name: str
    kind: str
    parent_id: int | None
    total: int = 0
    by_outcome: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    # Of answered requests whose provider reported a duration: the talk time summed.
    answered_seconds: int = 0
    timed: int = 0
    subtree_total: int = 0
    subtree_by_outcome: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    subtree_answered_seconds: int = 0
    subtree_timed: int = 0

    @property
    def answer_rate(self) -> float | None:
        return answer_rate(self.by_outcome)

    @property
    def answered_minutes(self) -> float:
        return round(self.answered_seconds / 60, 1)

    @property
    def subtree_answered_minutes(self) -> float:
        return round(self.subtree_answered_seconds / 60, 1)


def talk_seconds(report: dict | None) -> int | None:
    """The answered call's duration as its provider reported it, in seconds, or None.

    The visitor's leg is the conversation (c2c-php reports ``visitor_seconds``);
    CalledIn reports whole ``minutes``; other providers report no duration.
    """
    report = report or {}
    for name, factor in (("visitor_seconds", 1), ("minutes", 60)):
        value = report.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return int(value * factor)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip()) * factor
    return None


def _final_attempts(ids: list[int], since: datetime, until: datetime | None):
    """(lead, final attempt) pairs of the requests made in [since, until) by ``ids``.

    A request tried again (calls/redial.py: next number, redial, call-back, call
    now) is one lead with the outcome of its last attempt; the attempts are not
    counted as requests of their own. A request's attempts come after it, so
    those before ``since`` cannot belong to it.
    """
    lead_of = func.coalesce(CallRequest.redial_of_id, CallRequest.id)
    last = (select(lead_of.label("lead_id"), func.max(CallRequest.attempt).label("attempt"))
            .where(CallRequest.account_id.in_(ids), CallRequest.created_at >= since)
            .group_by(lead_of).subquery())
    lead, final = aliased(CallRequest), aliased(CallRequest)
    query = (select(lead, final)
             .join(last, last.c.lead_id == lead.id)
             .join(final, and_(func.coalesce(final.redial_of_id, final.id) == last.c.lead_id,
                               final.attempt == last.c.attempt))
             .where(lead.account_id.in_(ids), lead.redial_of_id.is_(None),
                    lead.created_at >= since))
    if until is not None:
        query = query.where(lead.created_at < until)
    return lead, final, query


def usage_by_account(account: Account, since: datetime,
                     until: datetime | None = None) -> list[AccountUsage]:
    """Visitors' requests made in [since, until) (naive UTC), per account of the subtree.

    Each request counts once, with its final attempt's outcome (``_final_attempts``).
    Answered minutes add up the durations the providers reported of every
    answered attempt of those requests (``talk_seconds``); ``timed`` says of how
    many answered requests a duration was reported. Every account of the
    subtree is listed, ``account`` itself first and then by name, with zeros
    where it had no request, so a reseller sees all its clients.
    """
    ids = subtree_ids(account)
    accounts = db.session.scalars(select(Account).where(Account.id.in_(ids))).all()
    rows = {a.id: AccountUsage(a.id, a.name, a.kind, a.parent_id) for a in accounts}
    lead, final, pairs = _final_attempts(ids, since, until)
    outcome = outcome_column(final.status, final.reason)
    pairs = pairs.with_only_columns(lead.account_id, outcome, func.count())
    for account_id, group, n in db.session.execute(pairs.group_by(lead.account_id, outcome)):
        rows[account_id].by_outcome[group] += n
        rows[account_id].total += n
    # Durations: of every answered attempt (a "call now" after an answered call rings
    # again and is billed again), read from the provider's report in Python, as its
    # figures are JSON of varying shape.
    attempt = aliased(CallRequest)
    lead_ids = pairs.with_only_columns(lead.id).order_by(None)
    timed: set[int] = set()
    for account_id, lead_id, report in db.session.execute(
            select(attempt.account_id, func.coalesce(attempt.redial_of_id, attempt.id),
                   attempt.provider_report)
            .where(attempt.account_id.in_(ids), attempt.created_at >= since,
                   func.coalesce(attempt.redial_of_id, attempt.id).in_(lead_ids),
                   outcome_column(attempt.status, attempt.reason) == "answered",
                   attempt.provider_report.is_not(None))):
        seconds = talk_seconds(report)
        if seconds is not None:
            rows[account_id].answered_seconds += seconds
            if lead_id not in timed:
                timed.add(lead_id)
                rows[account_id].timed += 1
    for row in rows.values():
        holder: AccountUsage | None = row
        while holder is not None:  # up to the caller's own row, not beyond
            holder.subtree_total += row.total
            for group, n in row.by_outcome.items():
                holder.subtree_by_outcome[group] += n
            holder.subtree_answered_seconds += row.answered_seconds
            holder.subtree_timed += row.timed
            holder = (rows.get(holder.parent_id) if holder.parent_id is not None
                      and holder.account_id != account.id else None)
    return sorted(rows.values(), key=lambda u: (u.account_id != account.id, u.name.lower()))


def month_bounds(month: str, now: datetime) -> tuple[datetime, datetime]:
    """The first moment of ``month`` (YYYY-MM) and of the month after, naive UTC.

    Raises ValueError with the sentence to show when ``month`` does not read as a
    month or is not closed yet (the current month or a later one): an invoice is
    for a month that is over.
    """
    try:
        if len(month) != 7 or month[4] != "-":
            raise ValueError
        start = datetime(int(month[:4]), int(month[5:]), 1)
    except ValueError:
        raise ValueError("Use a month such as 2026-01 (year, dash, two-digit month).") from None
    end = (start + timedelta(days=32)).replace(day=1)
    if start.date() < FIRST_DAY:
        raise ValueError(f"Use a month from {FIRST_DAY:%Y-%m} on.")
    if end > now:
        raise ValueError(f"{month} is not over yet; usage is for a closed month, "
                         f"{last_closed_month(now)} at the latest.")
    return start, end


def last_closed_month(now: datetime) -> str:
    """YYYY-MM of the month before ``now``'s."""
    return f"{now.replace(day=1) - timedelta(days=1):%Y-%m}"


@dataclass
class CallFilter:
    """The report filters; None means "any". ``date_to`` is inclusive (whole day)."""

    widget_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    country: str | None = None
    # Campaign parameters the call's host page carried (calls/lead.py), matched exactly.
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    # An account of the subtree: its calls and those of the accounts under it.
    client_id: int | None = None
    # Which attempts (calls/redial.py): every one (None), the visitors' "requests"
    # (first attempts), each request's "last" attempt, or those "booked" for later.
    show: str | None = None


SHOW_CHOICES = ("requests", "last", "booked")


def calls_select(account: Account, filters: CallFilter):
    """A select of ``account``'s subtree's calls matching ``filters``, newest first."""
    query = select(CallRequest).where(CallRequest.account_id.in_(
        client_ids(account, filters.client_id)))
    if filters.show == "requests":
        query = query.where(CallRequest.redial_of_id.is_(None))
    elif filters.show == "last":
        later = aliased(CallRequest)
        query = query.where(~select(later.id).where(
            later.redial_of_id == func.coalesce(CallRequest.redial_of_id, CallRequest.id),
            later.attempt > CallRequest.attempt).exists())
    elif filters.show == "booked":
        query = query.where(CallRequest.status == CallState.QUEUED,
                            CallRequest.scheduled_for.is_not(None))
    if filters.widget_id is not None:
        query = query.where(CallRequest.widget_id == filters.widget_id)
    if filters.date_from is not None:
        query = query.where(CallRequest.created_at >= datetime.combine(
            filters.date_from, datetime.min.time()))
    if filters.date_to is not None:
        query = query.where(CallRequest.created_at < datetime.combine(
            filters.date_to, datetime.min.time()) + timedelta(days=1))
    if filters.status:
        query = query.where(CallRequest.status == filters.status)
    if filters.country:
        query = query.where(CallRequest.visitor_country == filters.country.upper())
    for name in CAMPAIGN_FILTERS:
        if value := getattr(filters, name):
            query = query.where(CallRequest.campaign[name].as_string() == value)
    return query.order_by(CallRequest.created_at.desc(), CallRequest.id.desc())


def calls_per_day(account: Account, filters: CallFilter) -> list[tuple[date, dict[str, int]]]:
    """Per day (UTC) with a call, the count per outcome, oldest first."""
    matching = calls_select(account, filters).order_by(None).subquery()
    outcome = outcome_column(matching.c.status, matching.c.reason)
    day = func.date(matching.c.created_at)
    days: dict[date, dict[str, int]] = {}
    for value, group, n in db.session.execute(
            select(day, outcome, func.count()).group_by(day, outcome)):
        key = value if isinstance(value, date) else date.fromisoformat(str(value))
        days.setdefault(key, dict.fromkeys(OUTCOMES, 0))[group] += n
    return sorted(days.items())


@dataclass
class RefusalFilter:
    """Filters of the refusal counts; None means "any". Days are UTC, both included."""

    widget_id: int | None = None
    client_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def client_ids(account: Account, client_id: int | None) -> list[int]:
    """The accounts a "client" filter means: the client and its subtree, if it is in
    ``account``'s subtree (else none); without a filter, ``account``'s whole subtree."""
    ids = subtree_ids(account)
    if client_id is None:
        return ids
    client = db.session.get(Account, client_id) if client_id in ids else None
    return subtree_ids(client) if client is not None else []


def refusals_select(account: Account, filters: RefusalFilter):
    """The refusal counts (one row per widget, day and reason) of the subtree's widgets,
    newest day first."""
    query = (select(RefusalCount).join(Widget, Widget.id == RefusalCount.widget_id)
             .where(Widget.account_id.in_(client_ids(account, filters.client_id))))
    if filters.widget_id is not None:
        query = query.where(RefusalCount.widget_id == filters.widget_id)
    if filters.date_from is not None:
        query = query.where(RefusalCount.day >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(RefusalCount.day <= filters.date_to)
    return query.order_by(RefusalCount.day.desc(), Widget.name, Widget.id, RefusalCount.reason)


def refusal_totals(account: Account, filters: RefusalFilter) -> dict[str, int]:
    """The refusals per reason over ``filters``, in ``REASONS`` order, reasons seen only."""
    matching = refusals_select(account, filters).order_by(None).subquery()
    counts: dict[str, int] = dict(db.session.execute(
        select(matching.c.reason, func.sum(matching.c.count)).group_by(matching.c.reason)).all())
    return {reason: int(counts[reason]) for reason in REASONS if counts.get(reason)}


MISSED_WINDOW_DAYS = 7
TOP_WIDGETS = 5


@dataclass
class Dashboard:
    """The dashboard's figures for an account's subtree, each the count of a report's filter.

    ``month``: from the first of this month (UTC); ``missed_since``: the start of
    the day ``MISSED_WINDOW_DAYS`` ago. Requests are the visitors' (first
    attempts); missed ones are requests whose last attempt failed, with no call
    now, redial or call-back after it; booked ones are attempts booked for later.
    """

    today: date
    month: date
    missed_since: date
    requests_today: int
    requests_month: int
    answer_rate: float | None
    missed_waiting: int
    booked: int
    refusals: dict[str, int]
    top_widgets: list[tuple[Widget, int]]

    def filters(self, figure: str) -> dict[str, str]:
        """The calls report's query string behind ``figure``."""
        return {
            "requests_today": {"show": "requests", "date_from": self.today.isoformat()},
            "requests_month": {"show": "requests", "date_from": self.month.isoformat()},
            "missed_waiting": {"show": "last", "status": CallState.FAILED,
                               "date_from": self.missed_since.isoformat()},
            "booked": {"show": "booked"},
        }[figure]


def _count(query) -> int:
    return db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()


def dashboard(account: Account, now: datetime) -> Dashboard:
    """The figures of ``account``'s subtree at ``now`` (naive UTC)."""
    today = now.date()
    month = today.replace(day=1)
    missed_since = today - timedelta(days=MISSED_WINDOW_DAYS)
    month_start = datetime.combine(month, datetime.min.time())
    own = next(row for row in usage_by_account(account, month_start)
               if row.account_id == account.id)
    requests = calls_select(account, CallFilter(show="requests", date_from=month)).order_by(None)
    per_widget = requests.with_only_columns(CallRequest.widget_id, func.count()).group_by(
        CallRequest.widget_id).order_by(func.count().desc(), CallRequest.widget_id).limit(
        TOP_WIDGETS)
    top = [(db.session.get_one(Widget, widget_id), n)
           for widget_id, n in db.session.execute(per_widget)]
    return Dashboard(
        today=today, month=month, missed_since=missed_since,
        requests_today=_count(calls_select(account, CallFilter(show="requests",
                                                               date_from=today))),
        requests_month=own.subtree_total,
        answer_rate=answer_rate(own.subtree_by_outcome),
        missed_waiting=_count(calls_select(account, CallFilter(
            show="last", status=CallState.FAILED, date_from=missed_since))),
        booked=_count(calls_select(account, CallFilter(show="booked"))),
        refusals=refusal_totals(account, RefusalFilter(date_from=month)),
        top_widgets=top)
