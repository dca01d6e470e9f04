"""Sign-in for people: hashed passwords, Flask-Login sessions, roles.

Roles: ``owner`` (everything in the account's subtree), ``member`` (manages
widgets, domains and reports, not users or keys), ``read-only`` (reads).
"""

from __future__ import annotations

import secrets
from functools import cache, wraps
from typing import TypeGuard

from flask import abort, current_app, request
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash

from widget_server.extensions import db, login_manager
from widget_server.models import Account, User
from widget_server.services.users import hash_password, password_fingerprint
from widget_server.tenancy import get_scoped, lineage_suspended

# Which roles may change things of each kind.
CAN_MANAGE = {"owner", "member"}
CAN_ADMINISTER = {"owner"}


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session's user, unless its session generation has moved on since it signed in.

    Runs on every request: a session from before a sign-out or a password
    change (or one without a generation), or of a suspended account, is
    anonymous from then on.
    """
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_generation != int(generation):
        return None
    # A suspension ends the sessions of everyone under it; signing in says why.
    if lineage_suspended(user.account_id):
        return None
    return user


@cache
def _unknown_user_hash() -> str:
    """A hash made as users' are, of a password nobody knows, made once per process."""
    return hash_password(secrets.token_urlsafe(32))


def password_matches(user: User | None, password: str) -> TypeGuard[User]:
    """Whether ``password`` is ``user``'s; for no user, False after the same work.

    Checking against a dummy hash when the email is unknown makes both answers
    take as long, so sign-in timing does not tell which emails have accounts.
    """
    if user is None:
        check_password_hash(_unknown_user_hash(), password)
        return False
    return check_password_hash(user.password_hash, password)


KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_DAYS = 365
_KNOWN_DEVICE_SALT = "widget-server.known-device"
_KNOWN_DEVICE_USERS = 5  # a shared computer remembers this many people


def _known_device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEYS"], salt=_KNOWN_DEVICE_SALT)


def _known_device_entries() -> list[list]:
    """The signed ``[user id, password fingerprint]`` pairs this browser carries, or []."""
    raw = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not raw:
        return []
    try:
        entries = _known_device_serializer().loads(raw, max_age=KNOWN_DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    return entries if isinstance(entries, list) else []


def is_known_device(user: User | None) -> bool:
    """Whether this browser signed in as ``user`` before, with the current password."""
    return user is not None and [user.id, password_fingerprint(user)] in _known_device_entries()


def remember_device(response, user: User) -> None:
    """Mark this browser as one ``user`` signed in from: an admin-path cookie only.

    It lets the owner sign in while their e-mail's failure count, run up by
    guessing from many addresses, refuses everyone else.
    """
    entry = [user.id, password_fingerprint(user)]
    others = [e for e in _known_device_entries() if e and e[0] != user.id]
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        _known_device_serializer().dumps([entry, *others][:_KNOWN_DEVICE_USERS]),
        max_age=KNOWN_DEVICE_DAYS * 86400, path="/admin/", httponly=True,
        secure=not current_app.config["DEVELOPMENT"], samesite="Lax")


def current_account() -> Account:
    """The signed-in user's account: the root of everything they may see."""
    return current_user.account


def require_role(allowed: set[str]):
    """Sign-in required, and one of ``allowed`` roles; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def check_role(allowed: set[str]) -> None:
    """403 unless the signed-in user has one of ``allowed`` roles.

    Called after an object has been looked up within the caller's subtree, so
    another tenant's object is a 404 whatever the caller's role.
    """
    if current_user.role not in allowed:
        abort(403)


def posted_account() -> Account | None:
    """The account a form names in ``account_id``/``parent_id``, 404 outside the subtree."""
    for field in ("account_id", "parent_id"):
        value = request.form.get(field, "")
        if value.isdigit():
            return get_scoped(Account, int(value), current_account())
    return None
