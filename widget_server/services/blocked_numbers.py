"""An account's block list: put a number on it, take one off.

Owners and members (not read-only users) change the lists of their subtree.
A number is read by abuse/blocklist.py (any valid number of any country,
stored as E.164), which also answers the call path's lookups.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, text

from widget_server.abuse.blocklist import BlockedNumberError, normalise_blocked_number
from widget_server.extensions import db
from widget_server.models import BlockedNumber, utcnow
from widget_server.services.actors import Actor, check_may_change
from widget_server.services.errors import ServiceError

# Both databases read this alike: of two requests racing to block one number,
# one inserts it and the other gets no row back (no unique-violation error).
_COLUMNS = BlockedNumber.__table__.c
_INSERT = text(
    "INSERT INTO blocked_numbers (account_id, e164, created_at) "
    "VALUES (:account_id, :e164, :created_at) ON CONFLICT DO NOTHING RETURNING id"
).bindparams(*[bindparam(name, type_=_COLUMNS[name].type)
               for name in ("account_id", "e164", "created_at")])


def read_number(raw: object, country: str | None = None) -> str:
    """``raw`` as E.164 (read in ``country`` without a +country prefix), else the error."""
    try:
        return normalise_blocked_number(raw, country)
    except BlockedNumberError as error:
        raise ServiceError(str(error), error.field) from None


def find_blocked(account_id: int, e164: str) -> BlockedNumber | None:
    return db.session.scalar(select(BlockedNumber).where(
        BlockedNumber.account_id == account_id, BlockedNumber.e164 == e164))


def block_number(actor: Actor, account_id: int, number: object,
                 country: str | None = None) -> tuple[BlockedNumber, bool]:
    """Put the number on the account's list, committed: (its entry, whether it is new).

    Blocking a number twice is harmless: the second time finds the first entry.
    """
    check_may_change(actor, account_id, "block list")
    e164 = read_number(number, country)
    inserted = db.session.execute(_INSERT, {"account_id": account_id, "e164": e164,
                                            "created_at": utcnow()}).scalar()
    db.session.commit()
    if inserted is None:
        entry = find_blocked(account_id, e164)
        assert entry is not None, "the insert stopped on this entry"
        return entry, False
    return db.session.get_one(BlockedNumber, inserted), True


def unblock(actor: Actor, account_id: int, *, entry_id: int | None = None,
            number: object = None, country: str | None = None) -> BlockedNumber:
    """Take the entry ``entry_id``, or the ``number``, off the account's list; committed.

    An entry that is not there is not found whatever the actor's role.
    """
    if entry_id is None:
        e164 = read_number(number, country)
        entry = find_blocked(account_id, e164)
        if entry is None:
            raise ServiceError(f"{e164} is not on this account's block list.", "number",
                               kind="not_found")
    else:
        entry = db.session.scalar(select(BlockedNumber).where(
            BlockedNumber.account_id == account_id, BlockedNumber.id == entry_id))
        if entry is None:
            raise ServiceError("There is no such entry on the block list.", kind="not_found")
    check_may_change(actor, account_id, "block list")
    db.session.delete(entry)
    db.session.commit()
    return entry
