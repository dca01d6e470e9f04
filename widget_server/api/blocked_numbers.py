"""An account's block list: numbers its widgets refuse to call back (``phone_blocked``).

Under ``/clients/{client_id}/blocked_numbers``, for the key's own account and
every account under it (another tenant's account is a 404). A number is any
valid number of any country, given in +country format or in national format
with ``country``; it is stored and answered as E.164. Blocking a number that
is on the list already is a 409, as for a domain already whitelisted.
"""

from __future__ import annotations

from widget_server.abuse.blocklist import blocked_select
from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.clients import ID as CLIENT_ID
from widget_server.api.inputs import MISSING, Fields, Query, json_body, paginated, timestamp
from widget_server.api.problems import CONFLICT, Problem
from widget_server.models import Account, BlockedNumber
from widget_server.services.blocked_numbers import block_number, unblock
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
    entry, added = block_number(caller(), account.id, raw,
                                None if country is MISSING else country)
    if not added:
        raise Problem(409, f"{entry.e164} is on this account's block list already.",
                      type_=CONFLICT)
    return blocked_number_json(entry), 201


@blueprint.delete(f"/clients/{CLIENT_ID}/blocked_numbers/{ID}")
def remove_blocked_number(client_id: int, blocked_number_id: int):
    account = get_scoped(Account, client_id, caller())
    unblock(caller(), account.id, entry_id=blocked_number_id)
    return "", 204
