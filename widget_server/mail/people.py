"""Mails to the people who sign in to the admin: an invitation, a password reset.

Each carries a single-use link (security/password_links.py) to the admin at
``PUBLIC_URL``: never built from a request's ``Host`` header, which whoever
asks for a reset chooses. They are rendered from templates/admin/mail/ and
go through the outbox like every mail; the log never shows their body.

They read in the recipient's language (``User.language``; for an invitation,
whose recipient has chosen none yet, the inviter's admin language when one
invites from the admin; else English) and carry the brand of the recipient's
account (services/brands.py): a reseller's clients are invited by the reseller's
product, not ours.
"""

from __future__ import annotations

import logging

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import func, select

from widget_server.extensions import db
from widget_server.i18n import ADMIN_LANGUAGES, DEFAULT_LANGUAGE, admin_language, in_admin
from widget_server.mail.outbox import add_mail, send_later
from widget_server.models import User
from widget_server.security.password_links import INVITATION, MAX_AGE, RESET, link_token
from widget_server.services.brands import brand_for_account

log = logging.getLogger(__name__)
# Both are outbox.LINK_KINDS: their body is never written to the log.
INVITATION_KIND, RESET_KIND = "invitation", "password_reset"


def link_path(user: User, purpose: str) -> str:
    """The admin path of a new ``purpose`` link for ``user`` (security/password_links.py);
    written out, as the queue has no request to build it from."""
    return f"/admin/{'welcome' if purpose == INVITATION else 'reset'}/{link_token(user, purpose)}"


def mail_language(user: User) -> str:
    """The language ``user``'s mails are written in: their own choice, else (someone who
    has not signed in yet) the admin language of whoever acts for them now, else English."""
    if user.language in ADMIN_LANGUAGES:
        return user.language
    return admin_language() if in_admin() else DEFAULT_LANGUAGE


def _render(name: str, user: User, **context) -> tuple[str, str, str]:
    brand = brand_for_account(user.account)
    context |= {"brand": brand, "product": brand.product_name, "role": user.role}
    with force_locale(mail_language(user)):
        return (render_template(f"admin/mail/{name}.subject.txt", **context).strip(),
                render_template(f"admin/mail/{name}.txt", **context),
                render_template(f"admin/mail/{name}.html", **context))


def add_invitation(user: User, inviter: str, base_url: str) -> list[int]:
    """The invitation mail for ``user`` in the current transaction: its outbox ids."""
    subject, text, html = _render(
        "invitation", user, inviter=inviter, account=user.account.name, email=user.email,
        days=MAX_AGE[INVITATION] // 86400,
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
    subject, text, html = _render("password_reset", user, email=user.email,
                                  minutes=MAX_AGE[RESET] // 60,
                                  link=base_url + link_path(user, RESET))
    ids = [row.id for row in add_mail([user.email], subject, text, html,
                                      account_id=user.account_id, kind=RESET_KIND)]
    db.session.commit()
    send_later(ids)
