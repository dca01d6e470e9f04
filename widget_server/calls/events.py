"""What happened to a call, told in order and once to whoever listens (mail, webhooks).

Every state change of a call is a ``CallEvent`` row, written in the
transaction that changed the state (calls/service.py, calls/placing.py,
calls/recovery.py). That table is the outbox: ``publish_call_events`` names
the rows of one call not yet published (``call.requested``, ``call.dialing``
...), and hands them, oldest first, to the app's subscribers in one
transaction that also moves the call's cursor (``published_event_id``) with
an UPDATE guarded on the cursor it read. Of two publishers at once only one
fans an event out; a publisher that crashed before its commit left the
cursor where it was, and the next one (or the periodic sweep) publishes again.

A subscriber is a function ``(call, events) -> after_commit | None``: it
only writes its own rows (a webhook delivery, a mail to send) in the
publisher's transaction, and returns what to do once that commits (queue
the sending), so nothing is sent for events whose publication rolled back.
Subscribers are listed on the app (``app.extensions["call_event_subscribers"]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import joinedload

from widget_server.call_states import CallState
from widget_server.extensions import db
from widget_server.models import CALL_EVENTS, CALL_REQUESTS, CallEvent, CallRequest, utcnow

# Queued again by the worker itself (a retry, recovery): not news to anyone.
_INTERNAL_REQUEUES = frozenset({"retrying", "requeued"})
# A call's first event by its reason: a booking for later (the visitor's, or one made
# when the business's redials ran out), an attempt again (calls/redial.py), or a request.
_FIRST_EVENTS = {"scheduled": "call.scheduled", "callback": "call.scheduled",
                 "next_number": "call.redialed", "redial": "call.redialed",
                 "call_now": "call.redialed"}
# How far back the sweep looks for calls with events nobody published.
SWEEP_HORIZON = timedelta(days=2)


@dataclass(frozen=True)
class PublishedEvent:
    """One named event of a call, as subscribers receive it."""

    id: int  # the CallEvent row: unique, and increasing within a call
    type: str  # call.requested, call.scheduled, call.dialing, ...
    state: str
    reason: str | None
    at: datetime  # naive UTC, as stored


Subscriber = Callable[[CallRequest, list[PublishedEvent]], Callable[[], None] | None]


class Step(Protocol):
    """A call's event row as ``name_events`` reads it: a ``CallEvent``, or its row."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def detail(self) -> dict | None: ...
    @property
    def at(self) -> datetime: ...


def name_events(events: Iterable[Step]) -> list[PublishedEvent]:
    """The named events among a call's rows, oldest first.

    A row is an event when the state changed: provider exchanges and repeated
    states are not. A call queued again by a retry is not requested again, nor
    does it dial again. Each attempt at a request is a call of its own
    (calls/redial.py): its first event says ``call.redialed`` (the next number,
    a redial, "Call now") or ``call.scheduled`` (a call-back booked instead).
    """
    named: list[PublishedEvent] = []
    previous: str | None = None
    quiet_dial = False
    for event in events:
        if "exchange" in (event.detail or {}) or event.status == previous:
            continue
        kind = None
        if event.status == CallState.QUEUED:
            if previous is None:
                kind = _FIRST_EVENTS.get(event.reason or "", "call.requested")
            quiet_dial = event.reason in _INTERNAL_REQUEUES
        elif event.status == CallState.DIALING:
            kind = None if quiet_dial else "call.dialing"
        elif event.status != CallState.RINGING:
            kind = f"call.{event.status}"
        previous = event.status
        if kind:
            named.append(PublishedEvent(event.id, kind, event.status, event.reason, event.at))
    return named


def add_event(call_id: int, status: str, reason: str | None = None,
              detail: dict | None = None, at: datetime | None = None) -> None:
    """Store a step of a call in the caller's transaction: a Core insert, as the call
    request and the worker write them (no entity to build and flush)."""
    db.session.execute(insert(CALL_EVENTS), {"call_id": call_id, "at": at or utcnow(),
                                             "status": status, "reason": reason,
                                             "detail": detail or {}})


# The worker publishes on every call: its statements are Core, on the tables, and
# built once (the ORM's entities and a statement built per call were most of it).
_STEPS = CALL_EVENTS.c
_STEPS_OF_CALL = (select(_STEPS.id, _STEPS.status, _STEPS.reason, _STEPS.detail, _STEPS.at)
                  .where(_STEPS.call_id == bindparam("call_id")).order_by(_STEPS.id))
_CALLS = CALL_REQUESTS.c
# Moving the cursor leaves updated_at alone: recovery reads it as "last touched".
_MOVE_CURSOR = (update(CALL_REQUESTS)
                .where(_CALLS.id == bindparam("call_id"),
                       func.coalesce(_CALLS.published_event_id, 0) == bindparam("seen"))
                .values(published_event_id=bindparam("last"), updated_at=_CALLS.updated_at))


# The mail subscriber reads the call's widget: loaded with the call, not after it.
_WITH_WIDGET = (joinedload(CallRequest.widget),)


def publish_call_events(call_id: int) -> int:
    """Hand the call's unpublished events to the subscribers; how many there were."""
    call = db.session.get(CallRequest, call_id, options=_WITH_WIDGET)
    if call is None:
        db.session.rollback()
        return 0
    seen = call.published_event_id or 0
    rows = db.session.execute(_STEPS_OF_CALL, {"call_id": call_id}).all()
    if not rows or rows[-1].id <= seen:
        db.session.rollback()
        return 0
    fresh = [event for event in name_events(rows) if event.id > seen]
    moved = cast(CursorResult, db.session.execute(
        _MOVE_CURSOR, {"call_id": call_id, "seen": seen, "last": rows[-1].id})).rowcount == 1
    if not moved:  # another publisher got there first
        db.session.rollback()
        return 0
    after_commit = []
    if fresh:
        for subscriber in current_app.extensions["call_event_subscribers"]:
            if (then := subscriber(call, fresh)) is not None:
                after_commit.append(then)
    db.session.commit()
    for then in after_commit:
        then()
    return len(fresh)


def unpublished_calls(limit: int = 100) -> list[int]:
    """Calls touched lately whose last events nobody published: the sweep's work."""
    last_event = (select(func.max(CallEvent.id)).where(CallEvent.call_id == CallRequest.id)
                  .scalar_subquery())
    ids = db.session.scalars(
        select(CallRequest.id)
        .where(CallRequest.updated_at >= utcnow() - SWEEP_HORIZON,
               func.coalesce(CallRequest.published_event_id, 0) < last_event)
        .order_by(CallRequest.id).limit(limit)).all()
    db.session.rollback()
    return list(ids)
