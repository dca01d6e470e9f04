"""Tenancy: every query of the admin and the API is scoped to the caller's subtree.

The account tree is operator > resellers > clients. An account sees itself
and its descendants, never a sibling or an ancestor's other children. Objects
outside the subtree are reported as not found (404), never as forbidden, so
their existence does not leak.

Account names are unique among siblings (one parent), case-insensitively, so
"name taken" only ever speaks of accounts under a parent the caller sees.
Where a name alone is ambiguous (the command line), an account is named by
its path from the top, ``north/acme``, or by its id, ``#12``.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, literal, select
from werkzeug.exceptions import NotFound

from widget_server.extensions import db
from widget_server.models import Account


def subtree_ids(account: Account) -> list[int]:
    """The ids of ``account`` and every account under it (a recursive CTE)."""
    tree = select(Account.id).where(Account.id == account.id).cte("tree", recursive=True)
    tree = tree.union_all(select(Account.id).join(tree, Account.parent_id == tree.c.id))
    return list(db.session.scalars(select(tree.c.id)))


def _ancestors_statement():
    up = (select(Account.id, Account.parent_id, literal(1).label("depth"))
          .where(Account.id == bindparam("parent_id")).cte("up", recursive=True))
    up = up.union_all(select(Account.id, Account.parent_id, up.c.depth + 1)
                      .join(up, Account.id == up.c.parent_id))
    return select(Account).join(up, Account.id == up.c.id).order_by(up.c.depth)


# Built once: it is on every call request's path, and building it costs ten times
# what running it does.
_ANCESTORS = _ancestors_statement()


def _suspended_statement():
    lineage = (select(Account.id, Account.parent_id, Account.suspended_at)
               .where(Account.id == bindparam("account_id")).cte("lineage", recursive=True))
    lineage = lineage.union_all(
        select(Account.id, Account.parent_id, Account.suspended_at)
        .join(lineage, Account.id == lineage.c.parent_id))
    return select(func.count()).select_from(lineage).where(lineage.c.suspended_at.is_not(None))


# Built once, like _ANCESTORS: every embed request asks it.
_SUSPENDED = _suspended_statement()


def lineage_suspended(account_id: int) -> bool:
    """Whether account ``account_id`` or any account above it is suspended (one query)."""
    return bool(db.session.scalar(_SUSPENDED, {"account_id": account_id}))


def ancestors(account: Account) -> list[Account]:
    """The accounts above ``account``, nearest first (a recursive CTE: one query)."""
    return accounts_from(account.parent_id)


def accounts_from(account_id: int | None) -> list[Account]:
    """Account ``account_id`` and those above it, nearest first; none for None."""
    if account_id is None:
        return []
    return list(db.session.scalars(_ANCESTORS, {"parent_id": account_id}))


def in_subtree(account: Account, candidate_account_id: int | None) -> bool:
    return candidate_account_id is not None and candidate_account_id in subtree_ids(account)


def get_scoped(model, object_id: object, account: Account):
    """``model`` row ``object_id`` if its account is in ``account``'s subtree, else 404.

    ``model`` is ``Account`` itself (a deleted one is not found) or any model with an
    ``account_id``.
    """
    found = db.session.scalar(scoped_select(model, account).where(model.id == object_id))
    if found is None:
        raise NotFound()
    return found


def scoped_select(model, account: Account):
    """A select of ``model`` rows within ``account``'s subtree, to filter further.

    Accounts are the live ones: a deleted account is kept only for the calls its
    reports count, which are selected by ``CallRequest`` (the reports count them).
    """
    if model is Account:
        return select(Account).where(Account.id.in_(subtree_ids(account)),
                                     Account.deleted_at.is_(None))
    return select(model).where(model.account_id.in_(subtree_ids(account)))


def sibling_named(parent_id: int | None, name: str, *, but: Account | None = None
                  ) -> Account | None:
    """The live account under ``parent_id`` called ``name`` in any case, other than ``but``."""
    statement = select(Account).where(Account.parent_id.is_(None) if parent_id is None
                                      else Account.parent_id == parent_id,
                                      func.lower(Account.name) == name.lower(),
                                      Account.deleted_at.is_(None))
    if but is not None:
        statement = statement.where(Account.id != but.id)
    return db.session.scalar(statement)


def account_path(account: Account) -> str:
    """``reseller/client``: the names from below the operator down to ``account``."""
    chain = [account, *ancestors(account)]
    return "/".join(a.name for a in reversed(chain) if a.kind != "operator" or a is account)


def accounts_by_reference(reference: str) -> list[Account]:
    """The accounts ``reference`` may mean: ``#id``, a name, or a path of names.

    A whole name is tried first (a name may hold a "/"); a path ``a/b`` is an
    account named b under one named a, the top of the path anywhere above. Deleted
    accounts are no longer named.
    """
    if reference.startswith("#") and reference[1:].isascii() and reference[1:].isdigit():
        found = db.session.get(Account, int(reference[1:])) if len(reference) < 12 else None
        return [found] if found and found.deleted_at is None else []
    named = select(Account).where(func.lower(Account.name) == reference.lower(),
                                  Account.deleted_at.is_(None))
    matches = list(db.session.scalars(named.order_by(Account.id)))
    if matches or "/" not in reference:
        return matches
    *above, last = [part.lower() for part in reference.split("/")]
    return [account for account in db.session.scalars(
                select(Account).where(func.lower(Account.name) == last,
                                      Account.deleted_at.is_(None)).order_by(Account.id))
            if [a.name.lower() for a in ancestors(account)][:len(above)] == above[::-1]]
