"""Clients: the accounts under the key's account, and their call allowances."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from widget_server.api import blueprint
from widget_server.api.auth import caller
from widget_server.api.endpoint import operation, paginated
from widget_server.api.problems import CONFLICT, Problem, invalid
from widget_server.api.schemas.clients import (
    Client,
    ClientCreate,
    ClientPage,
    ClientQuery,
    ClientUpdate,
)
from widget_server.api.schemas.common import Id
from widget_server.extensions import db
from widget_server.models import Account
from widget_server.tenancy import (
    allowance_within_parent,
    get_scoped,
    scoped_select,
    sibling_named,
)

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
    name, kind = body.name, body.kind
    daily, monthly = body.daily_call_cap, body.monthly_call_cap
    parent = caller() if body.parent_id is None else _parent_in_scope(body.parent_id)
    if parent.kind == "client":
        raise Problem(403, "A client account cannot have accounts under it.")
    if kind == "reseller" and parent.kind != "operator":
        raise invalid({"kind": "Only the operator has resellers under it."})
    problem = allowance_within_parent(parent, daily, monthly)
    if problem:
        raise invalid({"daily_call_cap" if "daily" in problem else "monthly_call_cap": problem})
    if sibling_named(parent.id, name) is not None:
        raise Problem(409, f"{parent.name} has an account with this name already.",
                      type_=CONFLICT)
    account = Account(name=name, kind=kind, parent_id=parent.id, daily_call_cap=daily,
                      monthly_call_cap=monthly)
    db.session.add(account)
    db.session.commit()
    return Client.model_validate(account)


def _parent_in_scope(parent_id: int) -> Account:
    try:
        return get_scoped(Account, parent_id, caller())
    except NotFound:
        raise invalid({"parent_id": "There is no such account under yours."}) from None


@blueprint.get(f"/clients/{ID}")
@operation("One account", answer=Client, errors=(404,))
def get_client(client_id: Id):
    return Client.model_validate(get_scoped(Account, client_id, caller()))


@blueprint.patch(f"/clients/{ID}")
@operation("Rename, or set the allowance within the parent's", body=ClientUpdate,
           answer=Client, errors=(403, 404, 409))
def update_client(client_id: Id, body: ClientUpdate):
    account = get_scoped(Account, client_id, caller())
    sent = body.model_fields_set
    if {"daily_call_cap", "monthly_call_cap"} & sent:
        if account.id == caller().id:
            raise Problem(403, "An account's allowance is set by its parent, not by itself.")
        daily = body.daily_call_cap if "daily_call_cap" in sent else account.daily_call_cap
        monthly = (body.monthly_call_cap if "monthly_call_cap" in sent
                   else account.monthly_call_cap)
        problem = allowance_within_parent(account.parent, daily, monthly)
        if problem:
            raise invalid({"daily_call_cap" if "daily" in problem else "monthly_call_cap":
                           problem})
        account.daily_call_cap, account.monthly_call_cap = daily, monthly
    if "name" in sent:
        name = body.name
        # Its siblings may be other tenants': whether a name is taken among them is
        # for the parent to learn, as is its allowance.
        if account.id == caller().id:
            raise Problem(403, "An account's name is set by its parent, not by itself.")
        if sibling_named(account.parent_id, name, but=account) is not None:
            raise Problem(409, f"{account.parent.name} has an account with this name already.",
                          type_=CONFLICT)
        account.name = name
    db.session.commit()
    return Client.model_validate(account)
