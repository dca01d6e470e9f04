"""One counter that every change to what a call request reads of a widget moves.

The call request reads a widget, its allowed domains, its account and the
accounts above it, and its provider's kind: two ORM queries that cost a fifth
of an admission's CPU (issue 15). A process keeps them in memory instead
(calls/live_widgets.py) and reads this counter, one small row, to know them
current: any change to a widget, a domain or an account, by any process, moves
it in the transaction of the change. A kept widget is
used only while the counter reads what it read before loading the widget, so
an edit, a pause, a revoked token or a suspension takes effect at the next
request, as when every request read the widget.

The counter moves from the session's flush (objects changed through the ORM)
and from ORM ``update``/``delete`` statements on those models (``do_orm_execute``);
the services write those models no other way. A change the counter missed
would leave a process acting on the old settings, so tests change each model
through the services and check that the next request sees it.
"""

from __future__ import annotations

from itertools import chain
from typing import cast

from sqlalchemy import Table, event, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from widget_server.extensions import db
from widget_server.models import Account, AllowedDomain, SettingsVersion, Widget

# Not provider accounts: a call request reads only their kind, fixed when one is made,
# and the worker writes their circuit breaker on every call (calls/circuit.py).
WATCHED = (Widget, AllowedDomain, Account)
_WATCHED_TABLES = frozenset(cast(Table, model.__table__) for model in WATCHED)

# An upsert, so a database whose row is gone (a test's TRUNCATE) counts on from 1.
_BUMP = text("INSERT INTO settings_version (id, value) VALUES (1, 1) "
             "ON CONFLICT (id) DO UPDATE SET value = settings_version.value + 1")
_VERSION = select(cast(Table, SettingsVersion.__table__).c.value).where(
    cast(Table, SettingsVersion.__table__).c.id == 1)


def current() -> int:
    """The counter as the request's transaction sees it; 0 before the first change."""
    return db.session.execute(_VERSION).scalar() or 0


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session: Session, _context, _instances) -> None:
    if any(isinstance(instance, WATCHED)
           for instance in chain(session.new, session.dirty, session.deleted)):
        session.execute(_BUMP)


@event.listens_for(Session, "do_orm_execute")
def _bump_on_bulk_write(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and any(
            mapper.local_table in _WATCHED_TABLES for mapper in state.all_mappers):
        state.session.execute(_BUMP)
