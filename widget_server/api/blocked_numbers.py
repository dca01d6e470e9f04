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
from widget_server.api.endpoint import operation, paginated
from widget_server.api.problems import CONFLICT, Problem
from widget_server.api.schemas.blocked_numbers import (
    BlockedNumber,
    BlockedNumberCreate,
    BlockedNumberPage,
)
from widget_server.api.schemas.common import Id, PageQuery
from widget_server.models import Account
from widget_server.services.blocked_numbers import block_number, unblock
from widget_server.tenancy import get_scoped

CLIENT_ID = "<int(max=2147483647):client_id>"
ID = "<int(max=2147483647):blocked_number_id>"


@blueprint.get(f"/clients/{CLIENT_ID}/blocked_numbers")
@operation("The account's blocked numbers, newest first", query=PageQuery,
           answer=BlockedNumberPage, errors=(404,))
def list_blocked_numbers(client_id: Id, query: PageQuery):
    account = get_scoped(Account, client_id, caller())
    return paginated(query, blocked_select(account.id), BlockedNumberPage)


@blueprint.post(f"/clients/{CLIENT_ID}/blocked_numbers")
@operation("Block a number: the account's widgets refuse to call it back",
           body=BlockedNumberCreate, answer=BlockedNumber, status=201, errors=(404, 409))
def add_blocked_number(client_id: Id, body: BlockedNumberCreate):
    account = get_scoped(Account, client_id, caller())
    entry, added = block_number(caller(), account.id, body.number, body.country)
    if not added:
        raise Problem(409, f"{entry.e164} is on this account's block list already.",
                      type_=CONFLICT)
    return BlockedNumber.model_validate(entry)


@blueprint.delete(f"/clients/{CLIENT_ID}/blocked_numbers/{ID}")
@operation("Unblock a number", status=204, errors=(404,))
def remove_blocked_number(client_id: Id, blocked_number_id: Id):
    account = get_scoped(Account, client_id, caller())
    unblock(caller(), account.id, entry_id=blocked_number_id)
