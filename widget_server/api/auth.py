"""Who is calling: an API key in ``Authorization: Bearer wsk_...``, scoped to one account."""

from __future__ import annotations

import re

from flask import g, request

from widget_server.api.problems import ACCOUNT_SUSPENDED, UNAUTHENTICATED, Problem
from widget_server.models import Account
from widget_server.security.api_keys import account_for_key
from widget_server.services.accounts import suspended_in_lineage

# Checked before any lookup, so no odd bytes reach the database.
_KEY_SHAPE = re.compile(r"wsk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{1,100}")
PUBLIC_ENDPOINTS = {"api.openapi_document"}


def _refuse(detail: str, error: str | None = None) -> Problem:
    challenge = 'Bearer realm="widget-server"' + (f', error="{error}"' if error else "")
    return Problem(401, detail, type_=UNAUTHENTICATED, headers={"WWW-Authenticate": challenge})


def authenticate() -> None:
    """Before every API request but the document: the caller's account in ``g``."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("Send an API key as 'Authorization: Bearer wsk_...'.")
    token = token.strip()
    key = account_for_key(token) if _KEY_SHAPE.fullmatch(token) else None
    if key is None:
        raise _refuse("This API key is not valid or has been revoked.", "invalid_token")
    suspended = suspended_in_lineage(key.account)
    if suspended is not None:
        raise Problem(403, f"{suspended.name} is suspended: its API keys and those of the "
                           "accounts under it are refused until the account above it lifts "
                           "the suspension.", type_=ACCOUNT_SUSPENDED)
    g.api_account = key.account


def caller() -> Account:
    """The key's account: the root of everything this request may see or change."""
    return g.api_account
