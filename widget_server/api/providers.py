"""Provider accounts. Credentials are write-only: taken on create and rotation, never shown."""

from __future__ import annotations

from sqlalchemy import select

from widget_server.api import blueprint
from widget_server.api.auth import caller
from widget_server.api.inputs import MISSING, Fields, Query, json_body, paginated, timestamp
from widget_server.api.problems import CONFLICT, Problem, invalid
from widget_server.extensions import db
from widget_server.models import Account, ProviderAccount
from widget_server.providers import PROVIDERS
from widget_server.providers.accounts import (
    CredentialsError,
    base_url_problem,
    encrypt_credentials,
    options_problem,
    validate,
)
from widget_server.tenancy import get_scoped, scoped_select

ID = "<int(max=2147483647):provider_account_id>"
KINDS = tuple(sorted(PROVIDERS))


def provider_json(account: ProviderAccount) -> dict:
    return {"id": account.id, "account_id": account.account_id, "name": account.name,
            "kind": account.kind, "base_url": account.base_url,
            "options": account.options or {},
            "has_credentials": bool(account.credentials_encrypted),
            "created_at": timestamp(account.created_at)}


def _credentials(fields: Fields, required: bool):
    value = fields.mapping("credentials", required=required)
    if value is MISSING:
        return value
    if not all(isinstance(v, str) and len(v) <= 500 and "\x00" not in v
               for v in value.values()):
        fields.error("credentials", "Credential values are texts of at most 500 characters.")
        return MISSING
    return value


def _name_taken(owner_id: int, name: str, but: ProviderAccount | None = None) -> bool:
    found = db.session.scalar(select(ProviderAccount).where(
        ProviderAccount.account_id == owner_id, ProviderAccount.name == name))
    return found is not None and found is not but


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
    credentials = _credentials(fields, required=True)
    options = fields.mapping("options")
    owner = caller()
    if account_id is not MISSING:
        owner = db.session.scalar(scoped_select(Account, caller()).where(
            Account.id == account_id))
        if owner is None:
            fields.error("account_id", "There is no such account under yours.")
    fields.done()
    options = {} if options is MISSING else options
    problem = options_problem(kind, options)
    if problem:
        raise invalid({"options": problem})
    try:
        validate(kind, credentials, options)
    except CredentialsError as error:
        raise invalid({"credentials": str(error)}) from None
    problem = base_url_problem(kind, None if base_url is MISSING else base_url)
    if problem:
        raise invalid({"base_url": problem})
    if _name_taken(owner.id, name):
        raise Problem(409, "This account has a provider account of that name already.",
                      type_=CONFLICT)
    account = ProviderAccount(account_id=owner.id, name=name, kind=kind,
                              base_url=None if base_url is MISSING else base_url,
                              options=options, credentials_encrypted=encrypt_credentials(
                                  credentials))
    db.session.add(account)
    db.session.commit()
    return provider_json(account), 201


@blueprint.get(f"/provider_accounts/{ID}")
def get_provider_account(provider_account_id: int):
    return provider_json(get_scoped(ProviderAccount, provider_account_id, caller()))


@blueprint.patch(f"/provider_accounts/{ID}")
def update_provider_account(provider_account_id: int):
    """Name, address and options; ``credentials`` replaces them whole (a rotation)."""
    account = get_scoped(ProviderAccount, provider_account_id, caller())
    fields = Fields(json_body(), {"name", "base_url", "credentials", "options"})
    name = fields.text("name", max_length=120)
    base_url = fields.text("base_url", max_length=500, nullable=True)
    credentials = _credentials(fields, required=False)
    options = fields.mapping("options")
    fields.done()
    if options is not MISSING:
        problem = options_problem(account.kind, options)
        if problem:
            raise invalid({"options": problem})
        account.options = options
    if credentials is not MISSING:
        try:
            validate(account.kind, credentials, account.options or {})
        except CredentialsError as error:
            raise invalid({"credentials": str(error)}) from None
        account.credentials_encrypted = encrypt_credentials(credentials)
    if base_url is not MISSING:
        problem = base_url_problem(account.kind, base_url)
        if problem:
            raise invalid({"base_url": problem})
        account.base_url = base_url
    if name is not MISSING:
        if _name_taken(account.account_id, name, but=account):
            raise Problem(409, "This account has a provider account of that name already.",
                          type_=CONFLICT)
        account.name = name
    db.session.commit()
    return provider_json(account)
