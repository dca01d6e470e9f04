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

from widget_server.call_states import CallState
from widget_server.extensions import db
from widget_server.models import Account, CallRequest
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
    """One account's calls since a moment: the total and the count per outcome."""

    account_id: int
    name: str
    kind: str
    parent_id: int | None
    total: int = 0
    by_outcome: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def answer_rate(self) -> float | None:
        return answer_rate(self.by_outcome)


def usage_by_account(account: Account, since: datetime) -> list[AccountUsage]:
    """Calls created at or after ``since`` (naive UTC), per account of ``account``'s subtree.

    Every account of the subtree is listed, ``account`` itself first and then
    by name, with zeros where it made no call, so a reseller sees all its
    clients. One grouped query for the counts.
    """
    ids = subtree_ids(account)
    accounts = db.session.scalars(select(Account).where(Account.id.in_(ids))).all()
    rows = {a.id: AccountUsage(a.id, a.name, a.kind, a.parent_id) for a in accounts}
    outcome = outcome_column()
    counts = db.session.execute(
        select(CallRequest.account_id, outcome, func.count())
        .where(CallRequest.account_id.in_(ids), CallRequest.created_at >= since)
        .group_by(CallRequest.account_id, outcome))
    for account_id, group, n in counts:
        rows[account_id].by_outcome[group] += n
        rows[account_id].total += n
    return sorted(rows.values(), key=lambda u: (u.account_id != account.id, u.name.lower()))


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


def calls_select(account: Account, filters: CallFilter):
    """A select of ``account``'s subtree's calls matching ``filters``, newest first."""
    query = select(CallRequest).where(CallRequest.account_id.in_(subtree_ids(account)))
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
