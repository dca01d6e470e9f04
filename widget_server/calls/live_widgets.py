"""Widgets as a call request reads them, kept per process while the settings stand still.

Loading a widget with its domains, account and provider, and the accounts
above it, is two ORM queries and a fifth of a call request's CPU. A process
keeps what it loaded, keyed on the widget's public id, with the settings
version it read before loading (widget_server/settings_version.py). A call
request is checked on the kept widget and reads the version with its standing
(abuse/standing.py), or alone when a check refuses first; if the version moved,
the request is checked again on a fresh copy. So an edit anywhere, by any
process, is acted on by the next request, as when every request loaded the
widget, whether it refuses what was allowed or allows what was refused. Two
refusals read nothing, and so are told whatever the settings now say: a form
this process saw spent, and a cap it found full in the last second
(abuse/caps.py, ``KnownFull``), so a raised cap admits within that second.
The second holds for a cap other widgets keep full (an account's): any read
that sees newer settings than a kept widget's sends that widget's next
request to the read.

What is kept is detached from any session and only read: the request path
takes ids, numbers and flags off it and writes through Core statements. Of
the provider account it reads the kind alone, fixed when the account is made
(its circuit breaker, which the worker writes on every call, is read fresh by
the worker, calls/placing.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import LRUCache
from flask import current_app

from widget_server import settings_version
from widget_server.extensions import db
from widget_server.models import Account, Widget
from widget_server.tenancy import ancestors

# At most this many widgets per process (a few kilobytes each).
MAX_WIDGETS = 5_000


@dataclass(frozen=True)
class LiveWidget:
    widget: Widget
    # The accounts above the widget's, nearest first.
    above: tuple[Account, ...]
    version: int


class LiveWidgets:
    """One app's kept widgets, shared by its threads."""

    def __init__(self) -> None:
        self.cache: LRUCache[str, LiveWidget] = LRUCache(MAX_WIDGETS)
        self.lock = threading.Lock()
        # The newest settings version any read in this process has seen: a kept
        # widget older than it is known stale without a read of its own.
        self.newest_version = 0

    def saw_version(self, version: int) -> None:
        with self.lock:
            self.newest_version = max(self.newest_version, version)

    def kept(self, public_id: str) -> LiveWidget | None:
        """The widget as kept, without asking whether it is still current: the caller
        reads the settings version later and compares it with ``version``."""
        with self.lock:
            return self.cache.get(public_id)

    def get(self, public_id: str, load: Callable[[str], Widget | None]) -> LiveWidget | None:
        """The widget ``public_id`` names with the accounts above it, as ``load`` reads
        it (with every relationship the caller uses), current as of this request."""
        version = settings_version.current()
        self.saw_version(version)
        with self.lock:
            kept = self.cache.get(public_id)
        if kept is not None and kept.version == version:
            return kept
        widget = load(public_id)
        if widget is None:  # gone: a kept copy would be checked first, in vain, every time
            with self.lock:
                self.cache.pop(public_id, None)
            return None
        live = LiveWidget(widget=widget, above=tuple(ancestors(widget.account)),
                          version=version)
        for instance in (widget, widget.account, widget.provider_account, *widget.domains,
                         *live.above):
            if instance is not None and instance in db.session:  # domains go with it
                db.session.expunge(instance)
        with self.lock:
            self.cache[public_id] = live
        return live


def _live_widgets() -> LiveWidgets:
    kept = current_app.extensions.get("live_widgets")
    if kept is None:
        kept = current_app.extensions.setdefault("live_widgets", LiveWidgets())
    return kept


def live_widget(public_id: str, load: Callable[[str], Widget | None]) -> LiveWidget | None:
    return _live_widgets().get(public_id, load)


def kept_widget(public_id: str) -> LiveWidget | None:
    return _live_widgets().kept(public_id)


def moved_since(live: LiveWidget, version: int) -> bool:
    """Whether the settings ``version`` a read has just seen is not ``live``'s; noted
    as seen, for ``known_stale``."""
    _live_widgets().saw_version(version)
    return version != live.version


def known_stale(live: LiveWidget) -> bool:
    """Whether a read in this process has seen settings newer than ``live``'s."""
    return live.version < _live_widgets().newest_version
