"""Clients: the accounts under the key's account, and their call allowances."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from widget_server.api import blueprint
from widget_server.api.auth import caller
from widget_server.api.inputs import MISSING, Fields, Query, json_body, paginated, timestamp
from widget_server.api.problems import CONFLICT, Problem, invalid
from widget_server.extensions import db
from widget_server.models import Account
from widget_server.tenancy import (
    allowance_within_parent,
    get_scoped,
    scoped_select,
    sibling_named,
)

ID = "<int(max=2147483647):client_id>"
KINDS = ("reseller", "client")


def client_json(account: Account) -> dict:
    return {"id": account.id, "name": account.name, "kind": account.kind,
            "parent_id": account.parent_id, "daily_call_cap": account.daily_call_cap,
            "monthly_call_cap": account.monthly_call_cap,
            "created_at": timestamp(account.created_at)}


@blueprint.get("/clients")
def list_clients():
    query = Query({"kind", "parent_id"})
    statement = scoped_select(Account, caller()).where(Account.id != caller().id)
    kind = query.choice("kind", KINDS)
    parent_id = query.integer("parent_id")
    if kind:
        statement = statement.where(Account.kind == kind)
    if parent_id is not None:
        statement = statement.where(Account.parent_id == parent_id)
    return paginated(query, statement.order_by(Account.id), client_json)


@blueprint.post("/clients")
def create_client():
    fields = Fields(json_body(), {"name", "kind", "parent_id", "daily_call_cap",
                                  "monthly_call_cap"})
    name = fields.text("name", max_length=120, required=True)
    kind = fields.choice("kind", KINDS)
    parent_id = fields.integer("parent_id", nullable=False)
    daily = fields.integer("daily_call_cap")
    monthly = fields.integer("monthly_call_cap")
    fields.done()
    parent = caller() if parent_id is MISSING else _parent_in_scope(parent_id)
    if parent.kind == "client":
        raise Problem(403, "A client account cannot have accounts under it.")
    kind = "client" if kind is MISSING else kind
    if kind == "reseller" and parent.kind != "operator":
        raise invalid({"kind": "Only the operator has resellers under it."})
    daily = None if daily is MISSING else daily
    monthly = None if monthly is MISSING else monthly
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
    return client_json(account), 201


def _parent_in_scope(parent_id: int) -> Account:
    try:
        return get_scoped(Account, parent_id, caller())
    except NotFound:
        raise invalid({"parent_id": "There is no such account under yours."}) from None


@blueprint.get(f"/clients/{ID}")
def get_client(client_id: int):
    return client_json(get_scoped(Account, client_id, caller()))


@blueprint.patch(f"/clients/{ID}")
def update_client(client_id: int):
    account = get_scoped(Account, client_id, caller())
    fields = Fields(json_body(), {"name", "daily_call_cap", "monthly_call_cap"})
    name = fields.text("name", max_length=120)
    daily = fields.integer("daily_call_cap")
    monthly = fields.integer("monthly_call_cap")
    fields.done()
    if (daily is not MISSING or monthly is not MISSING):
        if account.id == caller().id:
            raise Problem(403, "An account's allowance is set by its parent, not by itself.")
        daily = account.daily_call_cap if daily is MISSING else daily
        monthly = account.monthly_call_cap if monthly is MISSING else monthly
        problem = allowance_within_parent(account.parent, daily, monthly)
        if problem:
            raise invalid({"daily_call_cap" if "daily" in problem else "monthly_call_cap":
                           problem})
        account.daily_call_cap, account.monthly_call_cap = daily, monthly
    if name is not MISSING:
        # Its siblings may be other tenants': whether a name is taken among them is
        # for the parent to learn, as is its allowance.
        if account.id == caller().id:
            raise Problem(403, "An account's name is set by its parent, not by itself.")
        if sibling_named(account.parent_id, name, but=account) is not None:
            raise Problem(409, f"{account.parent.name} has an account with this name already.",
                          type_=CONFLICT)
        account.name = name
    db.session.commit()
    return client_json(account)
