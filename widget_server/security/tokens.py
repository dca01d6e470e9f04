"""Signed tokens of the visitor's path.

- The embed token names a widget and its token version. It does not expire
  (it lives in the site owner's HTML); bumping the widget's version revokes it.
- The form nonce is short-lived and single-use: its id is stored when used.
- The call token lets only the frame that placed a call read its status.

All are signed with itsdangerous over the list of secret keys: the newest
(last) signs, every key verifies, so a key rotation keeps live tokens valid.
Replay and revocation key on ids inside the signed payload, never on the
token text.
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from widget_server.errors import Refusal

_EMBED_SALT = "widget-server.embed-token"
_NONCE_SALT = "widget-server.form-nonce"
_CALL_SALT = "widget-server.call-token"


def _keys() -> list[str]:
    return current_app.config["SECRET_KEYS"]


def embed_token(widget) -> str:
    return URLSafeSerializer(_keys(), salt=_EMBED_SALT).dumps(
        {"w": widget.public_id, "v": widget.token_version}
    )


def read_embed_token(token: str | None) -> tuple[str, int]:
    """The widget public id and token version in ``token``."""
    if not token:
        raise Refusal("token_missing", "This widget has no token; check the embed snippet.")
    try:
        payload = URLSafeSerializer(_keys(), salt=_EMBED_SALT).loads(token)
        return str(payload["w"]), int(payload["v"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Refusal(
            "token_invalid", "This widget's token is not valid; check the embed snippet.",
            status=403,
        ) from None


def form_nonce(widget) -> str:
    return URLSafeTimedSerializer(_keys(), salt=_NONCE_SALT).dumps(
        {"w": widget.public_id, "n": secrets.token_urlsafe(12)}
    )


def read_form_nonce(nonce: str | None, widget) -> str:
    """The nonce's id, once its signature, age and widget are checked."""
    if not nonce:
        raise Refusal("nonce_missing", "The form is incomplete; please reload it.")
    serializer = URLSafeTimedSerializer(_keys(), salt=_NONCE_SALT)
    try:
        payload = serializer.loads(nonce, max_age=current_app.config["FORM_NONCE_MAX_AGE"])
    except SignatureExpired:
        raise Refusal("nonce_expired", "This form has expired; please reload it.",
                      status=403) from None
    except BadSignature:
        raise Refusal("nonce_invalid", "This form is not valid; please reload it.",
                      status=403) from None
    if not isinstance(payload, dict) or payload.get("w") != widget.public_id:
        raise Refusal("nonce_invalid", "This form is not valid; please reload it.", status=403)
    return str(payload.get("n"))


def call_token(call) -> str:
    return URLSafeSerializer(_keys(), salt=_CALL_SALT).dumps({"c": call.public_id})


def call_token_matches(token: str | None, public_id: str) -> bool:
    if not token:
        return False
    try:
        payload = URLSafeSerializer(_keys(), salt=_CALL_SALT).loads(token)
    except BadSignature:
        return False
    return isinstance(payload, dict) and payload.get("c") == public_id
