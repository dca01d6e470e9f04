"""Provider accounts. Credentials are write-only: taken on create and rotation, never shown.

The models (api/schemas/providers.py) take the shapes; every rule (each kind's
typed options and credentials, the base URL, the name) is in
services/provider_accounts.py, whose refusals become problems (api/problems.py).
"""

from __future__ import annotations

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation, paginated
from widget_server.api.problems import invalid
from widget_server.api.schemas import providers as schema
from widget_server.api.schemas.common import Id
from widget_server.extensions import db
from widget_server.models import Account, ProviderAccount
from widget_server.services import provider_accounts
from widget_server.tenancy import get_scoped, scoped_select

ID = "<int(max=2147483647):provider_account_id>"


@blueprint.get("/provider_accounts")
@operation("Provider accounts (credentials never shown)", query=schema.ProviderAccountQuery,
           answer=schema.ProviderAccountPage)
def list_provider_accounts(query: schema.ProviderAccountQuery):
    statement = scoped_select(ProviderAccount, caller())
    if query.account_id is not None:
        statement = statement.where(ProviderAccount.account_id == query.account_id)
    if query.kind is not None:
        statement = statement.where(ProviderAccount.kind == query.kind)
    return paginated(query, statement.order_by(ProviderAccount.id), schema.ProviderAccountPage)


@blueprint.post("/provider_accounts")
@operation("Add a provider account", body=schema.ProviderAccountCreate,
           answer=schema.ProviderAccount, status=201, errors=(409,))
def create_provider_account(body: schema.ProviderAccountCreate):
    owner = caller()
    if body.account_id is not None:
        owner = db.session.scalar(scoped_select(Account, caller()).where(
            Account.id == body.account_id))
        if owner is None:
            raise invalid({"account_id": "There is no such account under yours."})
    return schema.ProviderAccount.model_validate(provider_accounts.add(
        caller(), owner=owner, name=body.name, kind=body.kind, base_url=body.base_url,
        credentials=body.credentials, options=body.options))


@blueprint.get(f"/provider_accounts/{ID}")
@operation("One provider account", answer=schema.ProviderAccount, errors=(404,))
def get_provider_account(provider_account_id: Id):
    return schema.ProviderAccount.model_validate(
        get_scoped(ProviderAccount, provider_account_id, caller()))


@blueprint.patch(f"/provider_accounts/{ID}")
@operation("Change; credentials replace the stored ones (rotation)",
           body=schema.ProviderAccountUpdate, answer=schema.ProviderAccount, errors=(404, 409))
def update_provider_account(provider_account_id: Id, body: schema.ProviderAccountUpdate):
    """Name, address and options; ``credentials`` replaces them whole (a rotation)."""
    account = get_scoped(ProviderAccount, provider_account_id, caller())
    return schema.ProviderAccount.model_validate(provider_accounts.update(
        caller(), account, **body.model_dump(exclude_unset=True)))
