"""People who sign in to the admin: add one, change their role, remove them, set a password.

Only owners manage people, and only in their own subtree; nobody changes or
removes themselves (an owner could lock the account out). A password link is
signed over SECRET_KEYS and expires; it carries a fingerprint of the password
hash it was made for, so it works once: a new password changes the hash and
every earlier link stops working.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zoneinfo
from functools import cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from widget_server.extensions import db
from widget_server.i18n import ADMIN_LANGUAGES
from widget_server.models import User
from widget_server.services.accounts import OWNER, check_may_administer
from widget_server.services.actors import READ_ONLY, Actor
from widget_server.services.errors import ServiceError

ROLES = (OWNER, "member", READ_ONLY)
MIN_PASSWORD = 10
EMAIL_MAX = 254
RESET_MAX_AGE = 3600
_RESET_SALT = "widget-server.password-reset"
# A domain with a dot, or this machine: init's first operator is admin@localhost.
_EMAIL = re.compile(r"[^@\s]+@([^@\s]+\.[^@\s]+|localhost)")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def end_sessions(user: User) -> None:
    """Sign ``user`` out everywhere: every session issued so far stops working."""
    user.session_generation += 1


def set_password(user: User, password: str) -> None:
    """A new password ends every session signed in with the old one."""
    user.password_hash = hash_password(password)
    end_sessions(user)


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
                password: str | None = None) -> tuple[User, str]:
    """A new user of the account, committed, and their password: ``password``, or one
    generated (to be shown once) when it is None."""
    account = check_may_administer(actor, account_id, "account", "account_id")
    email = email.strip()
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise ServiceError("Enter an email address, like name@example.com.", "email")
    role = _checked_role(role)
    password = secrets.token_urlsafe(12) if password is None else _checked_password(password)
    if user_by_email(email) is not None:
        raise ServiceError("Someone already signs in with this email.", "email",
                           kind="conflict")
    user = User(account_id=account.id, email=email, role=role,
                password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user, password


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


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEYS"], salt=_RESET_SALT)


def password_fingerprint(user: User) -> str:
    """Changes with the password: what a reset link or a known device is tied to."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def reset_token(user: User) -> str:
    """The token of a link that lets ``user`` choose a new password, once, for an hour."""
    return _serializer().dumps({"u": user.id, "f": password_fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    """The user a live, unused reset token is for, or None."""
    try:
        payload = _serializer().loads(token, max_age=RESET_MAX_AGE)
        user = db.session.get(User, int(payload["u"]))
        fingerprint = str(payload["f"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if user is None or fingerprint != password_fingerprint(user):
        return None
    return user


def set_password_by_token(token: str, password: str) -> User:
    """Set the password of the user a live reset token is for; committed."""
    user = user_for_reset_token(token)
    if user is None:
        raise ServiceError("This link has expired or has been used.", kind="not_found")
    set_password(user, _checked_password(password))
    db.session.commit()
    return user


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
