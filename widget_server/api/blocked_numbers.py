"""An account's block list: numbers its widgets refuse to call back (``phone_blocked``).

Under ``/clients/{client_id}/blocked_numbers``, for the key's own account and
every account under it (another tenant's account is a 404). A number is any
valid number of any country, given in +country format or in national format
with ``country``; it is stored and answered as E.164. Blocking a number that
is on the list already is a 409, as for a domain already whitelisted.
"""

from __future__ import annotations

from sqlalchemy import select

from widget_server.abuse.blocklist import (
    BlockedNumberError,
    block,
    blocked_select,
    normalise_blocked_number,
)
from widget_server.api import blueprint
from widget_server.api.auth import caller
from widget_server.api.clients import ID as CLIENT_ID
from widget_server.api.inputs import MISSING, Fields, Query, json_body, paginated, timestamp
from widget_server.api.problems import CONFLICT, Problem, invalid
from widget_server.extensions import db
from widget_server.models import Account, BlockedNumber
from widget_server.tenancy import get_scoped

ID = "<int(max=2147483647):blocked_number_id>"
COUNTRY_MAX = 2


def blocked_number_json(entry: BlockedNumber) -> dict:
    return {"id": entry.id, "account_id": entry.account_id, "e164": entry.e164,
            "created_at": timestamp(entry.created_at)}


@blueprint.get(f"/clients/{CLIENT_ID}/blocked_numbers")
def list_blocked_numbers(client_id: int):
    account = get_scoped(Account, client_id, caller())
    return paginated(Query(set()), blocked_select(account.id), blocked_number_json)


@blueprint.post(f"/clients/{CLIENT_ID}/blocked_numbers")
def add_blocked_number(client_id: int):
    account = get_scoped(Account, client_id, caller())
    fields = Fields(json_body(), {"number", "country"})
    raw = fields.text("number", max_length=32, required=True)
    country = fields.text("country", max_length=COUNTRY_MAX)
    fields.done()
    try:
        e164 = normalise_blocked_number(raw, None if country is MISSING else country)
    except BlockedNumberError as error:
        raise invalid({error.field: str(error)}) from None
    entry, added = block(account.id, e164)
    if not added:
        db.session.rollback()
        raise Problem(409, f"{e164} is on this account's block list already.", type_=CONFLICT)
    db.session.commit()
    return blocked_number_json(entry), 201


@blueprint.delete(f"/clients/{CLIENT_ID}/blocked_numbers/{ID}")
def remove_blocked_number(client_id: int, blocked_number_id: int):
    account = get_scoped(Account, client_id, caller())
    entry = db.session.scalar(select(BlockedNumber).where(
        BlockedNumber.account_id == account.id, BlockedNumber.id == blocked_number_id))
    if entry is None:
        raise Problem(404)
    db.session.delete(entry)
    db.session.commit()
    return "", 204
