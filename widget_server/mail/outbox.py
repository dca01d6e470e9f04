"""The mail outbox: a row per mail and recipient, sent by the queue, never in a request.

``add_mail`` writes rows in the caller's transaction (a call's events are
published in one); ``send_later`` queues them once that committed, so no mail
goes out for a transaction that rolled back. ``queue_mail`` does both for a
caller with nothing else to commit. ``deliver`` is the queue's attempt at one
row: sent, written to the log when no SMTP server is set, or tried again
later with a doubling wait until ``MAIL_RETRIES`` are spent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, select, update

from widget_server.calls.queue import QUEUE_ERRORS
from widget_server.extensions import db
from widget_server.mail.smtp import MailError, send, smtp_target
from widget_server.models import Account, MailDelivery, utcnow
from widget_server.services.brands import brand_for_account

log = logging.getLogger(__name__)
# Mails whose body holds a live sign-in link (mail/people.py): never written to the log.
LINK_KINDS = frozenset({"invitation", "password_reset"})
# A queued mail whose attempt is this overdue lost its task (queue down, a crash).
OVERDUE = timedelta(minutes=10)


def add_mail(to: Iterable[str], subject: str, text: str, html: str, *,
             account_id: int | None = None, widget_id: int | None = None,
             call_id: int | None = None, kind: str = "",
             dedupe_key: str | None = None) -> list[MailDelivery]:
    """Rows for ``to`` in the current transaction, flushed (ids set), not committed.

    With ``dedupe_key``, a recipient already given this mail gets none (the
    key is stored per recipient, unique: of two writers at once, one fails).
    """
    recipients = list(dict.fromkeys(to))
    keys = {recipient: f"{dedupe_key}:{recipient}"[:200] if dedupe_key else None
            for recipient in recipients}
    given = set(db.session.scalars(select(MailDelivery.dedupe_key).where(
        MailDelivery.dedupe_key.in_([key for key in keys.values() if key])))) if dedupe_key \
        else set()
    rows = [MailDelivery(account_id=account_id, widget_id=widget_id, call_id=call_id,
                         # A header holds no line break (a widget's name could carry one).
                         kind=kind, recipient=recipient,
                         subject=" ".join(subject.split())[:300], text=text,
                         html=html, status="queued", attempts=0, next_attempt_at=utcnow(),
                         dedupe_key=keys[recipient])
            for recipient in recipients if keys[recipient] not in given]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def send_later(delivery_ids: Iterable[int]) -> None:
    """Queue sending the committed rows; one the queue cannot take is left to the sweep."""
    task = current_app.extensions["mail_tasks"].send
    for delivery_id in delivery_ids:
        try:
            task(delivery_id)
        except QUEUE_ERRORS:
            log.warning("mail %s: sending left to the sweep", delivery_id)


def queue_mail(to: str | Iterable[str], subject: str, text: str, html: str,
               **fields) -> list[MailDelivery]:
    """Store a mail for ``to`` (``add_mail``'s fields), commit, and queue its sending."""
    rows = add_mail([to] if isinstance(to, str) else to, subject, text, html, **fields)
    ids = [row.id for row in rows]
    db.session.commit()
    send_later(ids)
    return rows


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: doubling, capped."""
    config = current_app.config
    return min(float(config["MAIL_RETRY_DELAY"]) * 2 ** (attempts - 1),
               float(config["MAIL_RETRY_MAX_DELAY"]))


def _message(row: MailDelivery) -> EmailMessage:
    """The mail as sent: from ``MAIL_FROM``'s address under the name of the brand of the
    account it is about, replies going to that brand's support address."""
    account = db.session.get(Account, row.account_id) if row.account_id else None
    brand = brand_for_account(account)
    address = parseaddr(current_app.config["MAIL_FROM"])[1] or current_app.config["MAIL_FROM"]
    message = EmailMessage()
    message["From"] = formataddr((brand.product_name, address))
    if brand.support_email:
        message["Reply-To"] = brand.support_email
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
    message.set_content(row.text)
    message.add_alternative(row.html, subtype="html")
    return message


def deliver(delivery_id: int) -> float | None:
    """One attempt at a queued mail; the seconds to wait before the next, or None when done.

    The attempt is claimed first (an UPDATE guarded on the attempts read), so
    two tasks for one row never both send it.
    """
    row = db.session.get(MailDelivery, delivery_id)
    if row is None or row.status != "queued":
        db.session.rollback()
        return None
    attempts = row.attempts
    claimed = cast(CursorResult, db.session.execute(
        update(MailDelivery).where(MailDelivery.id == delivery_id,
                                   MailDelivery.status == "queued",
                                   MailDelivery.attempts == attempts)
        .values(attempts=attempts + 1, next_attempt_at=utcnow() + OVERDUE))).rowcount == 1
    db.session.commit()
    if not claimed:
        return None
    db.session.refresh(row)
    config = current_app.config
    target = smtp_target(config["SMTP_URL"])
    if target is None:
        # A mail holding a sign-in link (mail/people.py) keeps it out of the log.
        body = "[withheld: it holds a sign-in link]" if row.kind in LINK_KINDS else row.text
        log.info("mail off: to %s, subject %r:\n%s", row.recipient, row.subject, body)
        row.status, row.sent_at = "logged", utcnow()
        db.session.commit()
        return None
    try:
        send(_message(row), target, timeout=float(config["SMTP_TIMEOUT"]),
             ca_file=config["SMTP_CA_FILE"])
    except MailError as error:
        row.last_error = str(error)
        if error.permanent or row.attempts > int(config["MAIL_RETRIES"]):
            row.status, row.next_attempt_at = "failed", None
            log.warning("mail %s to %s failed for good: %s", row.id, row.recipient, error)
            db.session.commit()
            return None
        delay = retry_delay(row.attempts)
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        log.info("mail %s: attempt %s failed (%s), again in %.1f s", row.id, row.attempts,
                 error, delay)
        db.session.commit()
        return delay
    row.status, row.sent_at, row.next_attempt_at = "sent", utcnow(), None
    db.session.commit()
    return None


def overdue_mail(now: datetime | None = None, limit: int = 100) -> list[int]:
    """Queued mails whose attempt is long overdue: their task was lost."""
    ids = db.session.scalars(
        select(MailDelivery.id).where(MailDelivery.status == "queued",
                                      MailDelivery.next_attempt_at < (now or utcnow()) - OVERDUE)
        .order_by(MailDelivery.id).limit(limit)).all()
    db.session.rollback()
    return list(ids)
