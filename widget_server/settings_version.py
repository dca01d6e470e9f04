"""One counter that every change to what a call request reads of a widget moves.

The call request reads a widget, its allowed domains, its account and the
accounts above it, and its provider's kind: two ORM queries that cost a fifth
of an admission's CPU (issue 15). A process keeps them in memory instead
(calls/live_widgets.py) and reads this counter, one small row, to know them
current. Database triggers (migration 0020) move it in the statement of any
insert, update or delete on ``widgets``, ``allowed_domains`` or ``accounts``,
whoever writes: the services, a data migration, SQL typed in psql, a process
still running older code. A kept widget is used only while the counter reads
what it read before loading the widget, so an edit, a pause, a revoked token or
a suspension takes effect at the next request, as when every request read the
widget (but for the two refusals that read nothing: calls/live_widgets.py).

Provider accounts are not watched: a call request reads only their kind, fixed
when one is made, and the worker writes their circuit breaker on every call.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Connection, Table, select

from widget_server.extensions import db
from widget_server.models import SettingsVersion

_COLUMNS = cast(Table, SettingsVersion.__table__).c
VERSION = select(_COLUMNS.value).where(_COLUMNS.id == 1)


def current(connection: Connection | None = None) -> int:
    """The counter as ``connection`` (by default the session's) sees it; 0 before the
    first change."""
    if connection is None:
        connection = db.session.connection()
    return connection.execute(VERSION).scalar() or 0
