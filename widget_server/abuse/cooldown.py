"""Harassment guard: a number that keeps not answering is left alone for a day.

Someone who wants to annoy a person can ask many sites to call that person
back. Each call whose visitor leg went unanswered (``UNANSWERED``: busy, no
answer, not reached) is counted against the number, across every widget of
every tenant, in the transaction that stores the outcome (calls/placing.py,
``record``). The call that makes it ``UNANSWERED_BEFORE_COOLDOWN`` within a
day cools the number down for a day: call requests for it are refused with
``number_cooling_down``, and a call booked earlier that falls due meanwhile is
cancelled instead of dialled.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select, text, update

from widget_server.errors import Refusal
from widget_server.extensions import db
from widget_server.models import UnansweredNumber

# The reasons adapters give when the visitor's own phone did not take the call:
# - simulator: busy, no_answer; c2c-php: visitor_not_reached (its leg has 0 seconds);
# - called.in's callback: hung_up, ring_timeout, line_busy. It does not name the leg,
#   so a business that does not answer counts too: the person called is protected
#   first. Its failed (0) and congestion (8) are the network's, not a phone's.
# Voicenter and voice1 never learn how the visitor's leg ended, and DialogTech's
# "No Answer" is the business's (first) leg: none of theirs is counted.
UNANSWERED = frozenset({"busy", "no_answer", "visitor_not_reached",
                        "hung_up", "ring_timeout", "line_busy"})
COOLDOWN = timedelta(days=1)
# How long unanswered calls keep counting towards a cool-down.
WINDOW = timedelta(days=1)

_COLUMNS = UnansweredNumber.__table__.c
# One statement on both databases: of two outcomes stored at once, each adds one.
_COUNT = text(
    'INSERT INTO unanswered_numbers (e164, "count", since) VALUES (:e164, 1, :now) '
    "ON CONFLICT (e164) DO UPDATE SET "
    '"count" = CASE WHEN unanswered_numbers.since > :window_start '
    'THEN unanswered_numbers."count" + 1 ELSE 1 END, '
    "since = CASE WHEN unanswered_numbers.since > :window_start "
    "THEN unanswered_numbers.since ELSE :now END "
    'RETURNING "count"'
).bindparams(bindparam("e164", type_=_COLUMNS.e164.type),
             bindparam("now", type_=_COLUMNS.since.type),
             bindparam("window_start", type_=_COLUMNS.since.type))
# Until when :e164 rests after :now, if it does; the call request asks it with its
# standing (abuse/standing.py), the worker with the block list (calls/placing.py).
COOLED_UNTIL = select(UnansweredNumber.cooled_until).where(
    UnansweredNumber.e164 == bindparam("e164"), UnansweredNumber.cooled_until > bindparam("now"))


def note_unanswered(e164: str, now: datetime) -> None:
    """Count one unanswered call to ``e164``; the N-th within a day cools it down. Not
    committed: call it in the transaction that stores the call's outcome."""
    threshold = int(current_app.config["UNANSWERED_BEFORE_COOLDOWN"])
    if threshold <= 0:
        return
    count = db.session.execute(_COUNT, {"e164": e164, "now": now,
                                        "window_start": now - WINDOW}).scalar_one()
    if count >= threshold:
        # The count starts again: after the day, N more unanswered calls cool it again.
        db.session.execute(update(UnansweredNumber).where(UnansweredNumber.e164 == e164)
                           .values(count=0, since=now, cooled_until=now + COOLDOWN))


def refuse_if_cooling_down(until: datetime | None, now: datetime) -> None:
    """A 429 with ``Retry-After`` while a number is cooled down ``until`` (as read with
    the call request's standing, abuse/standing.py)."""
    if until is not None:
        raise Refusal("number_cooling_down",
                      "This number did not answer several recent call-backs, so we will not "
                      "call it for a day. Please try again later.", status=429,
                      retry_after=max(1, math.ceil((until - now).total_seconds())))
