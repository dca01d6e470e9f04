"""Provider accounts. Credentials are write-only: taken on create and rotation, never shown."""

from __future__ import annotations

from sqlalchemy import select

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation, paginated
from widget_server.api.problems import CONFLICT, Problem, invalid
from widget_server.api.schemas import providers as schema
from widget_server.api.schemas.common import Id
from widget_server.extensions import db
from widget_server.models import Account, ProviderAccount
from widget_server.providers.accounts import (
    CredentialsError,
    base_url_problem,
    encrypt_credentials,
    options_problem,
    validate,
)
from widget_server.tenancy import get_scoped, scoped_select

ID = "<int(max=2147483647):provider_account_id>"


def _name_taken(owner_id: int, name: str, but: ProviderAccount | None = None) -> bool:
    found = db.session.scalar(select(ProviderAccount).where(
        ProviderAccount.account_id == owner_id, ProviderAccount.name == name))
    return found is not None and found is not but


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
    name, kind, base_url = body.name, body.kind, body.base_url
    credentials, options = body.credentials, body.options
    owner = caller()
    if body.account_id is not None:
        owner = db.session.scalar(scoped_select(Account, caller()).where(
            Account.id == body.account_id))
        if owner is None:
            raise invalid({"account_id": "There is no such account under yours."})
    problem = options_problem(kind, options)
    if problem:
        raise invalid({"options": problem})
    try:
        validate(kind, credentials, options)
    except CredentialsError as error:
        raise invalid({"credentials": str(error)}) from None
    problem = base_url_problem(kind, base_url)
    if problem:
        raise invalid({"base_url": problem})
    if _name_taken(owner.id, name):
        raise Problem(409, "This account has a provider account of that name already.",
                      type_=CONFLICT)
    account = ProviderAccount(account_id=owner.id, name=name, kind=kind, base_url=base_url,
                              options=options, credentials_encrypted=encrypt_credentials(
                                  credentials))
    db.session.add(account)
    db.session.commit()
    return schema.ProviderAccount.model_validate(account)


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
    sent = body.model_fields_set
    if "options" in sent:
        problem = options_problem(account.kind, body.options)
        if problem:
            raise invalid({"options": problem})
        account.options = body.options
    if "credentials" in sent:
        try:
            validate(account.kind, body.credentials, account.options or {})
        except CredentialsError as error:
            raise invalid({"credentials": str(error)}) from None
        account.credentials_encrypted = encrypt_credentials(body.credentials)
    if "base_url" in sent:
        problem = base_url_problem(account.kind, body.base_url)
        if problem:
            raise invalid({"base_url": problem})
        account.base_url = body.base_url
    if "name" in sent:
        if _name_taken(account.account_id, body.name, but=account):
            raise Problem(409, "This account has a provider account of that name already.",
                          type_=CONFLICT)
        account.name = body.name
    db.session.commit()
    return schema.ProviderAccount.model_validate(account)
