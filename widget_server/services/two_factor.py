"""Two-factor sign-in with TOTP: enrolment, codes, recovery codes, remembered devices.

A person turns it on for themselves: a new secret (stored as a Fernet token,
like provider credentials, re-encrypted by ``keys rotate``) is shown as a QR
code and as text, and is on only once a code from the app confirms it. Ten
recovery codes are then shown once and kept as SHA-256 digests (each has 40
random bits and guessing is rate limited, so a fast digest is enough, as for API
keys), each good once.

A code is accepted for the time step before, at and after now (clock drift),
and never twice: the step of the last code accepted is kept, and only a later
step passes, by one guarded UPDATE so two requests racing with one code cannot
both pass. A browser may be remembered for at most ``REMEMBER_DAYS``: a row
per browser, deleted with every password change and when the second factor is
turned off, so the cookie naming it stops working.

An owner may require the second factor of everyone in their account's subtree
(``Account.require_two_factor`` on the account or any account above it).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta
from typing import cast

import pyotp
from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import CursorResult, delete, or_, select, update
from werkzeug.security import check_password_hash

from widget_server.extensions import db
from widget_server.models import Account, RecoveryCode, RememberedDevice, User, utcnow
from widget_server.security.keys import fernet
from widget_server.services.accounts import check_may_administer
from widget_server.services.actors import Actor
from widget_server.services.errors import ServiceError
from widget_server.tenancy import ancestors

ISSUER = "widget-server"
RECOVERY_CODES = 10
REMEMBER_DAYS = 30
_STEP = 30
# What "now" is for TOTP codes (tests move it).
clock = time.time


def required_for(user: User) -> bool:
    """Whether the user's account, or one above it, requires a second factor."""
    account = user.account
    return account.require_two_factor or any(a.require_two_factor for a in ancestors(account))


def secret_of(user: User) -> str:
    if not user.totp_secret_encrypted:
        raise ServiceError("Two-factor sign-in is not set up.", kind="not_found")
    try:
        return fernet(current_app.config).decrypt(user.totp_secret_encrypted.encode()).decode()
    except InvalidToken as error:
        raise RuntimeError(f"The TOTP secret of user {user.id} does not decrypt with the "
                           "configured keys.") from error


def begin_enrolment(user: User) -> str:
    """A new secret for ``user``, stored but not yet asked for; committed. Refused while
    one is on: turn it off first (which needs the password)."""
    if user.totp_enabled:
        raise ServiceError("Two-factor sign-in is on already.", kind="conflict")
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = fernet(current_app.config).encrypt(secret.encode()).decode()
    user.totp_last_step = None
    db.session.commit()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    """What the QR code holds: the ``otpauth://`` URI authenticator apps read."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _digits(code: str) -> str:
    return "".join(code.split())


def _accept_code(user: User, code: str) -> bool:
    """Whether ``code`` is the user's TOTP code of a step after the last one accepted;
    that step is then the last one (flushed, in the caller's transaction)."""
    code = _digits(code)
    if not (len(code) == 6 and code.isascii() and code.isdigit()) \
            or not user.totp_secret_encrypted:
        return False
    totp = pyotp.TOTP(secret_of(user))
    now = int(clock()) // _STEP
    for step in (now - 1, now, now + 1):
        if not secrets.compare_digest(totp.at(step * _STEP), code):
            continue
        claimed = cast(CursorResult, db.session.execute(
            update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                      User.totp_last_step < step))
            .values(totp_last_step=step))).rowcount == 1
        if claimed:
            db.session.refresh(user)
        return claimed
    return False


def _code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalised_recovery_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes in place of any the user had (flushed); shown once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits, 10 hex digits, read in two halves
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_digest(raw)))
    db.session.flush()
    return codes


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn the second factor on once ``code`` shows the app holds the secret; committed.
    The recovery codes, to be shown once."""
    if user.totp_enabled:
        raise ServiceError("Two-factor sign-in is on already.", kind="conflict")
    if not user.totp_secret_encrypted:
        raise ServiceError("Start again: scan a new code.", "code")
    if not _accept_code(user, code):
        db.session.rollback()
        raise ServiceError("That code is not right; enter the six digits the app shows now.",
                           "code")
    user.totp_enabled = True
    codes = _new_recovery_codes(user)
    db.session.commit()
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; committed. The new ones, to be shown once."""
    if not user.totp_enabled:
        raise ServiceError("Two-factor sign-in is off.", kind="conflict")
    codes = _new_recovery_codes(user)
    db.session.commit()
    return codes


def unused_recovery_codes(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def _use_recovery_code(user: User, code: str) -> bool:
    raw = _normalised_recovery_code(code)
    if len(raw) != 10:
        return False
    return cast(CursorResult, db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _code_digest(raw),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()))).rowcount == 1


def verify(user: User, code: str) -> bool:
    """Whether ``code`` (a TOTP code or an unused recovery code) completes the user's
    sign-in; a code that passes is spent. Committed either way."""
    if not user.totp_enabled:
        return False
    passed = _accept_code(user, code) or _use_recovery_code(user, code)
    db.session.commit()
    return passed


def disable(user: User, password: str) -> None:
    """Turn the second factor off: needs the password; its secret, recovery codes and
    remembered browsers go. Committed."""
    if not (user.password_hash and check_password_hash(user.password_hash, password)):
        raise ServiceError("That is not your password.", "password")
    _turn_off(user)
    db.session.commit()


def _turn_off(user: User) -> None:
    user.totp_enabled, user.totp_secret_encrypted, user.totp_last_step = False, None, None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    forget_devices(user)


def turn_off_for(actor: Actor, user_id: int) -> User:
    """Turn another user's second factor off (their phone and recovery codes are lost);
    an owner above them or the command line does it. Committed."""
    user = db.session.get(User, user_id)
    if user is None:
        raise ServiceError("There is no such user.", kind="not_found")
    check_may_administer(actor, user.account_id, "user")
    if isinstance(actor, User) and actor.id == user.id:
        raise ServiceError("Turn your own off on the security page.", kind="forbidden")
    if not user.totp_enabled:
        raise ServiceError(f"{user.email} does not use two-factor sign-in.", kind="conflict")
    _turn_off(user)
    db.session.commit()
    return user


def remember_device(user: User) -> str:
    """A new remembered browser of ``user``'s for ``REMEMBER_DAYS``; committed. Its id."""
    device = RememberedDevice(id=secrets.token_urlsafe(16), user_id=user.id,
                              expires_at=utcnow() + timedelta(days=REMEMBER_DAYS))
    db.session.add(device)
    db.session.commit()
    return device.id


def device_remembered(user: User, device_id: str) -> bool:
    return db.session.scalar(select(RememberedDevice.id).where(
        RememberedDevice.id == device_id, RememberedDevice.user_id == user.id,
        RememberedDevice.expires_at > utcnow())) is not None


def forget_devices(user: User) -> None:
    """Every browser remembered for ``user`` asks for a code again (in the caller's
    transaction)."""
    db.session.execute(delete(RememberedDevice).where(RememberedDevice.user_id == user.id))


def forget_remembered_devices(user: User) -> None:
    """``forget_devices``, committed: the security page's "forget remembered browsers"."""
    forget_devices(user)
    db.session.commit()


def set_required(actor: Actor, account_id: int, required: bool) -> Account:
    """Require (or stop requiring) a second factor of everyone in the account's subtree.

    An owner turning it on for their own account must have it on themselves,
    so the setting never sends its own author to the enrolment page.
    """
    account = check_may_administer(actor, account_id, "account", "account_id")
    if required and isinstance(actor, User) and not actor.totp_enabled:
        raise ServiceError("Turn on two-factor sign-in for yourself first.",
                           "require_two_factor")
    account.require_two_factor = required
    db.session.commit()
    return account


def reencrypt_secrets() -> None:
    """Encrypt every stored TOTP secret again with the newest key (after a key rotation),
    so an older key can later be retired; committed."""
    keys = fernet(current_app.config)
    for user in db.session.scalars(select(User).where(User.totp_secret_encrypted.is_not(None))):
        assert user.totp_secret_encrypted is not None
        user.totp_secret_encrypted = keys.rotate(user.totp_secret_encrypted.encode()).decode()
    db.session.commit()
