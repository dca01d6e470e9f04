"""Provider accounts. Credentials are write-only: taken on create and rotation, never shown.

Every rule is in services/provider_accounts.py; a refusal there becomes a
problem document (api/problems.py).
"""

from __future__ import annotations

from widget_server.api import blueprint
from widget_server.api.auth import caller
from widget_server.api.inputs import MISSING, Fields, Query, json_body, paginated, timestamp
from widget_server.extensions import db
from widget_server.models import Account, ProviderAccount
from widget_server.providers import PROVIDERS
from widget_server.services import provider_accounts
from widget_server.tenancy import get_scoped, scoped_select

ID = "<int(max=2147483647):provider_account_id>"
KINDS = tuple(sorted(PROVIDERS))


def provider_json(account: ProviderAccount) -> dict:
    return {"id": account.id, "account_id": account.account_id, "name": account.name,
            "kind": account.kind, "base_url": account.base_url,
            "options": account.options or {},
            "has_credentials": bool(account.credentials_encrypted),
            "created_at": timestamp(account.created_at)}


@blueprint.get("/provider_accounts")
def list_provider_accounts():
    query = Query({"account_id", "kind"})
    statement = scoped_select(ProviderAccount, caller())
    account_id = query.integer("account_id")
    kind = query.choice("kind", KINDS)
    if account_id is not None:
        statement = statement.where(ProviderAccount.account_id == account_id)
    if kind is not None:
        statement = statement.where(ProviderAccount.kind == kind)
    return paginated(query, statement.order_by(ProviderAccount.id), provider_json)


@blueprint.post("/provider_accounts")
def create_provider_account():
    fields = Fields(json_body(), {"account_id", "name", "kind", "base_url", "credentials",
                                  "options"})
    account_id = fields.integer("account_id", nullable=False)
    name = fields.text("name", max_length=120, required=True)
    kind = fields.choice("kind", KINDS, required=True)
    base_url = fields.text("base_url", max_length=500, nullable=True)
    credentials = fields.mapping("credentials")
    options = fields.mapping("options")
    owner = caller()
    if account_id is not MISSING:
        owner = db.session.scalar(scoped_select(Account, caller()).where(
            Account.id == account_id))
        if owner is None:
            fields.error("account_id", "There is no such account under yours.")
    fields.done()
    account = provider_accounts.add(
        caller(), owner=owner, name=name, kind=kind,
        base_url=None if base_url is MISSING else base_url,
        credentials={} if credentials is MISSING else credentials,
        options={} if options is MISSING else options)
    return provider_json(account), 201


@blueprint.get(f"/provider_accounts/{ID}")
def get_provider_account(provider_account_id: int):
    return provider_json(get_scoped(ProviderAccount, provider_account_id, caller()))


@blueprint.patch(f"/provider_accounts/{ID}")
def update_provider_account(provider_account_id: int):
    """Name, address and options; ``credentials`` replaces them whole (a rotation)."""
    account = get_scoped(ProviderAccount, provider_account_id, caller())
    fields = Fields(json_body(), {"name", "base_url", "credentials", "options"})
    changes = {"name": fields.text("name", max_length=120),
               "base_url": fields.text("base_url", max_length=500, nullable=True),
               "credentials": fields.mapping("credentials"),
               "options": fields.mapping("options")}
    fields.done()
    provider_accounts.update(caller(), account, **{
        name: value for name, value in changes.items() if value is not MISSING})
    return provider_json(account)
