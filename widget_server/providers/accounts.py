"""Provider accounts: credentials encrypted at rest, base URLs checked, and the adapter.

Credentials are a JSON object encrypted with ``MultiFernet`` (the first
configured key encrypts, any decrypts). They are decrypted only here, in the
worker, when a call is placed or an account is checked.
"""

from __future__ import annotations

import json

from cryptography.fernet import InvalidToken
from flask import current_app

from widget_server.models import ProviderAccount, Widget
from widget_server.providers import provider_class
from widget_server.providers.base import Field, Provider
from widget_server.security import outbound
from widget_server.security.keys import fernet


class CredentialsError(ValueError):
    """Credentials that cannot be used: missing fields, or a value that does not decrypt."""


def _check_fields(fields: tuple[Field, ...], values: dict, what: str) -> None:
    known = {f.name: f for f in fields}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise CredentialsError(f"Unknown {what}: {', '.join(unknown)}; "
                               f"expected {', '.join(known) or 'none'}.")
    missing = [f.name for f in fields if f.required and not values.get(f.name)]
    if missing:
        raise CredentialsError(f"Missing {what}: {', '.join(missing)}.")
    for name, value in values.items():
        limit = known[name].max_length
        if limit and len(str(value)) > limit:
            raise CredentialsError(f"{name} is longer than {limit} characters.")


def validate(kind: str, credentials: dict, options: dict) -> None:
    cls = provider_class(kind)
    _check_fields(cls.credential_fields, credentials, "credentials")
    _check_fields(cls.option_fields, {k: v for k, v in options.items()
                                      if not k.startswith("var_")}, "options")
    problem = cls.option_problem(options)
    if problem:
        raise CredentialsError(problem)


def options_problem(kind: str, options: dict) -> str | None:
    """Why ``options`` do not suit provider ``kind``, or None."""
    if not all(isinstance(v, (str, int, float, bool)) for v in options.values()):
        return "Option values are texts, numbers or booleans."
    cls = provider_class(kind)
    try:
        _check_fields(cls.option_fields, {k: v for k, v in options.items()
                                          if not k.startswith("var_")}, "options")
        return cls.option_problem(options)
    except (CredentialsError, ValueError, TypeError) as error:
        return str(error)


def widget_options_problem(account: ProviderAccount | None, options: dict) -> str | None:
    """Why a widget's own ``options`` fail once laid over its provider ``account``'s, as
    a call uses them: a widget may override one option and leave the required rest."""
    if account is None:
        return options_problem("simulator", options)
    return options_problem(account.kind, {**(account.options or {}), **options})


def base_url_problem(kind: str, base_url: str | None) -> str | None:
    """Why ``base_url`` cannot be saved for a ``kind`` account, as a sentence, or None.

    The one check the admin, the API and the command line run on saving: the
    outbound rule (https, public addresses, the operator's private hosts), and
    an address for white-label kinds, which have no default.
    """
    if not base_url:
        if provider_class(kind).default_base_url:
            return None
        return (f"{kind} has no public address: give the reseller's own, "
                "e.g. https://voice.example.")
    if len(base_url) > 500:
        return "Give an address of at most 500 characters."
    try:
        outbound.policy(current_app.config).check_url(base_url)
    except outbound.RefusedURL as error:
        return str(error)
    return None


def tenant_sets_address(account: ProviderAccount) -> bool:
    """Whether a tenant (a reseller or client, not the operator) edits this account.

    Its exchanges then keep no text of the provider's: a base URL aimed at
    some other server must not read that server's answers back.
    """
    return account.account.kind != "operator"


def encrypt_credentials(credentials: dict) -> str:
    return fernet(current_app.config).encrypt(json.dumps(credentials).encode()).decode()


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


def adapter_for(account: ProviderAccount | None, widget: Widget | None = None) -> Provider:
    """The adapter of ``account`` (the simulator when none), credentials decrypted."""
    settings = dict(current_app.config)
    widget_options = dict(widget.provider_options or {}) if widget else {}
    if account is None:
        return provider_class("simulator")(base_url=None, credentials={},
                                           options=widget_options, settings=settings)
    return provider_class(account.kind)(
        base_url=account.base_url, credentials=decrypt_credentials(account),
        options={**(account.options or {}), **widget_options}, settings=settings,
        shows_answers=not tenant_sets_address(account))
