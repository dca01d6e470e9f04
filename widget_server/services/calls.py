"""Calls: place a visitor's request again now ("Call now"), or cancel a booked call-back.

The admin's call page and the API's ``/calls/{id}/redial`` and ``/cancel``
both come here. A call is named by any of its attempts (calls/redial.py);
both act on the request's newest attempt.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from widget_server.abuse.caps import caps_for_call, count_within_caps
from widget_server.call_states import FINAL_STATES, CallState
from widget_server.calls.queue import enqueue_publish
from widget_server.calls.redial import add_attempt, attempts_of, queue_attempt
from widget_server.errors import Refusal
from widget_server.extensions import db
from widget_server.models import CallEvent, CallRequest, utcnow
from widget_server.services.actors import Actor, acting_account, check_may_change
from widget_server.services.errors import ServiceError
from widget_server.tenancy import ancestors, scoped_select

# "Call now" is for a lead still warm: requests of the last day only.
CALL_NOW_WINDOW = timedelta(hours=24)
# Caps of the visitor's own address: a person in the admin is not that visitor.
_VISITOR_ADDRESS_CAPS = frozenset({"ip", "ceiling-ip"})
_IN_PROGRESS = "This call is in progress; wait until it ends."


def scoped_call(actor: Actor, public_id: str) -> CallRequest:
    """The call ``public_id`` of the actor's subtree, else not found."""
    call = db.session.scalar(scoped_select(CallRequest, acting_account(actor)).where(
        CallRequest.public_id == public_id))
    if call is None:
        raise ServiceError("There is no such call.", kind="not_found")
    return call


def is_booked(call: CallRequest) -> bool:
    """Queued for later: a call-back the visitor chose or one booked for them, or a redial."""
    return call.status == CallState.QUEUED and call.scheduled_for is not None


def _cancel(call: CallRequest) -> bool:
    """End a booked attempt as cancelled in the caller's transaction; False if it moved on."""
    cancelled = cast(CursorResult, db.session.execute(
        update(CallRequest).where(CallRequest.id == call.id,
                                  CallRequest.status == CallState.QUEUED)
        .values(status=CallState.REJECTED, reason="cancelled", updated_at=utcnow())
    )).rowcount == 1
    if cancelled:
        db.session.add(CallEvent(call_id=call.id, status=CallState.REJECTED, reason="cancelled"))
    return cancelled


def call_now_refusal(tried: list[CallRequest], now: datetime) -> ServiceError | None:
    """Why the request tried as ``tried`` may not be placed again now, or None."""
    if tried[0].created_at < now - CALL_NOW_WINDOW:
        return ServiceError("Call now is for calls of the last 24 hours; this one is older.",
                            kind="conflict")
    if tried[-1].widget.deleted_at is not None:
        return ServiceError("This call's widget was deleted.", kind="conflict")
    if tried[-1].status not in FINAL_STATES and not is_booked(tried[-1]):
        return ServiceError(_IN_PROGRESS, kind="conflict")
    return None


def call_now(actor: Actor, call: CallRequest) -> CallRequest:
    """A new attempt at ``call``'s request, placed at once; the new attempt.

    Counted against the caps of the number, the widget and the accounts like a
    visitor's request. A call-back or redial booked for later is cancelled:
    this attempt takes its place.
    """
    check_may_change(actor, call.account_id, "call")
    tried = attempts_of(call)
    first, latest = tried[0], tried[-1]
    now = utcnow()
    if problem := call_now_refusal(tried, now):
        raise problem
    widget = latest.widget
    caps = [cap for cap in caps_for_call(widget, visitor_number=first.visitor_number,
                                         client_ip=first.client_ip, now=now,
                                         ancestors=ancestors(widget.account))
            if cap.scope not in _VISITOR_ADDRESS_CAPS]
    replaces = is_booked(latest)
    try:
        if replaces and not _cancel(latest):
            raise ServiceError(_IN_PROGRESS, kind="conflict")
        attempt = add_attempt(latest, "call_now", widget.business_numbers[0], None, tried)
        count_within_caps(caps)
        db.session.commit()
    except Refusal as refusal:  # a cap is reached
        db.session.rollback()
        raise ServiceError(refusal.message, kind="limited") from None
    except IntegrityError:  # the server added the next attempt at the same moment
        db.session.rollback()
        raise ServiceError(_IN_PROGRESS, kind="conflict") from None
    except ServiceError:
        db.session.rollback()
        raise
    if replaces:
        enqueue_publish(latest.id)
    queue_attempt(attempt.id, None)
    return attempt


def cancel_call(actor: Actor, call: CallRequest) -> CallRequest:
    """Cancel the call-back booked for ``call``'s request; the cancelled attempt."""
    check_may_change(actor, call.account_id, "call")
    latest = attempts_of(call)[-1]
    if not is_booked(latest) or not _cancel(latest):
        db.session.rollback()
        raise ServiceError("Only a booked call-back can be cancelled.", kind="conflict")
    db.session.commit()
    enqueue_publish(latest.id)
    return latest
