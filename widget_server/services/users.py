"""People who sign in to the admin: invite one, change their role, remove them, set a password.

Only owners manage people, and only in their own subtree; nobody changes or
removes themselves (an owner could lock the account out). Nobody chooses
another's password: a new user is mailed an invitation with a link where they
choose their own, and a forgotten password is reset by a mailed link
(security/password_links.py: signed, expiring, single-use). Setting a password
ends every session and forgets every remembered browser of the user.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from widget_server.calls.queue import QUEUE_ERRORS
from widget_server.extensions import db
from widget_server.i18n import ADMIN_LANGUAGES
from widget_server.mail.outbox import send_later
from widget_server.mail.people import add_invitation
from widget_server.models import User
from widget_server.security.password_links import INVITATION, RESET, link_token, read_link
from widget_server.services.accounts import OWNER, check_may_administer
from widget_server.services.actors import READ_ONLY, Actor
from widget_server.services.errors import ServiceError
from widget_server.services.two_factor import forget_devices

ROLES = (OWNER, "member", READ_ONLY)
MIN_PASSWORD = 10
EMAIL_MAX = 254
# A domain with a dot, or this machine: init's first operator is admin@localhost.
_EMAIL = re.compile(r"[^@\s]+@([^@\s]+\.[^@\s]+|localhost)")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def end_sessions(user: User) -> None:
    """Sign ``user`` out everywhere: every session issued so far stops working."""
    user.session_generation += 1


def set_password(user: User, password: str) -> None:
    """A new password ends every session signed in with the old one, and every browser
    remembered for the second factor asks for a code again."""
    user.password_hash = hash_password(password)
    end_sessions(user)
    forget_devices(user)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def _checked_role(role: str) -> str:
    if role not in ROLES:
        raise ServiceError("Use one of: %(choices)s.", "role",
                           params={"choices": ", ".join(ROLES)})
    return role


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ServiceError("Use at least %(count)s characters.", "password",
                           params={"count": MIN_PASSWORD})
    return password


def create_user(actor: Actor, *, account_id: int, email: str, role: str,
                invite: bool = True, base_url: str = "") -> User:
    """A new user of the account without a password, committed; with ``invite``, mailed
    a link to choose theirs, on the admin at ``PUBLIC_URL`` or else ``base_url``.

    Without ``invite`` (the command line's first operator) nobody is mailed:
    the caller hands over ``invitation_token(user)`` itself.
    """
    account = check_may_administer(actor, account_id, "account", "account_id")
    email = email.strip()
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise ServiceError("Enter an email address, like name@example.com.", "email")
    role = _checked_role(role)
    if user_by_email(email) is not None:
        raise ServiceError("Someone already signs in with this email.", "email",
                           kind="conflict")
    user = User(account_id=account.id, email=email, role=role, password_hash="")
    db.session.add(user)
    db.session.flush()
    ids: list[int] = []
    if invite:
        inviter = actor.email if isinstance(actor, User) else actor.name
        ids = add_invitation(user, inviter, current_app.config["PUBLIC_URL"] or base_url)
    db.session.commit()
    send_later(ids)
    return user


def invite_again(actor: Actor, user_id: int, base_url: str = "") -> User:
    """Mail a new invitation to a user who has not chosen a password yet (theirs
    expired, or went astray); committed. Earlier invitations still work until used."""
    user = _other_user(actor, user_id, "invites")
    if user.has_password:
        raise ServiceError(f"{user.email} has chosen a password already.", kind="conflict")
    inviter = actor.email if isinstance(actor, User) else actor.name
    ids = add_invitation(user, inviter, current_app.config["PUBLIC_URL"] or base_url)
    db.session.commit()
    send_later(ids)
    return user


def _other_user(actor: Actor, user_id: int, doing: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise ServiceError("There is no such user.", kind="not_found")
    check_may_administer(actor, user.account_id, "user")
    if isinstance(actor, User) and actor.id == user.id:
        raise ServiceError(f"Nobody {doing} themselves; ask another owner.", kind="forbidden")
    return user


def change_role(actor: Actor, user_id: int, role: str) -> User:
    """Give the user ``role``; a demotion takes effect on their next request."""
    user = _other_user(actor, user_id, "changes the role of")
    user.role = _checked_role(role)
    db.session.commit()
    return user


def remove_user(actor: Actor, user_id: int) -> User:
    """Delete the user: they can no longer sign in."""
    user = _other_user(actor, user_id, "removes")
    db.session.delete(user)
    db.session.commit()
    return user


def request_password_reset(email: str) -> None:
    """Queue a reset mail for whoever signs in as ``email``: nothing is looked up here, so
    the answer is the same, as fast, whether anyone does (mail/people.py does the rest)."""
    email = email.strip()
    if not email or len(email) > EMAIL_MAX:
        return
    try:
        current_app.extensions["mail_tasks"].reset(email)
    except QUEUE_ERRORS:
        current_app.logger.warning("password reset not queued: the queue is down")


def reset_token(user: User) -> str:
    """The token of a link that lets ``user`` choose a new password, once, for an hour."""
    return link_token(user, RESET)


def invitation_token(user: User) -> str:
    """The token of a link that lets ``user`` choose their password, once, for 7 days."""
    return link_token(user, INVITATION)


def user_for_link(token: str, purpose: str) -> User | None:
    """The user a live, unused ``purpose`` (``INVITATION``, ``RESET``) link is for, or None."""
    link = read_link(token, purpose)
    return link.user if link else None


def set_password_by_link(token: str, purpose: str, password: str) -> User:
    """Set the password of the user a live ``purpose`` link is for, spending the link;
    committed."""
    link = read_link(token, purpose)
    if link is None:
        raise ServiceError("This link has expired or has been used.", kind="not_found")
    password = _checked_password(password)
    if not link.consume():
        db.session.rollback()
        raise ServiceError("This link has expired or has been used.", kind="not_found")
    set_password(link.user, password)
    db.session.commit()
    return link.user


@cache
def time_zones() -> list[str]:
    """The zone names a user may choose, sorted: zoneinfo's, as widgets take."""
    return sorted(zoneinfo.available_timezones())


def update_settings(user: User, *, language: str | None, time_zone: str | None) -> User:
    """Set ``user``'s own admin language and report time zone; committed.

    Empty (or None) means "not chosen": the browser's language, each widget's
    own time zone. Everyone may change their own, read-only users too: it
    changes how the admin reads to them, nothing of the account.
    """
    language = (language or "").strip() or None
    time_zone = (time_zone or "").strip() or None
    problems = []
    if language is not None and language not in ADMIN_LANGUAGES:
        problems.append(ServiceError("The admin is not written in this language.", "language"))
    if time_zone is not None and time_zone not in time_zones():
        problems.append(ServiceError("Use a time zone such as Europe/Berlin, or none.",
                                     "time_zone"))
    if problems:
        raise ExceptionGroup("Some fields are not valid.", problems)
    user.language, user.time_zone = language, time_zone
    db.session.commit()
    return user
