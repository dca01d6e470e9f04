"""What a widget's recipients are mailed: the call events they chose, and a daily digest.

``notify`` is a subscriber of calls/events.py: for each event a widget's
owner chose (``Widget.notify_events``), it adds one mail per recipient in
the publisher's transaction and queues them once that commits. Mails are
rendered from templates/mail/ in the widget's language; they carry the
visitor's number as a ``tel:`` link, the page the request came from and a
link to the call in the admin (``PUBLIC_URL``, or the brand's host name), never a
credential; and the brand of the widget's account (services/brands.py): its
product name and support address sign each mail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from widget_server.calls.events import PublishedEvent
from widget_server.calls.redial import will_try_again
from widget_server.extensions import db
from widget_server.i18n import DEFAULT_LANGUAGE, N_, supported, translate
from widget_server.mail.outbox import add_mail, queue_mail, send_later
from widget_server.models import CallRequest, Widget
from widget_server.services.brands import Branding, brand_for_account

# A call that ended with one of these reached nobody who answered: "missed", not "failed".
MISSED_REASONS = frozenset({"business_not_reached", "business_offline", "no_answer",
                            "visitor_not_reached", "ring_timeout"})
_SUBJECTS = {
    "requested": N_("New call request from %(number)s"),
    "scheduled": N_("Call-back booked for %(number)s"),
    "missed": N_("Missed call from %(number)s"),
    "failed": N_("Call to %(number)s failed"),
}
_INTROS = {
    "requested": N_("A visitor asked %(widget)s to call them back."),
    "scheduled": N_("A visitor booked a call-back with %(widget)s."),
    "missed": N_("A call from %(widget)s reached nobody: the business or the visitor did "
                 "not answer."),
    "failed": N_("A call from %(widget)s could not be completed."),
}


def event_kind(event: PublishedEvent) -> str | None:
    """The notification an event is, if any."""
    if event.type == "call.requested":
        return "requested"
    if event.type == "call.scheduled":
        return "scheduled"
    if event.type in ("call.failed", "call.completed") and event.reason in MISSED_REASONS:
        return "missed"
    if event.type in ("call.failed", "call.rejected"):
        return "failed"
    return None


def _language(widget: Widget) -> str:
    return (supported(widget.language) or DEFAULT_LANGUAGE).replace("-", "_")


# Signs every mail, after the brand's product name (services/brands.py).
SUPPORT = N_("Questions? Write to %(address)s.")


def brand_signature(brand: Branding) -> str:
    """The line that signs a mail: the brand's name, and its support address if it has one."""
    if brand.support_email:
        return f"{brand.product_name} · {translate(SUPPORT, address=brand.support_email)}"
    return brand.product_name


def admin_link(path: str, brand: Branding) -> str | None:
    """``path`` of the admin where ``brand``'s people use it: its host name, else
    ``PUBLIC_URL``; None when neither says where."""
    return brand.admin_url(path)


def _local(moment: datetime | None, widget: Widget) -> str | None:
    if moment is None:
        return None
    zone = ZoneInfo(widget.time_zone or "UTC")
    return f"{moment.replace(tzinfo=UTC).astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def render_call_mail(call: CallRequest, kind: str) -> tuple[str, str, str]:
    """(subject, text, html) of the ``kind`` mail about ``call``, in the widget's language."""
    widget = call.widget
    brand = brand_for_account(widget.account)
    context = {
        "kind": kind, "call": call, "widget": widget, "brand": brand,
        # The page the request came from: its URL when the call keeps one, else its origin.
        "page": call.page_url or call.page_origin,
        "booked_for": _local(call.scheduled_for, widget),
        "call_link": admin_link(f"/admin/reports/calls/{call.public_id}", brand),
        "intro": _INTROS[kind],
    }
    with force_locale(_language(widget)):
        subject = translate(_SUBJECTS[kind], number=call.visitor_number)
        return (subject, render_template("mail/call.txt", **context),
                render_template("mail/call.html", **context))


def notify(call: CallRequest, events: list[PublishedEvent]) -> Callable[[], None] | None:
    """Mails for the events the call's widget chose; sent once the publication commits."""
    widget = call.widget
    if not widget.notify_emails:
        return None
    ids: list[int] = []
    for kind in dict.fromkeys(filter(None, map(event_kind, events))):
        if kind not in (widget.notify_events or []):
            continue
        if kind == "missed" and any(will_try_again(call, event.reason) for event in events
                                    if event_kind(event) == "missed"):
            continue  # mailed once the business's last number or redial misses too
        subject, text, html = render_call_mail(call, kind)
        ids.extend(row.id for row in add_mail(
            widget.notify_emails, subject, text, html, account_id=widget.account_id,
            widget_id=widget.id, call_id=call.id, kind=kind))
    return (lambda: send_later(ids)) if ids else None


def local_yesterday(widget: Widget, now: datetime) -> date:
    """The widget's last whole day in its own time zone, ``now`` being aware UTC."""
    return (now.astimezone(ZoneInfo(widget.time_zone or "UTC")) - timedelta(days=1)).date()


def _day_bounds(widget: Widget, day: date) -> tuple[datetime, datetime]:
    """The UTC (naive, as stored) start and end of ``day`` in the widget's time zone."""
    zone = ZoneInfo(widget.time_zone or "UTC")
    start = datetime.combine(day, time(), zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end.replace(tzinfo=None)


def send_digests(now: datetime | None = None) -> int:
    """Each digest widget's mail of its last whole day, once per widget and day; how many.

    The day's mail is one row per recipient with a key of the widget and the
    day, so running again (every hour, after a crash) adds none.
    """
    now = now or datetime.now(UTC)
    widgets = db.session.scalars(select(Widget).where(Widget.deleted_at.is_(None))).all()
    sent = 0
    for widget in widgets:
        if "digest" not in (widget.notify_events or []) or not widget.notify_emails:
            continue
        day = local_yesterday(widget, now)
        start, end = _day_bounds(widget, day)
        calls = db.session.scalars(
            select(CallRequest).where(CallRequest.widget_id == widget.id,
                                      CallRequest.created_at >= start,
                                      CallRequest.created_at < end)
            .order_by(CallRequest.created_at)).all()
        subject, text, html = render_digest(widget, day, calls)
        rows = queue_mail(widget.notify_emails, subject, text, html,
                          account_id=widget.account_id, widget_id=widget.id, kind="digest",
                          dedupe_key=f"digest:{widget.id}:{day.isoformat()}")
        sent += bool(rows)
    return sent


def render_digest(widget: Widget, day: date, calls: Sequence[CallRequest]) -> tuple[str, str, str]:
    """(subject, text, html) of ``widget``'s digest of ``day``, in its language."""
    counts = dict.fromkeys(("requested", "completed", "missed", "failed", "scheduled"), 0)
    brand = brand_for_account(widget.account)
    rows = []
    for call in calls:
        counts["requested"] += 1
        outcome: str | None
        if call.reason in MISSED_REASONS:
            outcome = "missed"
        elif call.status == "completed":
            outcome = "completed"
        elif call.status in ("failed", "rejected"):
            outcome = "failed"
        else:
            outcome = "scheduled" if call.scheduled_for else None
        if outcome:
            counts[outcome] += 1
        rows.append((call, _local(call.created_at, widget), outcome,
                     admin_link(f"/admin/reports/calls/{call.public_id}", brand)))
    context = {"widget": widget, "day": day.isoformat(), "counts": counts, "rows": rows,
               "brand": brand, "report_link": admin_link("/admin/reports/calls", brand)}
    with force_locale(_language(widget)):
        subject = translate(N_("Calls to %(widget)s on %(day)s"), widget=widget.name,
                            day=day.isoformat())
        return (subject, render_template("mail/digest.txt", **context),
                render_template("mail/digest.html", **context))
