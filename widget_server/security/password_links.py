"""Links where a person chooses their password: an invitation (7 days) or a reset (1 hour).

A link is signed over SECRET_KEYS, with a salt per purpose so one kind never
opens as the other. Its payload names the user, a random link id and a
fingerprint of the password hash it was made for. It works once: its id is
stored as used (``models.UsedToken``) until it would have expired anyway, and
any password change moves the fingerprint, so every earlier link dies with it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from widget_server.db_ops import insert_ignore
from widget_server.extensions import db
from widget_server.models import UsedToken, User, utcnow

INVITATION = "invitation"
RESET = "reset"
MAX_AGE = {INVITATION: 7 * 86400, RESET: 3600}
# The salts of the links: a reset link kept its salt of before invitations existed.
_SALTS = {INVITATION: "widget-server.invitation", RESET: "widget-server.password-reset"}
USED_KIND = "password_link"


def password_fingerprint(user: User) -> str:
    """Changes with the password: what a password link or a known device is tied to."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEYS"], salt=_SALTS[purpose])


def link_token(user: User, purpose: str) -> str:
    """The token of a ``purpose`` link for ``user``: works once, within ``MAX_AGE``."""
    return _serializer(purpose).dumps({"u": user.id, "f": password_fingerprint(user),
                                       "i": secrets.token_urlsafe(16)})


@dataclass(frozen=True)
class PasswordLink:
    user: User
    link_id: str
    purpose: str

    def consume(self) -> bool:
        """Record the link as used in the current transaction; False if it was already
        (of two requests racing with one link, one records it)."""
        inserted = insert_ignore(UsedToken, [{
            "kind": USED_KIND, "token_id": self.link_id,
            "expires_at": utcnow() + timedelta(seconds=MAX_AGE[self.purpose])}])
        return (USED_KIND, self.link_id) in inserted


def read_link(token: str, purpose: str) -> PasswordLink | None:
    """The live, unused ``purpose`` link ``token`` is, or None."""
    try:
        payload = _serializer(purpose).loads(token, max_age=MAX_AGE[purpose])
        user = db.session.get(User, int(payload["u"]))
        fingerprint, link_id = str(payload["f"]), str(payload["i"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if user is None or fingerprint != password_fingerprint(user):
        return None
    used = db.session.scalar(select(UsedToken.token_id).where(UsedToken.kind == USED_KIND,
                                                              UsedToken.token_id == link_id))
    return None if used is not None else PasswordLink(user, link_id, purpose)
