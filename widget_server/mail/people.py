"""Mails to the people who sign in to the admin: an invitation, a password reset.

Each carries a single-use link (security/password_links.py) to the admin at
``PUBLIC_URL``: never built from a request's ``Host`` header, which whoever
asks for a reset chooses. They are rendered from templates/admin/mail/ and
go through the outbox like every mail; the log never shows their body.
"""

from __future__ import annotations

import logging

from flask import current_app, render_template
from sqlalchemy import func, select

from widget_server.extensions import db
from widget_server.mail.outbox import add_mail, send_later
from widget_server.models import User
from widget_server.security.password_links import INVITATION, MAX_AGE, RESET, link_token

log = logging.getLogger(__name__)
PRODUCT = "widget-server"
# Both are outbox.LINK_KINDS: their body is never written to the log.
INVITATION_KIND, RESET_KIND = "invitation", "password_reset"


def link_path(user: User, purpose: str) -> str:
    """The admin path of a new ``purpose`` link for ``user`` (security/password_links.py);
    written out, as the queue has no request to build it from."""
    return f"/admin/{'welcome' if purpose == INVITATION else 'reset'}/{link_token(user, purpose)}"


def _render(name: str, **context) -> tuple[str, str, str]:
    context |= {"product": PRODUCT}
    return (render_template(f"admin/mail/{name}.subject.txt", **context).strip(),
            render_template(f"admin/mail/{name}.txt", **context),
            render_template(f"admin/mail/{name}.html", **context))


def add_invitation(user: User, inviter: str, base_url: str) -> list[int]:
    """The invitation mail for ``user`` in the current transaction: its outbox ids."""
    subject, text, html = _render(
        "invitation", inviter=inviter, account=user.account.name, role=user.role,
        email=user.email, days=MAX_AGE[INVITATION] // 86400,
        link=base_url.rstrip("/") + link_path(user, INVITATION))
    return [row.id for row in add_mail([user.email], subject, text, html,
                                       account_id=user.account_id, kind=INVITATION_KIND)]


def send_password_reset(email: str) -> None:
    """Mail a reset link to the user who signs in as ``email``, if anyone does; committed.

    Run by the queue, so the page that asked answers alike, and as fast, for
    an address that has an account and one that has none.
    """
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None:
        return
    base_url = current_app.config["PUBLIC_URL"].rstrip("/")
    if not base_url:
        log.warning("password reset for user %s not mailed: PUBLIC_URL is not set", user.id)
        return
    subject, text, html = _render("password_reset", email=user.email,
                                  minutes=MAX_AGE[RESET] // 60,
                                  link=base_url + link_path(user, RESET))
    ids = [row.id for row in add_mail([user.email], subject, text, html,
                                      account_id=user.account_id, kind=RESET_KIND)]
    db.session.commit()
    send_later(ids)
