"""Calls a lost worker left behind: found by a periodic task and resolved without a second dial.

A worker killed while it places a call (SIGKILL, a lost host) leaves the
call in ``dialing`` and its queue task gone: Huey does not hand a task whose
worker died to another. A call is stalled when it is still ``dialing`` and
nothing was recorded about it for ``STALL_SECONDS`` (a live worker records
every provider exchange, and a poll every ``POLL_INTERVAL``). What happens
then depends on how far the lost worker got and on the provider:

* the provider never answered the placing request (no event after the claim
  but exchanges): if the provider de-duplicates on our call id
  (``dedupes_requests``), the call goes back to ``queued`` and is placed
  again, and the provider answers with the call it already has; otherwise
  nobody can know whether a phone rang, so the call ends ``failed`` with
  reason ``worker_lost`` rather than risk ringing anyone twice;
* the call was placed and the provider is followed by polling: polling
  resumes (a poll never dials);
* the call was placed and the provider calls back: nothing is lost, the
  call waits for its callback, up to ``CALLBACK_WAIT_SECONDS``; a callback
  that never came ends the call ``completed`` with reason ``outcome_unknown``,
  so neither the visitor's frame nor the report shows it dialing forever.

Every stalled call is looked at on each pass, a batch at a time, so calls
waiting for callbacks never crowd out those that need recovering.

A call can also be stranded in ``queued``: its task lost with a Redis that
restarted without persistence, or taken by a worker killed before it
claimed the call. Such a call (due, and untouched for ``STALL_SECONDS``) is
queued again; the claim guard in the task means it is still placed once.

Each action is one UPDATE guarded on the state and ``updated_at`` seen, so
of two recoverers running at once only one acts on a call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import CursorResult

from widget_server.call_states import CallState
from widget_server.extensions import db
from widget_server.models import CallEvent, CallRequest, utcnow
from widget_server.providers import PROVIDERS

# How many stalled calls one pass looks at; the next pass takes the rest.
BATCH = 100


def _placing_unfinished(call_id: int) -> bool:
    """True when nothing but provider exchanges was recorded since the worker claimed it."""
    events = db.session.scalars(select(CallEvent).where(CallEvent.call_id == call_id)
                                .order_by(CallEvent.id)).all()
    # The claim (placing._claim) is the one bare "dialing" event: adapters' carry detail.
    claims = [i for i, e in enumerate(events)
              if e.status == CallState.DIALING and e.reason is None and not e.detail]
    if not claims:
        return False
    return all("exchange" in (e.detail or {}) for e in events[claims[-1] + 1:])


def _act(call_id: int, seen_updated_at, status: str, reason: str, **detail: object) -> bool:
    """Move a still-stalled call on; False when another recoverer or a worker got there first.

    Resuming polls keeps the call's state and reason; its event marks the resumption.
    """
    values = {"updated_at": utcnow()} | (
        {} if status == CallState.DIALING else {"status": status, "reason": reason})
    moved = cast(CursorResult, db.session.execute(
        update(CallRequest)
        .where(CallRequest.id == call_id, CallRequest.status == CallState.DIALING,
               CallRequest.updated_at == seen_updated_at)
        .values(**values)
    )).rowcount == 1
    if moved:
        db.session.add(CallEvent(call_id=call_id, status=status, reason=reason, detail=detail))
    db.session.commit()
    return moved


def recover_stalled_calls() -> list[tuple[int, str]]:
    """Resolve stalled calls; the (call id, "place" or "poll") tasks the queue must schedule."""
    now = utcnow()
    cutoff = now - timedelta(seconds=float(current_app.config["STALL_SECONDS"]))
    callback_deadline = now - timedelta(
        seconds=float(current_app.config["CALLBACK_WAIT_SECONDS"]))
    last_event = (select(CallEvent.call_id, func.max(CallEvent.at).label("at"))
                  .group_by(CallEvent.call_id).subquery())
    tasks, after_id = [], 0
    while stalled := db.session.execute(
        select(CallRequest.id, CallRequest.updated_at, CallRequest.provider_kind,
               last_event.c.at)
        .join(last_event, last_event.c.call_id == CallRequest.id)
        .where(CallRequest.status == CallState.DIALING, last_event.c.at < cutoff,
               CallRequest.id > after_id)
        .order_by(CallRequest.id).limit(BATCH)
    ).all():
        after_id = stalled[-1].id
        for call_id, updated_at, kind, last_news in stalled:
            task = _recover(call_id, updated_at, PROVIDERS.get(kind),
                            waited_too_long=last_news < callback_deadline)
            if task:
                tasks.append((call_id, task))
    tasks.extend((call_id, "place") for call_id in _requeue_stranded(cutoff))
    db.session.remove()
    return tasks


def _recover(call_id: int, updated_at, provider, *, waited_too_long: bool) -> str | None:
    """Act on one stalled call; the task to schedule for it, if any."""
    if provider is None:
        return None
    if _placing_unfinished(call_id):
        if provider.dedupes_requests:
            if _act(call_id, updated_at, CallState.QUEUED, "retrying", after="worker_lost"):
                return "place"
        elif _act(call_id, updated_at, CallState.FAILED, "worker_lost"):
            current_app.logger.warning("call %s: worker lost while placing it", call_id)
    elif provider.polls:
        if _act(call_id, updated_at, CallState.DIALING, "polling_resumed"):
            return "poll"
    elif waited_too_long:
        if _act(call_id, updated_at, CallState.COMPLETED, "outcome_unknown", after="no_callback"):
            current_app.logger.warning("call %s: the provider never called back", call_id)
    else:
        db.session.rollback()
    return None


def _requeue_stranded(cutoff) -> list[int]:
    """Queued calls that are due and untouched since ``cutoff``: their task was lost."""
    stranded = db.session.execute(
        select(CallRequest.id, CallRequest.updated_at)
        .where(CallRequest.status == CallState.QUEUED, CallRequest.updated_at < cutoff,
               or_(CallRequest.scheduled_for.is_(None), CallRequest.scheduled_for < cutoff))
        .order_by(CallRequest.id).limit(BATCH)
    ).all()
    requeued = []
    for call_id, updated_at in stranded:
        touched = cast(CursorResult, db.session.execute(
            update(CallRequest)
            .where(CallRequest.id == call_id, CallRequest.status == CallState.QUEUED,
                   CallRequest.updated_at == updated_at)
            .values(updated_at=utcnow())
        )).rowcount == 1
        if touched:
            db.session.add(CallEvent(call_id=call_id, status=CallState.QUEUED, reason="requeued"))
            requeued.append(call_id)
        db.session.commit()
    return requeued
