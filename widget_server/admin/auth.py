"""Sign-in for people: hashed passwords, Flask-Login sessions, roles.

Roles: ``owner`` (everything in the account's subtree), ``member`` (manages
widgets, domains and reports, not users or keys), ``read-only`` (reads).
"""

from __future__ import annotations

import secrets
import time
from functools import cache, wraps
from typing import TypeGuard

from flask import abort, current_app, request, session
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash

from widget_server.extensions import db, login_manager
from widget_server.models import Account, User
from widget_server.security.password_links import password_fingerprint
from widget_server.services.two_factor import REMEMBER_DAYS, device_remembered
from widget_server.services.users import hash_password
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

    Checking against a dummy hash when the email is unknown (or invited and
    without a password yet) makes every answer take as long, so sign-in timing
    does not tell which emails have accounts.
    """
    if user is None or not user.has_password:
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


# Between the password and the second factor: the session names the user (and its
# session generation) for this long, and grants nothing but the code page.
_PENDING = "two_factor_pending"
PENDING_SECONDS = 600
TWO_FACTOR_DEVICE_COOKIE = "two_factor_device"
_TWO_FACTOR_DEVICE_SALT = "widget-server.two-factor-device"


def begin_second_factor(user: User) -> None:
    """The password was right; the session waits for ``user``'s code."""
    session[_PENDING] = {"user": user.get_id(), "at": int(time.time())}


def pending_user() -> User | None:
    """The user whose password was right in this session lately, still awaiting a code."""
    pending = session.get(_PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int) \
            or time.time() - pending["at"] > PENDING_SECONDS:
        return None
    return load_user(str(pending.get("user", "")))


def end_second_factor() -> None:
    session.pop(_PENDING, None)


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEYS"],
                                  salt=_TWO_FACTOR_DEVICE_SALT)


def remembered_for_second_factor(user: User) -> bool:
    """Whether this browser carries a live remembered-device cookie of ``user``'s."""
    raw = request.cookies.get(TWO_FACTOR_DEVICE_COOKIE)
    if not raw:
        return False
    try:
        payload = _device_serializer().loads(raw, max_age=REMEMBER_DAYS * 86400)
    except BadSignature:
        return False
    return (isinstance(payload, dict) and payload.get("u") == user.id
            and device_remembered(user, str(payload.get("d"))))


def set_device_cookie(response, user: User, device_id: str) -> None:
    """Remember this browser for ``user``'s second factor (services/two_factor.py)."""
    response.set_cookie(
        TWO_FACTOR_DEVICE_COOKIE, _device_serializer().dumps({"u": user.id, "d": device_id}),
        max_age=REMEMBER_DAYS * 86400, path="/admin/", httponly=True,
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
