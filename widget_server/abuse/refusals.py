"""Refused embed requests, counted per widget, UTC day and reason, for the site owner.

The refusal codes the embed answers with are many and may change; reports
count a small stable set of reasons instead (``REASONS``), each code mapped
by ``reason_of``. A refusal is counted only once the widget is known (its
token read): before that there is no site owner to show it to.

Counting sits on the attack path, so it is one statement: an upsert that adds
one to the day's row, in its own short transaction after the refused
request's work was rolled back, committed on PostgreSQL without waiting for
the disk (a cap refusal rolls back the transaction that
would have counted the call, so the count cannot ride in it). No Redis
counters: they would need a flush and a second place to read from, and the
burst limit (``LIMIT_CALL_POST``, ``LIMIT_FRAME``) already bounds how many
refusals reach this per address.
"""

from __future__ import annotations

from flask import current_app, g, has_request_context, request
from sqlalchemy import Date, Integer, String, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from widget_server.db_ops import queued_writes
from widget_server.extensions import db
from widget_server.models import utcnow

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
    ":reason, 1) ON CONFLICT (widget_id, day, reason) DO UPDATE SET count = "
    "refusal_counts.count + 1"
).bindparams(bindparam("widget_id", type_=Integer), bindparam("day", type_=Date),
             bindparam("reason", type_=String))


_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


def reason_of(code: str) -> str:
    """The report's reason for a refusal code; ``other`` for a code not mapped."""
    return _CODES.get(code, "other")


def note_widget(widget_id: int) -> None:
    """Remember for this request which widget a refusal would be counted against."""
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
    try:
        db.session.rollback()  # nothing of the refused request is kept
        with queued_writes():
            if db.engine.dialect.name == "postgresql":
                # A count lost in a crash is no loss; waiting for the WAL flush (~10 ms
                # on a busy disk) on every refusal would be.
                db.session.execute(_ASYNC_COMMIT)
            db.session.execute(_UPSERT, {"widget_id": widget_id, "day": utcnow().date(),
                                         "reason": reason_of(code)})
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("refusal %s not counted: database unavailable", code)
