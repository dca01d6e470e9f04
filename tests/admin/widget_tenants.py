"""Two tenants for the admin's widget, domain and provider pages, and signed-in test clients.

``resell`` (a reseller, with client ``client-a``) is the caller's side; ``rival`` is a
client under the operator that nobody in ``resell`` may see. Every role has a user
in ``resell``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from widget_server.extensions import db
from widget_server.models import Account, AllowedDomain, ProviderAccount, User, Widget
from widget_server.services.provider_accounts import encrypt_credentials
from widget_server.services.users import hash_password

PASSWORD = "correct horse"
ROLES = ("owner", "member", "read-only")
_hashes: dict[str, str] = {}


@dataclass
class Tenants:
    reseller_id: int
    client_id: int
    reseller_provider_id: int
    client_widget_id: int
    rival_widget_id: int
    rival_domain_id: int
    rival_provider_id: int


def _password_hash() -> str:
    """Hashed once per run: hashing is deliberately slow, and the tests sign in by session."""
    return _hashes.setdefault(PASSWORD, hash_password(PASSWORD))


def make_tenants(app) -> Tenants:
    with app.app_context():
        operator = Account(name="operator", kind="operator")
        db.session.add(operator)
        db.session.flush()
        reseller = Account(name="resell", kind="reseller", parent_id=operator.id)
        rival = Account(name="rival", kind="client", parent_id=operator.id)
        db.session.add_all([reseller, rival])
        db.session.flush()
        client = Account(name="client-a", kind="client", parent_id=reseller.id)
        db.session.add(client)
        db.session.flush()
        for role in ROLES:
            db.session.add(User(account_id=reseller.id, email=f"{role}@resell.example",
                                role=role, password_hash=_password_hash()))
        db.session.add(User(account_id=client.id, email="owner@client-a.example",
                            role="owner", password_hash=_password_hash()))
        reseller_provider = ProviderAccount(account_id=reseller.id, name="resell-sim",
                                            kind="simulator", options={},
                                            credentials_encrypted=encrypt_credentials({}))
        rival_provider = ProviderAccount(account_id=rival.id, name="rival-sim",
                                         kind="simulator", options={},
                                         credentials_encrypted=encrypt_credentials({}))
        client_widget = Widget(account_id=client.id, name="client shop",
                               business_numbers=["+12025550100"],
                               domains=[AllowedDomain(pattern="shop.example")])
        rival_widget = Widget(account_id=rival.id, name="rival shop",
                              business_numbers=["+12025550100"], provider_account=rival_provider,
                              domains=[AllowedDomain(pattern="rival.example")])
        db.session.add_all([reseller_provider, rival_provider, client_widget, rival_widget])
        db.session.commit()
        return Tenants(reseller.id, client.id, reseller_provider.id, client_widget.id,
                       rival_widget.id, rival_widget.domains[0].id, rival_provider.id)


def signed_in(app, email: str):
    """A test client with ``email``'s session; ``client.csrf`` holds its CSRF token."""
    with app.app_context():
        session_id = db.session.scalar(select(User).where(User.email == email)).get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    page = client.get("/admin/sign-in").get_data(as_text=True)
    client.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client


def as_role(app, role: str):
    return signed_in(app, f"{role}@resell.example")


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": client.csrf, **data})
