"""Clients: the accounts under the key's account, and their call allowances."""

from __future__ import annotations

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.inputs import MISSING, Fields, Query, json_body, paginated, timestamp
from widget_server.models import Account
from widget_server.services.accounts import KINDS, NAME_MAX, create_account, update_account
from widget_server.tenancy import get_scoped, scoped_select

ID = "<int(max=2147483647):client_id>"


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
    name = fields.text("name", max_length=NAME_MAX, required=True)
    kind = fields.choice("kind", KINDS)
    parent_id = fields.integer("parent_id", nullable=False)
    daily = fields.integer("daily_call_cap")
    monthly = fields.integer("monthly_call_cap")
    fields.done()
    account = create_account(caller(), name=name,
                             parent_id=None if parent_id is MISSING else parent_id,
                             kind="client" if kind is MISSING else kind,
                             daily=None if daily is MISSING else daily,
                             monthly=None if monthly is MISSING else monthly)
    return client_json(account), 201


@blueprint.get(f"/clients/{ID}")
def get_client(client_id: int):
    return client_json(get_scoped(Account, client_id, caller()))


@blueprint.patch(f"/clients/{ID}")
def update_client(client_id: int):
    account = get_scoped(Account, client_id, caller())
    fields = Fields(json_body(), {"name", "daily_call_cap", "monthly_call_cap"})
    name = fields.text("name", max_length=NAME_MAX)
    daily = fields.integer("daily_call_cap")
    monthly = fields.integer("monthly_call_cap")
    fields.done()
    allowance = None
    if daily is not MISSING or monthly is not MISSING:
        allowance = (account.daily_call_cap if daily is MISSING else daily,
                     account.monthly_call_cap if monthly is MISSING else monthly)
    return client_json(update_account(caller(), account.id,
                                      name=None if name is MISSING else name,
                                      allowance=allowance))
