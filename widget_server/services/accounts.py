"""Accounts: create one under a parent, rename it, set its allowances.

The command line, the management API and the admin all change accounts
through the functions here. An account's place in the tree (its lineage) is
one rule: the operator has resellers and clients under it, a reseller has
clients, a client has nobody. Its name is unique among its siblings; its
allowances fit within its parent's and above its children's, and its daily
allowance never exceeds its monthly one. An account's name and allowance are
its parent's decision, so no actor changes its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from widget_server.extensions import db
from widget_server.models import Account, User
from widget_server.services.actors import Actor, acting_account
from widget_server.services.errors import ServiceError
from widget_server.tenancy import in_subtree, sibling_named

OWNER = "owner"
KINDS = ("reseller", "client")
NAME_MAX = 120
ALLOWANCE_MAX = 2**31 - 1
# Which kinds of account may sit under each kind.
CHILD_KINDS = {"operator": ("reseller", "client"), "reseller": ("client",), "client": ()}


def operator_account(name: str = "operator") -> Account:
    """The installation's top account, created (as ``name``) the first time it is asked for."""
    operator = db.session.scalar(select(Account).where(Account.kind == "operator",
                                                       Account.parent_id.is_(None)))
    if operator is None:
        operator = Account(name=name, kind="operator")
        db.session.add(operator)
        db.session.commit()
    return operator


def check_may_administer(actor: Actor, account_id: int, what: str, field: str | None = None
                         ) -> Account:
    """The account ``account_id`` if ``actor`` may manage its accounts, people and keys.

    Not found outside the actor's subtree (whatever the role), else forbidden
    unless the actor is an owner (an API key or the command line acts as one).
    """
    if not in_subtree(acting_account(actor), account_id):
        raise ServiceError(f"There is no such {what}.", field, kind="not_found")
    if isinstance(actor, User) and actor.role != OWNER:
        raise ServiceError("Only owners manage accounts, users and API keys.", field,
                           kind="forbidden")
    return db.session.get_one(Account, account_id)


def lineage_problem(parent: Account, kind: str) -> ServiceError | None:
    """Why an account of ``kind`` cannot sit under ``parent``, or None."""
    if kind not in KINDS:
        return ServiceError("Use one of: " + ", ".join(KINDS) + ".", "kind")
    if not CHILD_KINDS[parent.kind]:
        return ServiceError("A client account cannot have accounts under it.", "parent_id",
                            kind="forbidden")
    if kind not in CHILD_KINDS[parent.kind]:
        return ServiceError("Only the operator has resellers under it.", "kind")
    return None


def checked_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ServiceError("Enter a name.", "name")
    if len(name.strip()) > NAME_MAX:
        raise ServiceError(f"Use at most {NAME_MAX} characters.", "name")
    if not name.strip().isprintable():
        raise ServiceError("Use printable characters only.", "name")
    return name.strip()


def allowance_within_parent(parent: Account, daily: int | None,
                            monthly: int | None) -> str | None:
    """Why a child's allowance exceeds its parent's, or None when it fits."""
    if parent.daily_call_cap is not None and (daily is None or daily > parent.daily_call_cap):
        return f"The daily allowance cannot exceed {parent.name}'s own ({parent.daily_call_cap})."
    if parent.monthly_call_cap is not None and (
            monthly is None or monthly > parent.monthly_call_cap):
        return (f"The monthly allowance cannot exceed {parent.name}'s own "
                f"({parent.monthly_call_cap}).")
    return None


def _allowance_field(problem: str) -> str:
    return "daily_call_cap" if "daily" in problem else "monthly_call_cap"


def check_allowance(parent: Account, daily: int | None, monthly: int | None,
                    children: Iterable[Account] = ()) -> None:
    """Each allowance a whole number or None (the default), the daily within the monthly,
    both within ``parent``'s and not below any of ``children``'s."""
    for field, value in (("daily_call_cap", daily), ("monthly_call_cap", monthly)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= ALLOWANCE_MAX):
            raise ServiceError(f"Use a whole number from 0 to {ALLOWANCE_MAX}, or none.", field)
    if daily is not None and monthly is not None and daily > monthly:
        raise ServiceError(f"The daily allowance cannot exceed the monthly one ({monthly}).",
                           "daily_call_cap")
    problem = allowance_within_parent(parent, daily, monthly)
    if problem:
        raise ServiceError(problem, _allowance_field(problem))
    proposed = Account(name=parent.name, daily_call_cap=daily, monthly_call_cap=monthly)
    for child in children:
        problem = allowance_within_parent(proposed, child.daily_call_cap,
                                          child.monthly_call_cap)
        if problem:
            raise ServiceError(f"{child.name}, below this account, has a larger allowance; "
                               "lower that first.", _allowance_field(problem))


def _check_name_free(parent: Account, name: str, but: Account | None = None) -> None:
    # The siblings may be other tenants': whether a name is taken among them is for
    # the parent to learn.
    if sibling_named(parent.id, name, but=but) is not None:
        raise ServiceError(f"{parent.name} has an account with this name already.", "name",
                           kind="conflict")


def create_account(actor: Actor, *, name: str, parent_id: int | None = None,
                   kind: str = "client", daily: int | None = None,
                   monthly: int | None = None) -> Account:
    """A new account under ``parent_id`` (else the actor's own account), committed."""
    if parent_id is None:
        parent_id = acting_account(actor).id
    try:
        parent = check_may_administer(actor, parent_id, "account", "parent_id")
    except ServiceError as error:
        if error.kind != "not_found":
            raise
        raise ServiceError("There is no such account under yours.", "parent_id") from None
    if problem := lineage_problem(parent, kind):
        raise problem
    name = checked_name(name)
    check_allowance(parent, daily, monthly)
    _check_name_free(parent, name)
    account = Account(name=name, kind=kind, parent_id=parent.id, daily_call_cap=daily,
                      monthly_call_cap=monthly)
    db.session.add(account)
    db.session.commit()
    return account


def update_account(actor: Actor, account_id: int, *, name: str | None = None,
                   allowance: tuple[int | None, int | None] | None = None) -> Account:
    """Rename the account and/or set its (daily, monthly) allowance; committed together."""
    account = check_may_administer(actor, account_id, "account")
    if account.id == acting_account(actor).id and (name, allowance) != (None, None):
        what = "allowance" if allowance is not None else "name"
        raise ServiceError(f"An account's {what} is set by its parent, not by itself.",
                           kind="forbidden")
    parent = account.parent
    if parent is None:  # a root changes only itself, which is refused above: nothing to do
        return account
    if allowance is not None:
        children = db.session.scalars(select(Account).where(Account.parent_id == account.id))
        check_allowance(parent, *allowance, children)
    if name is not None:
        name = checked_name(name)
        _check_name_free(parent, name, but=account)
        account.name = name
    if allowance is not None:
        account.daily_call_cap, account.monthly_call_cap = allowance
    db.session.commit()
    return account


def set_allowance(actor: Actor, account_id: int, daily: int | None,
                  monthly: int | None) -> Account:
    return update_account(actor, account_id, allowance=(daily, monthly))
