"""What the database knows against a call request, read in one round trip before its captcha.

A call request is refused early for a spent form nonce, a blocked number, a
number cooling down or a full cap. Asked one by one, that was four round
trips and four passes through SQLAlchemy on every request, admitted or
refused (a third of an admission's CPU, issue 15); asked together it is one
statement. None of it decides alone: the write transaction's insert of the
nonce (security/single_use.py) and the guarded upsert of the caps
(abuse/caps.py) stay the checks, so a request racing another is still
counted exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Connection, bindparam, exists, select

from widget_server import settings_version
from widget_server.abuse.blocklist import account_params, blocked_for_any
from widget_server.abuse.caps import Cap
from widget_server.abuse.cooldown import COOLED_UNTIL
from widget_server.models import USAGE_COUNTERS, USED_TOKENS

# Table columns, not mapped attributes: a Core select skips the ORM's compile step.
_USED = USED_TOKENS.c
_COUNTERS = USAGE_COUNTERS.c


@dataclass(frozen=True)
class Standing:
    """A call request's standing as read; ``cap_counts`` follow the caps asked about."""

    nonce_spent: bool
    number_blocked: bool
    cooled_until: datetime | None
    cap_counts: tuple[int, ...]
    # Read in the same round trip, for a request checked on a widget kept in memory
    # (calls/live_widgets.py): a kept widget is current while this has not moved.
    settings_version: int


@cache
def _statement(cap_count: int, account_count: int):
    """The read for a request with ``cap_count`` caps on a widget with ``account_count``
    accounts from its own up, built once per shape (a widget under a reseller has more
    of both): building costs more than running."""
    counts = [
        select(_COUNTERS.count).where(_COUNTERS.scope == bindparam(f"scope_{i}"),
                                      _COUNTERS.key == bindparam(f"key_{i}"),
                                      _COUNTERS.period == bindparam(f"period_{i}"))
        .scalar_subquery().label(f"count_{i}")
        for i in range(cap_count)
    ]
    return select(
        exists().where(_USED.kind == "nonce", _USED.token_id == bindparam("nonce_id"))
        .label("nonce_spent"),
        blocked_for_any(account_count).label("number_blocked"),
        COOLED_UNTIL.scalar_subquery().label("cooled_until"),
        settings_version.VERSION.scalar_subquery().label("settings_version"),
        *counts,
    )


def read_standing(connection: Connection, *, nonce_id: str, account_ids: list[int], e164: str,
                  caps: list[Cap], now: datetime) -> Standing:
    """The standing of a request with form nonce ``nonce_id`` for ``e164``, on a widget
    whose account and those above it are ``account_ids``, under ``caps``, read on
    ``connection``."""
    params: dict[str, object] = {"nonce_id": nonce_id, "e164": e164, "now": now,
                                 **account_params(account_ids)}
    for i, cap in enumerate(caps):
        params |= {f"scope_{i}": cap.scope, f"key_{i}": cap.key, f"period_{i}": cap.period}
    row = connection.execute(_statement(len(caps), len(account_ids)), params).one()
    spent, blocked, cooled_until, version, *counts = row
    return Standing(nonce_spent=bool(spent), number_blocked=bool(blocked),
                    cooled_until=cooled_until,
                    cap_counts=tuple(count or 0 for count in counts),
                    settings_version=version or 0)
