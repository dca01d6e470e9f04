"""Single-use ids (form nonces, captcha solutions) stored until they expire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

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
