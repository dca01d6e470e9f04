"""Single-use ids (form nonces, captcha solutions) stored until they expire."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import delete
from sqlalchemy.engine import CursorResult

from widget_server.db_ops import insert_ignore
from widget_server.errors import Refusal
from widget_server.extensions import db
from widget_server.models import UsedToken, utcnow


@dataclass(frozen=True)
class SingleUse:
    """An id that may be used once, and the refusal a second use gets."""

    kind: str
    token_id: str
    ttl_seconds: int
    refusal: Refusal

    def consume(self) -> None:
        """Record the id as used in the current transaction, or raise the refusal."""
        consume_all([self])


def consume_all(uses: list[SingleUse]) -> None:
    """Record every id as used in one statement, or raise the first one's refusal.

    The insert is atomic: of two requests racing with one id, one inserts
    and the other finds the row and is refused. Call inside the transaction
    that acts on the ids, so a refusal rolls them all back.
    """
    refuse_unless_recorded(uses, insert_ignore(UsedToken, used_rows(uses)))


def used_rows(uses: list[SingleUse]) -> list[dict]:
    """The ``used_tokens`` rows that record ``uses``, kept until each would expire."""
    now = utcnow()
    return [{"kind": use.kind, "token_id": use.token_id,
             "expires_at": now + timedelta(seconds=use.ttl_seconds)} for use in uses]


def refuse_unless_recorded(uses: list[SingleUse], inserted: set[tuple]) -> None:
    """Raise the refusal of the first use whose (kind, id) the insert did not record."""
    for use in uses:
        if (use.kind, use.token_id) not in inserted:
            raise use.refusal


def purge_expired() -> int:
    result = db.session.execute(delete(UsedToken).where(UsedToken.expires_at < utcnow()))
    db.session.commit()
    return cast(CursorResult, result).rowcount


class KnownSpent:
    """Ids of one kind that this process has seen spent, for as long as they could be
    sent: a spent id never becomes unused again, so a replay of one is refused
    without a read (a replayed form is the cheapest attack on the call request).
    Only a shortcut to a refusal: the insert that spends an id stays the check."""

    def __init__(self, ttl_seconds: int, max_ids: int = 50_000) -> None:
        self.ids: TTLCache[str, bool] = TTLCache(max_ids, ttl_seconds)
        self.lock = threading.Lock()

    def add(self, token_id: str) -> None:
        with self.lock:
            self.ids[token_id] = True

    def __contains__(self, token_id: str) -> bool:
        with self.lock:
            return token_id in self.ids


def known_spent(kind: str, ttl_seconds: int) -> KnownSpent:
    """This app's ``KnownSpent`` for ``kind``, shared by its threads."""
    kept = current_app.extensions.setdefault("known_spent", {})
    if kind not in kept:
        kept.setdefault(kind, KnownSpent(ttl_seconds))
    return kept[kind]
