"""Refused embed requests, counted per widget, UTC day and reason, for the site owner.

The refusal codes the embed answers with are many and may change; reports
count a small stable set of reasons instead (``REASONS``), each code mapped
by ``reason_of``. A refusal is counted only once the widget is known (its
token read): before that there is no site owner to show it to.

Counting sits on the attack path, and an attack is all refusals: a write per
refusal made every refused request a database transaction (four round trips,
a third of its CPU, issue 15). So each process adds refusals up in memory and
writes them at most once every ``REFUSAL_FLUSH_SECONDS`` (1 s), in one
statement, from a timer thread, committed on PostgreSQL without waiting for
the disk. Counts a crash loses are lost figures, never a check: nothing decides
on them. 0 writes each refusal in the refused request, as tests do. A cap
refusal rolls back the transaction that would have counted the call, so the
count cannot ride in it. No Redis counters: they would need a flush and a
second place to read from, as these do, plus a service.
"""

from __future__ import annotations

import atexit
import threading
from collections import Counter
from datetime import date

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Date, Integer, String, bindparam, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from widget_server.db_ops import queued_writes
from widget_server.extensions import db
from widget_server.models import Widget, utcnow

# Shown and exported in this order; a new reason goes before "other".
REASONS = (
    "cap_number_minute", "cap_number", "cap_address", "cap_widget", "cap_account",
    "cap_account_month", "blocked", "country", "emergency", "number_type", "bad_number",
    "cooling_down", "captcha", "origin", "closed", "form", "consent", "paused",
    "suspended", "old_token", "unconfigured", "unavailable", "other",
)
_CODES = {
    "cap_number_min": "cap_number_minute",
    "cap_number": "cap_number", "cap_ceiling_number": "cap_number",
    "cap_ip": "cap_address", "cap_ceiling_ip": "cap_address",
    "cap_widget": "cap_widget",
    "cap_account": "cap_account",
    "cap_account_month": "cap_account_month",
    "phone_blocked": "blocked",
    "phone_country": "country",
    # Short and emergency numbers are refused together (abuse/phone.py).
    "phone_short": "emergency",
    "phone_type": "number_type",
    "phone_missing": "bad_number", "phone_invalid": "bad_number",
    "phone_extension": "bad_number",
    "number_cooling_down": "cooling_down",
    "captcha_missing": "captcha", "captcha_failed": "captcha", "captcha_replayed": "captcha",
    "origin_not_allowed": "origin", "frame_not_embedded": "origin",
    "not_same_origin": "origin",
    # Outside opening hours with no call-back offered, or a time not offered.
    "closed": "closed",
    "nonce_missing": "form", "nonce_expired": "form", "nonce_invalid": "form",
    "nonce_used": "form",
    "consent_missing": "consent",
    "widget_paused": "paused",
    "account_suspended": "suspended",
    "token_revoked": "old_token", "widget_removed": "old_token",
    "widget_unconfigured": "unconfigured",
    "captcha_unavailable": "unavailable", "service_unavailable": "unavailable",
}

_UPSERT = text(
    "INSERT INTO refusal_counts (widget_id, day, reason, count) VALUES (:widget_id, :day, "
    ":reason, :n) ON CONFLICT (widget_id, day, reason) DO UPDATE SET count = "
    "refusal_counts.count + :n"
).bindparams(bindparam("widget_id", type_=Integer), bindparam("day", type_=Date),
             bindparam("reason", type_=String), bindparam("n", type_=Integer))


_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")

Key = tuple[int, date, str]


def _write(counts: Counter[Key]) -> None:
    """Add ``counts`` to the stored ones, in one statement and one short transaction."""
    with queued_writes():
        if db.engine.dialect.name == "postgresql":
            # A count lost in a crash is no loss; waiting for the WAL flush (~10 ms
            # on a busy disk) would be.
            db.session.execute(_ASYNC_COMMIT)
        db.session.execute(_UPSERT, [
            {"widget_id": widget_id, "day": day, "reason": reason, "n": n}
            for (widget_id, day, reason), n in sorted(counts.items())])
        db.session.commit()


class RefusalTally:
    """One process's refusals not yet written, and the timer that will write them."""

    def __init__(self, app: Flask, seconds: float):
        self.app, self.seconds = app, seconds
        self.counts: Counter[Key] = Counter()
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None
        # A worker that stops writes what it holds (best effort: not on a kill).
        atexit.register(self.flush)

    def add(self, key: Key, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n
            if self.timer is None:
                self.timer = threading.Timer(self.seconds, self.flush)
                self.timer.daemon = True
                self.timer.start()

    def flush(self) -> None:
        with self.lock:
            counts, self.counts, self.timer = self.counts, Counter(), None
        if not counts:
            return
        with self.app.app_context():
            try:
                _write(counts)
            except IntegrityError:
                db.session.rollback()
                self._keep_unless_widget_gone(counts)
            except SQLAlchemyError:
                db.session.rollback()
                # Kept for the next try: one key per widget, day and reason, so a long
                # outage holds a bounded number of them.
                for key, n in counts.items():
                    self.add(key, n)
                self.app.logger.warning("%d refusals not counted yet: database unavailable",
                                        sum(counts.values()))
            finally:
                db.session.remove()

    def _keep_unless_widget_gone(self, counts: Counter[Key]) -> None:
        """A write refused on its key: a widget was deleted (in SQL; the services only
        mark it) since its refusals were counted. Those counts have nowhere to go, and
        kept they would fail every later write; the others are kept for the next try."""
        widget_ids = {widget_id for widget_id, _, _ in counts}
        alive = set(db.session.scalars(select(Widget.id).where(Widget.id.in_(widget_ids))))
        for key, n in counts.items():
            if key[0] in alive:
                self.add(key, n)
        self.app.logger.warning("%d refusals not counted: their widget is gone", sum(
            n for (widget_id, _, _), n in counts.items() if widget_id not in alive))


_TALLY_LOCK = threading.Lock()


def _tally() -> RefusalTally:
    tally = current_app.extensions.get("refusal_tally")
    if tally is None:
        with _TALLY_LOCK:
            tally = current_app.extensions.setdefault("refusal_tally", RefusalTally(
                current_app._get_current_object(),  # type: ignore[attr-defined]
                float(current_app.config["REFUSAL_FLUSH_SECONDS"])))
    return tally


def reason_of(code: str) -> str:
    """The report's reason for a refusal code; ``other`` for a code not mapped."""
    return _CODES.get(code, "other")


def note_widget(widget_id: int | None) -> None:
    """Remember for this request which widget a refusal would be counted against (None:
    no widget, as when the one noted earlier in the request turned out to be gone)."""
    if has_request_context():
        g.refusal_widget_id = widget_id


def count_refusal(code: str) -> None:
    """Count a refusal of this embed request against its widget, if one is known.

    Never fails the refusal it counts: a database that cannot take the count
    (down, locked) is logged and the visitor still gets the sentence.
    """
    widget_id = g.get("refusal_widget_id") if has_request_context() else None
    if widget_id is None or request.blueprint != "embed":
        return
    g.refusal_widget_id = None  # once per request
    key = (widget_id, utcnow().date(), reason_of(code))
    if current_app.config["REFUSAL_FLUSH_SECONDS"] > 0:
        _tally().add(key)
        return
    try:
        db.session.rollback()  # nothing of the refused request is kept
        _write(Counter([key]))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("refusal %s not counted: database unavailable", code)
