"""Provider accounts: add, update, rotate credentials, check, delete, and who may use them.

The command line, the API and the admin call these functions and nothing
else to change a provider account. Each takes plain values and the actor:
a signed-in ``User`` (only owners change provider accounts), an API key's
``Account`` (its owner's rights over its subtree), or None for the command
line (the operator of the installation). Every problem is a
``ServiceError`` naming its field; the checks of one save are all reported
together (``invalid_fields``).

Credentials are a JSON object encrypted with ``MultiFernet`` (the first
configured key encrypts, any decrypts). They are decrypted only here, when a
call is placed or an account is checked, and handed to the adapter with what
else it needs from the installation (``adapter_for``): the adapters import
nothing of the application.

Which provider accounts a widget may call through is decided here only
(``usable_by``): those of the widget's account and of every account above
it, so a reseller's provider account serves its clients' widgets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from typing import Final

import requests
from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import select

from widget_server.abuse.phone import normalise_business_number
from widget_server.calls.status import reason_sentence
from widget_server.extensions import db
from widget_server.models import Account, ProviderAccount, User, Widget
from widget_server.providers import PROVIDERS
from widget_server.providers.base import (
    CallRejected,
    CallReport,
    CheckResult,
    HttpProvider,
    Provider,
    ProviderError,
    ProviderNoAnswer,
    ProviderUnavailable,
)
from widget_server.providers.options import parse_values, values_schema
from widget_server.security import outbound
from widget_server.security.keys import fernet
from widget_server.services.accounts import check_may_add_provider
from widget_server.services.errors import ServiceError, invalid_fields
from widget_server.tenancy import ancestors, in_subtree

# The roles of a signed-in user that may change provider accounts: they hold
# money-spending credentials, and a check may place a real test call.
ADMINISTERING_ROLES = frozenset({"owner"})
MAX_BASE_URL = 500
MAX_CREDENTIAL = 500
Actor = User | Account | None


class CredentialsError(ServiceError):
    """Stored credentials that cannot be used: they do not decrypt with the configured keys."""

    def __init__(self, message: str):
        super().__init__(message, field="credentials")


# --- the declaration, as the interfaces use it -------------------------------------


def adapter_class(kind: str) -> type[Provider]:
    """The adapter of ``kind``, or a ``ServiceError`` on ``kind`` listing the known ones."""
    try:
        return PROVIDERS[kind]
    except KeyError:
        raise ServiceError(f"Unknown provider kind {kind!r}; known: {', '.join(PROVIDERS)}.",
                           field="kind") from None


def options_schema(kind: str, *, widget: bool = False) -> dict:
    """The JSON Schema of ``kind``'s options (``widget``: a widget's own, none required)."""
    cls = adapter_class(kind)
    schema = values_schema(cls.option_fields, cls.custom_fields)
    if widget:
        schema.pop("required", None)
    return schema


# --- who may do what ----------------------------------------------------------------


def _scope(actor: Actor) -> Account | None:
    """The account whose subtree ``actor`` acts in; None for the command line (everything)."""
    return actor.account if isinstance(actor, User) else actor


def _require_administer(actor: Actor) -> None:
    if isinstance(actor, User) and actor.role not in ADMINISTERING_ROLES:
        raise ServiceError("Only an owner may change provider accounts.", kind="forbidden")


def _require_visible(actor: Actor, account_id: int) -> None:
    scope = _scope(actor)
    if scope is not None and not in_subtree(scope, account_id):
        raise ServiceError("There is no such provider account.", kind="not_found")


def visible(actor: Actor, provider_id: int) -> ProviderAccount:
    """Provider account ``provider_id`` if ``actor`` sees it, else ``not_found``."""
    found = db.session.get(ProviderAccount, provider_id)
    if found is None:
        raise ServiceError("There is no such provider account.", kind="not_found")
    _require_visible(actor, found.account_id)
    return found


def usable_by(owner: Account) -> list[ProviderAccount]:
    """The provider accounts a widget of ``owner`` may call through: its own and those above."""
    lineage = [owner.id, *(account.id for account in ancestors(owner))]
    return list(db.session.scalars(select(ProviderAccount).where(
        ProviderAccount.account_id.in_(lineage)).order_by(ProviderAccount.name)))


def usable(owner: Account, provider_id: int | None, *,
           field: str = "provider_account_id") -> ProviderAccount | None:
    """Provider account ``provider_id`` for a widget of ``owner`` (None: the simulator)."""
    if provider_id is None:
        return None
    found = db.session.get(ProviderAccount, provider_id)
    if found is None or found not in usable_by(owner):
        raise ServiceError(f"This provider account cannot serve {owner.name}'s widgets: "
                           "choose one of its own or of an account above it.", field=field)
    return found


# --- the checks of one save ----------------------------------------------------------


def base_url_problem(kind: str, base_url: str | None) -> str | None:
    """Why ``base_url`` cannot be saved for a ``kind`` account, as a sentence, or None.

    The outbound rule (https, public addresses, the operator's private
    hosts); an address for white-label kinds, which have no default; none for
    the simulator, which talks to nothing.
    """
    cls = adapter_class(kind)
    if not cls.takes_base_url:
        return (f"{cls.label or kind} places no calls over the network: it takes no base URL."
                if base_url else None)
    if not base_url:
        if cls.default_base_url:
            return None
        return (f"{kind} has no public address: give the reseller's own, "
                "e.g. https://voice.example.")
    if len(base_url) > MAX_BASE_URL:
        return f"Give an address of at most {MAX_BASE_URL} characters."
    try:
        outbound.policy(current_app.config).check_url(base_url)
    except outbound.RefusedURL as error:
        return str(error)
    return None


def _credentials_problems(cls: type[Provider], credentials: object) -> tuple[dict, dict]:
    if not isinstance(credentials, dict) or not all(
            isinstance(v, str) and len(v) <= MAX_CREDENTIAL and "\x00" not in v
            for v in credentials.values()):
        return {}, {"credentials": "Credentials are an object of texts of at most "
                                   f"{MAX_CREDENTIAL} characters."}
    parsed, errors = parse_values(cls.credential_fields, credentials, what="credential")
    return parsed, {f"credentials.{name}": message for name, message in errors.items()}


def _options_problems(cls: type[Provider], options: object, *, prefix: str = "options",
                      partial: bool = False) -> tuple[dict, dict]:
    if not isinstance(options, dict):
        return {}, {prefix: "Options are an object of names and values."}
    parsed, errors = cls.parse_options(options, partial=partial)
    return parsed, {f"{prefix}.{name}" if name else prefix: message
                    for name, message in errors.items()}


def _name_problem(owner_id: int, name: object, but: ProviderAccount | None = None
                  ) -> tuple[str, str] | None:
    """(kind, sentence) when ``name`` is empty, too long or taken under ``owner_id``."""
    if not isinstance(name, str) or not name.strip():
        return "invalid", "Give the provider account a name."
    if len(name.strip()) > 120:
        return "invalid", "Use a name of at most 120 characters."
    found = db.session.scalar(select(ProviderAccount).where(
        ProviderAccount.account_id == owner_id, ProviderAccount.name == name.strip()))
    if found is not None and found is not but:
        return "conflict", "This account has a provider account of that name already."
    return None


def _raise_if(errors: dict[str, str], name_problem: tuple[str, str] | None) -> None:
    """Every invalid field at once; a taken name alone is a conflict."""
    if name_problem and name_problem[0] == "invalid":
        errors = {"name": name_problem[1], **errors}
    if errors:
        raise invalid_fields(errors)
    if name_problem:
        raise ServiceError(name_problem[1], field="name", kind="conflict")


# --- operations ----------------------------------------------------------------------


def add(actor: Actor, *, owner: Account, name: str, kind: str, base_url: str | None = None,
        credentials: dict | None = None, options: dict | None = None) -> ProviderAccount:
    """A new provider account of ``owner``, every value checked; committed."""
    _require_administer(actor)
    _require_visible(actor, owner.id)
    check_may_add_provider(actor, owner)
    cls = adapter_class(kind)
    credentials, credential_errors = _credentials_problems(cls, credentials or {})
    options, errors = _options_problems(cls, options or {})
    errors.update(credential_errors)
    base_url = base_url or None
    problem = base_url_problem(kind, base_url)
    if problem:
        errors["base_url"] = problem
    _raise_if(errors, _name_problem(owner.id, name))
    created = ProviderAccount(account_id=owner.id, kind=kind, name=name.strip(),
                              base_url=base_url, options=options,
                              credentials_encrypted=encrypt_credentials(credentials))
    db.session.add(created)
    db.session.commit()
    return created


class _Unchanged(Enum):
    """A value not given (None is a value: no base URL); an enum, so a checker narrows it."""

    UNCHANGED = "unchanged"


_UNCHANGED: Final = _Unchanged.UNCHANGED


def update(actor: Actor, provider: ProviderAccount, *, name: str | _Unchanged = _UNCHANGED,
           base_url: str | _Unchanged | None = _UNCHANGED,
           options: dict | _Unchanged = _UNCHANGED,
           credentials: dict | _Unchanged = _UNCHANGED) -> ProviderAccount:
    """Change what is given (``credentials`` replaces them whole); committed."""
    _require_administer(actor)
    _require_visible(actor, provider.account_id)
    cls = adapter_class(provider.kind)
    errors: dict[str, str] = {}
    if options is not _UNCHANGED:
        options, option_errors = _options_problems(cls, options)
        errors.update(option_errors)
    if credentials is not _UNCHANGED:
        credentials, credential_errors = _credentials_problems(cls, credentials)
        errors.update(credential_errors)
    if base_url is not _UNCHANGED:
        base_url = base_url or None
        problem = base_url_problem(provider.kind, base_url)
        if problem:
            errors["base_url"] = problem
    name_problem = (None if name is _UNCHANGED
                    else _name_problem(provider.account_id, name, but=provider))
    _raise_if(errors, name_problem)
    if options is not _UNCHANGED:
        provider.options = options
    if credentials is not _UNCHANGED:
        provider.credentials_encrypted = encrypt_credentials(credentials)
    if base_url is not _UNCHANGED:
        provider.base_url = base_url
    if name is not _UNCHANGED:
        provider.name = name.strip()
    db.session.commit()
    return provider


def rotate_credentials(actor: Actor, provider: ProviderAccount,
                       credentials: dict) -> ProviderAccount:
    """Replace the credentials whole: the old ones are gone."""
    return update(actor, provider, credentials=credentials)


def delete(actor: Actor, provider: ProviderAccount) -> None:
    """Delete a provider account no live widget calls through (deleted ones let go of it)."""
    _require_administer(actor)
    _require_visible(actor, provider.account_id)
    widgets = list(db.session.scalars(select(Widget).where(
        Widget.provider_account_id == provider.id)))
    if any(widget.deleted_at is None for widget in widgets):
        raise ServiceError(f"{provider.name} still serves widgets: give them another "
                           "provider first.", kind="conflict")
    for widget in widgets:
        widget.provider_account_id = None
    db.session.delete(provider)
    db.session.commit()


def widgets_using(provider: ProviderAccount) -> list[Widget]:
    """Live widgets that call through ``provider``."""
    return list(db.session.scalars(select(Widget).where(
        Widget.provider_account_id == provider.id, Widget.deleted_at.is_(None))))


def check(actor: Actor, provider: ProviderAccount, report: CallReport, *,
          test_from: str | None = None, test_to: str | None = None) -> CheckResult:
    """Check the credentials, or place a test call between two numbers (each read as a
    business number is): what it found, or a ``ServiceError`` (a group for both numbers)
    saying what went wrong, in words that fit it: a provider we could not reach did not
    refuse anything."""
    _require_administer(actor)
    _require_visible(actor, provider.account_id)
    numbers, errors = {}, []
    for field, raw in (("test_from", test_from), ("test_to", test_to)):
        try:
            numbers[field] = normalise_business_number(raw) if raw else None
        except ValueError as error:
            errors.append(ServiceError(str(error), field))
    if errors:
        raise ExceptionGroup("The test call's numbers are not valid.", errors)
    if bool(numbers["test_from"]) != bool(numbers["test_to"]):
        raise ServiceError("A test call needs both numbers, or neither.", field="test_to")
    try:
        return adapter_for(provider).check(report, **numbers)
    except ProviderError as error:
        raise ServiceError(check_failure(error), field=None) from None


def check_failure(error: ProviderError) -> str:
    """A failed check in words that say who failed: us, the network, or the provider."""
    detail = f"{error.reason} ({error.excerpt or reason_sentence(error.reason) or ''})"
    if error.reason == "provider_address_refused":
        return f"We did not connect: this address is not allowed: {detail}"
    if isinstance(error, ProviderUnavailable):
        return f"Could not reach the provider: {detail}"
    if isinstance(error, ProviderNoAnswer):
        return f"The provider did not answer in time: {detail}"
    if isinstance(error, CallRejected):
        return f"The provider refused: {detail}"
    return f"The check failed: {detail}"


def widget_options(provider: ProviderAccount | None, options: object) -> dict:
    """A widget's own ``options`` parsed, checked alone and laid over ``provider``'s.

    A widget may override one option and leave the required rest to its
    provider account; the result must still suit the kind as a call uses it.
    Problems name ``provider_options.<option>``.
    """
    cls = adapter_class(provider.kind if provider is not None else "simulator")
    parsed, errors = _options_problems(cls, options, prefix="provider_options", partial=True)
    if not errors and parsed:
        _, merged_errors = _options_problems(
            cls, {**(provider.options if provider is not None else {}), **parsed},
            prefix="provider_options")
        errors.update(merged_errors)
    if errors:
        raise invalid_fields(errors)
    return parsed


# --- credentials and the adapter, for calls and checks -----------------------------------


def tenant_sets_address(account: ProviderAccount) -> bool:
    """Whether a tenant (a reseller or client, not the operator) edits this account.

    Its exchanges then keep no text of the provider's: a base URL aimed at
    some other server must not read that server's answers back.
    """
    return account.account.kind != "operator"


def encrypt_credentials(credentials: dict) -> str | None:
    """The credentials as a Fernet token; None for none (the simulator has none)."""
    if not credentials:
        return None
    return fernet(current_app.config).encrypt(json.dumps(credentials).encode()).decode()


def reencrypt_credentials() -> None:
    """Encrypt every stored credential again with the newest key (after a key rotation),
    so an older key can later be retired; committed."""
    keys = fernet(current_app.config)
    for account in db.session.scalars(select(ProviderAccount)):
        if account.credentials_encrypted:
            account.credentials_encrypted = keys.rotate(
                account.credentials_encrypted.encode()).decode()
    db.session.commit()


def decrypt_credentials(account: ProviderAccount) -> dict:
    if not account.credentials_encrypted:
        return {}
    try:
        return json.loads(fernet(current_app.config).decrypt(
            account.credentials_encrypted.encode()))
    except (InvalidToken, ValueError) as error:
        raise CredentialsError(
            f"The credentials of provider account {account.name!r} do not decrypt with the "
            "configured keys.") from error


def provider_session(settings: Mapping) -> requests.Session:
    """The session adapters send through: only to the addresses ``settings`` allow, pinned."""
    return outbound.session_for(outbound.policy(settings))


def adapter_for(account: ProviderAccount | None, widget: Widget | None = None) -> Provider:
    """The adapter of ``account`` (the simulator when none): credentials decrypted, options
    parsed, the widget's over the account's, and the installation's session or simulator
    speed; ``OptionsInvalid`` for stored options it cannot use (saved before they were
    checked)."""
    settings = current_app.config
    widget_options = dict(widget.provider_options or {}) if widget else {}
    cls = PROVIDERS[account.kind if account else "simulator"]
    extra = ({"session": provider_session(settings)} if issubclass(cls, HttpProvider)
             else {"speed": float(settings["SIMULATOR_SPEED"])})
    if account is None:
        return cls(base_url=None, credentials={},
                   options=cls.options_or_refusal(widget_options), **extra)
    return cls(base_url=account.base_url, credentials=decrypt_credentials(account),
               options=cls.options_or_refusal({**(account.options or {}), **widget_options}),
               shows_answers=not tenant_sets_address(account), **extra)
