"""Clients: the accounts under the key's account, their allowances and limits; suspend
and delete them (services/accounts.py: only an account above may)."""

from __future__ import annotations

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation, paginated
from widget_server.api.schemas.clients import (
    Client,
    ClientCreate,
    ClientPage,
    ClientQuery,
    ClientUpdate,
)
from widget_server.api.schemas.common import Id
from widget_server.models import Account
from widget_server.services.accounts import (
    UNSET,
    create_account,
    delete_account,
    set_suspended,
    update_account,
)
from widget_server.tenancy import get_scoped, scoped_select

ID = "<int(max=2147483647):client_id>"


@blueprint.get("/clients")
@operation("Accounts under the key's account", query=ClientQuery, answer=ClientPage)
def list_clients(query: ClientQuery):
    statement = scoped_select(Account, caller()).where(Account.id != caller().id)
    if query.kind:
        statement = statement.where(Account.kind == query.kind)
    if query.parent_id is not None:
        statement = statement.where(Account.parent_id == query.parent_id)
    return paginated(query, statement.order_by(Account.id), ClientPage)


@blueprint.post("/clients")
@operation("Create a client under the key's account (or parent_id)", body=ClientCreate,
           answer=Client, status=201, errors=(403, 409))
def create_client(body: ClientCreate):
    return Client.model_validate(create_account(
        caller(), name=body.name, parent_id=body.parent_id, kind=body.kind,
        daily=body.daily_call_cap, monthly=body.monthly_call_cap))


@blueprint.get(f"/clients/{ID}")
@operation("One account", answer=Client, errors=(404,))
def get_client(client_id: Id):
    return Client.model_validate(get_scoped(Account, client_id, caller()))


@blueprint.patch(f"/clients/{ID}")
@operation("Rename, set the allowance within the parent's, whether it adds provider "
           "accounts and how many widgets it may have", body=ClientUpdate,
           answer=Client, errors=(403, 404, 409))
def update_client(client_id: Id, body: ClientUpdate):
    account = get_scoped(Account, client_id, caller())
    sent = body.model_fields_set
    allowance = None
    if {"daily_call_cap", "monthly_call_cap"} & sent:
        allowance = (
            body.daily_call_cap if "daily_call_cap" in sent else account.daily_call_cap,
            body.monthly_call_cap if "monthly_call_cap" in sent else account.monthly_call_cap)
    return Client.model_validate(update_account(
        caller(), account.id, name=body.name if "name" in sent else None, allowance=allowance,
        may_add_providers=body.may_add_providers if "may_add_providers" in sent else None,
        max_widgets=body.max_widgets if "max_widgets" in sent else UNSET))


@blueprint.post(f"/clients/{ID}/suspend")
@operation("Suspend: its widgets (and those under it) refuse visitors, its users and API "
           "keys are refused", answer=Client, errors=(403, 404))
def suspend_client(client_id: Id):
    return Client.model_validate(set_suspended(caller(), client_id, True))


@blueprint.post(f"/clients/{ID}/unsuspend")
@operation("Lift a suspension: everything works again as before", answer=Client,
           errors=(403, 404))
def unsuspend_client(client_id: Id):
    return Client.model_validate(set_suspended(caller(), client_id, False))


@blueprint.delete(f"/clients/{ID}")
@operation("Delete with its widgets, users, provider accounts, webhooks and block list; "
           "its API keys are revoked and its calls stay in the reports", status=204,
           errors=(403, 404, 409))
def delete_client(client_id: Id):
    delete_account(caller(), client_id)
