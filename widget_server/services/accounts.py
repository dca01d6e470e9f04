"""Accounts: create one under a parent, rename it, set its allowances and limits,
suspend it and delete it.

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
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from widget_server.extensions import db
from widget_server.models import (
    Account,
    AllowedDomain,
    ApiKey,
    BlockedNumber,
    ProviderAccount,
    User,
    WebhookEndpoint,
    Widget,
    utcnow,
)
from widget_server.services.actors import Actor, acting_account
from widget_server.services.errors import ServiceError
from widget_server.tenancy import ancestors, in_subtree, sibling_named, subtree_ids

OWNER = "owner"


class Unset:
    """A limit not given (None is a value: no limit)."""


UNSET = Unset()
KINDS = ("reseller", "client")
NAME_MAX = 120
ALLOWANCE_MAX = 2**31 - 1
MAX_WIDGETS_TOP = 100_000
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
    account = db.session.get(Account, account_id)
    if (account is None or account.deleted_at is not None
            or not in_subtree(acting_account(actor), account_id)):
        raise ServiceError(f"There is no such {what}.", field, kind="not_found")
    if isinstance(actor, User) and actor.role != OWNER:
        raise ServiceError("Only owners manage accounts, users and API keys.", field,
                           kind="forbidden")
    return account


def suspended_in_lineage(account: Account) -> Account | None:
    """``account`` or the nearest account above it that is suspended, or None.

    A suspension reaches down: a suspended reseller's clients are suspended too.
    """
    return next((each for each in (account, *ancestors(account))
                 if each.suspended_at is not None), None)


def _parents_decision(actor: Actor, account_id: int, doing: str) -> Account:
    """The account ``account_id`` if ``actor`` may decide for it as a parent does."""
    account = check_may_administer(actor, account_id, "account")
    if account.id == acting_account(actor).id or account.parent is None:
        raise ServiceError(f"An account is {doing} by an account above it, not by itself.",
                           kind="forbidden")
    return account


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


def live_widget_count(account: Account) -> int:
    return db.session.scalar(select(func.count()).select_from(Widget).where(
        Widget.account_id == account.id, Widget.deleted_at.is_(None))) or 0


def _checked_max_widgets(account: Account, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 0 <= value <= MAX_WIDGETS_TOP:
        raise ServiceError(f"Use a whole number from 0 to {MAX_WIDGETS_TOP}, or none for no "
                           "limit.", "max_widgets")
    live = live_widget_count(account)
    if value < live:
        raise ServiceError(f"{account.name} has {live} widgets now: allow at least {live}, "
                           "or delete some of them first.", "max_widgets")
    return value


def update_account(actor: Actor, account_id: int, *, name: str | None = None,
                   allowance: tuple[int | None, int | None] | None = None,
                   may_add_providers: bool | None = None,
                   max_widgets: int | Unset | None = UNSET) -> Account:
    """Rename the account, set its (daily, monthly) allowance, whether it adds provider
    accounts of its own and how many widgets it may have; committed together."""
    account = check_may_administer(actor, account_id, "account")
    changes = {"name": name is not None, "allowance": allowance is not None,
               "limits": may_add_providers is not None or max_widgets is not UNSET}
    if account.id == acting_account(actor).id and any(changes.values()):
        what = next(key for key, changed in changes.items() if changed)
        raise ServiceError(f"An account's {what} is set by its parent, not by itself.",
                           kind="forbidden")
    parent = account.parent
    if parent is None:  # a root changes only itself, which is refused above: nothing to do
        return account
    if allowance is not None:
        children = db.session.scalars(select(Account).where(Account.parent_id == account.id,
                                                            Account.deleted_at.is_(None)))
        check_allowance(parent, *allowance, children)
    if may_add_providers is not None and not isinstance(may_add_providers, bool):
        raise ServiceError("Use true or false.", "may_add_providers")
    if not isinstance(max_widgets, Unset):
        account.max_widgets = _checked_max_widgets(account, max_widgets)
    if name is not None:
        name = checked_name(name)
        _check_name_free(parent, name, but=account)
        account.name = name
    if allowance is not None:
        account.daily_call_cap, account.monthly_call_cap = allowance
    if may_add_providers is not None:
        account.may_add_providers = may_add_providers
    db.session.commit()
    return account


def set_allowance(actor: Actor, account_id: int, daily: int | None,
                  monthly: int | None) -> Account:
    return update_account(actor, account_id, allowance=(daily, monthly))


# --- a parent's limits on its child ------------------------------------------------------


def check_may_add_provider(actor: Actor | None, owner: Account) -> None:
    """Refused when ``owner`` adds a provider account of its own and its parent said no.

    An account above ``owner`` (or the command line, None) may still add one for it:
    the limit is on the client.
    """
    if owner.may_add_providers or actor is None or acting_account(actor).id != owner.id:
        return
    parent = owner.parent
    raise ServiceError(f"{parent.name if parent else 'Your provider'} does not let "
                       f"{owner.name} add provider accounts of its own (may_add_providers); "
                       "use one of the provider accounts above it.", "may_add_providers",
                       kind="forbidden")


def check_widget_room(owner: Account) -> None:
    """Refused when ``owner`` has as many live widgets as its parent allows."""
    if owner.max_widgets is None or live_widget_count(owner) < owner.max_widgets:
        return
    parent = owner.parent
    raise ServiceError(f"{owner.name} may have at most {owner.max_widgets} widgets "
                       f"(max_widgets, set by {parent.name if parent else 'its parent'}): "
                       "delete one first, or ask for more.", "max_widgets", kind="conflict")


# --- suspending and deleting ---------------------------------------------------------------


def set_suspended(actor: Actor, account_id: int, suspended: bool) -> Account:
    """Suspend the account (and with it everything under it), or lift the suspension."""
    account = _parents_decision(actor, account_id, "suspended")
    if suspended and account.suspended_at is None:
        account.suspended_at = utcnow()
    elif not suspended:
        account.suspended_at = None
    db.session.commit()
    return account


@dataclass(frozen=True)
class Deletion:
    """What deleting an account removes: said on the confirmation, then done."""

    account: Account
    widgets: int
    users: int
    provider_accounts: int
    api_keys: int
    webhooks: int
    blocked_numbers: int
    children: int


def _count(model, account_id: int, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(
        model.account_id == account_id, *where)) or 0


def deletion_of(actor: Actor, account_id: int) -> Deletion:
    """What ``delete_account`` would remove, removing nothing."""
    account = _parents_decision(actor, account_id, "deleted")
    return Deletion(
        account=account,
        widgets=_count(Widget, account.id, Widget.deleted_at.is_(None)),
        users=_count(User, account.id),
        provider_accounts=_count(ProviderAccount, account.id),
        api_keys=_count(ApiKey, account.id, ApiKey.revoked_at.is_(None)),
        webhooks=_count(WebhookEndpoint, account.id),
        blocked_numbers=_count(BlockedNumber, account.id),
        children=db.session.scalar(select(func.count()).select_from(Account).where(
            Account.parent_id == account.id, Account.deleted_at.is_(None))) or 0)


def delete_account(actor: Actor, account_id: int) -> Deletion:
    """Delete the account with its widgets, people, keys and settings; its calls stay."""
    deletion = deletion_of(actor, account_id)
    account = deletion.account
    if deletion.children:
        raise ServiceError(f"{account.name} has {deletion.children} accounts under it: "
                           "delete them first.", kind="conflict")
    now = utcnow()
    widget_ids = select(Widget.id).where(Widget.account_id == account.id)
    db.session.execute(delete(AllowedDomain).where(AllowedDomain.widget_id.in_(widget_ids)))
    for widget in db.session.scalars(select(Widget).where(Widget.account_id == account.id)):
        widget.deleted_at = widget.deleted_at or now
        widget.provider_account_id = None
    # Only widgets of this account and of those below (all deleted by now) may call
    # through its provider accounts; deleted ones let go of them.
    providers = select(ProviderAccount.id).where(ProviderAccount.account_id == account.id)
    db.session.execute(update(Widget).where(Widget.provider_account_id.in_(providers))
                       .values(provider_account_id=None))
    db.session.execute(delete(ProviderAccount).where(ProviderAccount.account_id == account.id))
    db.session.execute(delete(User).where(User.account_id == account.id))
    for endpoint in db.session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.account_id == account.id)):
        db.session.delete(endpoint)
    db.session.execute(delete(BlockedNumber).where(BlockedNumber.account_id == account.id))
    for key in db.session.scalars(select(ApiKey).where(ApiKey.account_id == account.id,
                                                       ApiKey.revoked_at.is_(None))):
        key.revoked_at = now
    account.deleted_at = now
    db.session.commit()
    return deletion


def live_subtree_ids(account: Account) -> list[int]:
    """The ids of ``account`` and the live (not deleted) accounts under it."""
    ids = subtree_ids(account)
    return list(db.session.scalars(select(Account.id).where(Account.id.in_(ids),
                                                            Account.deleted_at.is_(None))))
