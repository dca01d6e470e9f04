"""Trying again when the business missed a call: its next number, a redial, a call-back.

Each attempt at a visitor's request is a call row of its own that points at
the request (``redial_of_id``), so every attempt keeps its own provider id,
events and report. When an attempt ends because the business did not answer,
``follow_up`` (a subscriber of the call's events, calls/events.py, so it acts
once per ending) adds the next attempt:

1. the widget's next business number, at once, while the list has one;
2. else, with redials on (``Widget.redial_attempts``), the first number again
   ``redial_interval_minutes`` later, inside opening hours, up to N times;
3. once those are used up, a call-back at the next opening slot when the
   widget offers call-backs (once per request).

These follow-ups are the installation's own, not new requests: they count
against no cap (the visitor's phone rings only once the business answered).
"Call now" in the admin and the API is a person's request and does count
(services/calls.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from widget_server.call_states import CallState
from widget_server.calls.events import PublishedEvent
from widget_server.calls.hours import callback_slots, next_opening
from widget_server.calls.queue import QUEUE_ERRORS, enqueue_call, enqueue_publish
from widget_server.extensions import db
from widget_server.models import CallEvent, CallRequest, Widget, utcnow

# How a call ends when the business's phone was not answered (c2c-php, dialogtech, simulator).
BUSINESS_MISSED = frozenset({"business_not_reached", "business_no_answer"})


@dataclass(frozen=True)
class NextAttempt:
    reason: str  # next_number, redial or callback
    business_number: str
    scheduled_for: datetime | None  # naive UTC; None: at once


def attempts_of(call: CallRequest) -> list[CallRequest]:
    """Every attempt at ``call``'s request, the request first."""
    root_id = call.redial_of_id or call.id
    return list(db.session.scalars(
        select(CallRequest).where(or_(CallRequest.id == root_id,
                                      CallRequest.redial_of_id == root_id))
        .order_by(CallRequest.attempt, CallRequest.id)))


def _naive(moment: datetime) -> datetime:
    """An aware time as the database stores it: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def next_attempt(widget: Widget, tried: list[CallRequest], now: datetime) -> NextAttempt | None:
    """What to try after the last of ``tried`` missed the business at ``now`` (naive UTC)."""
    numbers = list(widget.business_numbers or [])
    if not numbers:
        return None
    rung = tried[-1].business_number or numbers[0]
    position = numbers.index(rung) if rung in numbers else len(numbers) - 1
    if position + 1 < len(numbers):
        return NextAttempt("next_number", numbers[position + 1], None)
    if not widget.redial_attempts or any(a.attempt_reason == "callback" for a in tried):
        return None
    if sum(a.attempt_reason == "redial" for a in tried) < widget.redial_attempts:
        due = next_opening(widget, now + timedelta(minutes=widget.redial_interval_minutes))
        if due is not None:
            return NextAttempt("redial", numbers[0], _naive(due))
    if widget.outside_hours == "callback":
        slots = callback_slots(widget, now, limit=1)
        if slots:
            return NextAttempt("callback", numbers[0], _naive(slots[0]))
    return None


def add_attempt(call: CallRequest, reason: str, business_number: str,
                scheduled_for: datetime | None, tried: list[CallRequest]) -> CallRequest:
    """A new queued attempt at ``call``'s request, flushed in the caller's transaction.

    ``reason`` (next_number, redial, callback, call_now) is also its first event's:
    what names that event (calls/events.py) and what the visitor reads.
    """
    root = tried[0]
    attempt = CallRequest(
        widget_id=root.widget_id, account_id=root.account_id,
        visitor_number=root.visitor_number, visitor_country=root.visitor_country,
        client_ip=root.client_ip, page_origin=root.page_origin, page_url=root.page_url,
        campaign=dict(root.campaign or {}),
        provider_kind=call.widget.provider_account.kind if call.widget.provider_account
        else "simulator",
        request_id=root.request_id, status=CallState.QUEUED, reason=reason,
        scheduled_for=scheduled_for, redial_of_id=root.id,
        attempt=max(a.attempt for a in tried) + 1, attempt_reason=reason,
        business_number=business_number)
    attempt.events = [CallEvent(
        status=CallState.QUEUED, reason=reason,
        detail={"scheduled_for": scheduled_for.isoformat() + "Z"} if scheduled_for else {})]
    db.session.add(attempt)
    db.session.flush()
    return attempt


def queue_attempt(call_id: int, scheduled_for: datetime | None) -> None:
    """Queue a stored attempt; a queue that cannot take it leaves it to the recovery task."""
    try:
        enqueue_call(call_id, eta=scheduled_for)
    except QUEUE_ERRORS:
        current_app.logger.warning("call %s: queueing left to recovery", call_id)
        return
    if scheduled_for is not None:  # a call placed now is published by its placing task
        enqueue_publish(call_id)


def will_try_again(call: CallRequest, reason: str | None) -> bool:
    """Whether an attempt that ended for ``reason`` is (or was already) followed by another."""
    widget = call.widget
    if reason not in BUSINESS_MISSED or widget.paused or widget.deleted_at is not None:
        return False
    tried = attempts_of(call)
    return tried[-1].id != call.id or next_attempt(widget, tried, utcnow()) is not None


def follow_up(call: CallRequest, events: list[PublishedEvent]) -> Callable[[], None] | None:
    """The next attempt when ``call`` just missed the business, queued once committed."""
    if not any(e.state == CallState.FAILED and e.reason in BUSINESS_MISSED for e in events):
        return None
    widget = call.widget
    if widget.paused or widget.deleted_at is not None:
        return None
    tried = attempts_of(call)
    if tried[-1].id != call.id:  # someone already tried again ("Call now")
        return None
    plan = next_attempt(widget, tried, utcnow())
    if plan is None:
        return None
    attempt = add_attempt(call, plan.reason, plan.business_number, plan.scheduled_for, tried)
    attempt_id = attempt.id
    return lambda: queue_attempt(attempt_id, plan.scheduled_for)
