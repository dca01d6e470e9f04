"""Who acts: a signed-in ``User``, or an ``Account`` acting with every right over its subtree.

An API key acts as its account; the command line acts as the operator's. A
user acts within their account's subtree, and read-only users change nothing.
"""

from __future__ import annotations

from widget_server.models import Account, User, Widget
from widget_server.services.errors import ServiceError
from widget_server.tenancy import in_subtree

Actor = User | Account
READ_ONLY = "read-only"


def acting_account(actor: Actor) -> Account:
    """The root of everything ``actor`` may see and change."""
    return actor.account if isinstance(actor, User) else actor


def check_may_change(actor: Actor, account_id: int | None, what: str) -> None:
    """Not found outside the actor's subtree (whatever the role), else forbidden when read-only.

    ``account_id`` None: something new, for the actor's subtree.
    """
    if account_id is not None and not in_subtree(acting_account(actor), account_id):
        raise ServiceError(f"There is no such {what}.", kind="not_found")
    if isinstance(actor, User) and actor.role == READ_ONLY:
        raise ServiceError(f"Read-only users cannot change {what}s.", kind="forbidden")


def check_widget(actor: Actor, widget: Widget) -> None:
    """The actor may change this live widget: else not found (outside its subtree, or
    deleted), or forbidden (read-only)."""
    if widget.deleted_at is not None:
        raise ServiceError("There is no such widget.", kind="not_found")
    check_may_change(actor, widget.account_id, "widget")
