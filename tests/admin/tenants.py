"""A small account tree with people in every role, and a signed-in test client.

operator > reseller "north" > clients "north-a", "north-b"
operator > reseller "south" > client "south-a"
"""

from __future__ import annotations

import re

from widget_server.extensions import db
from widget_server.models import Account, User
from widget_server.services.users import hash_password

PASSWORD = "correct horse battery"


def build_tree(app) -> dict[str, int]:
    """Create the tree and an owner, member and read-only user in each account; name -> id."""
    with app.app_context():
        operator = Account(name="operator", kind="operator")
        db.session.add(operator)
        db.session.flush()
        north = Account(name="north", kind="reseller", parent_id=operator.id,
                        daily_call_cap=100, monthly_call_cap=1000)
        south = Account(name="south", kind="reseller", parent_id=operator.id)
        db.session.add_all([north, south])
        db.session.flush()
        clients = [Account(name="north-a", kind="client", parent_id=north.id,
                           daily_call_cap=10, monthly_call_cap=100),
                   Account(name="north-b", kind="client", parent_id=north.id),
                   Account(name="south-a", kind="client", parent_id=south.id)]
        db.session.add_all(clients)
        db.session.flush()
        accounts = [operator, north, south, *clients]
        password_hash = hash_password(PASSWORD)  # one slow hash for everyone
        for account in accounts:
            for role in ("owner", "member", "read-only"):
                db.session.add(User(account_id=account.id, role=role,
                                    email=f"{role}@{account.name}.example",
                                    password_hash=password_hash))
        db.session.commit()
        return {account.name: account.id for account in accounts}


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.query(User.id).filter(User.email == email).scalar()


def session_id(app, email: str) -> str:
    """What a session of ``email``'s carries: the user's id and session generation."""
    with app.app_context():
        return db.session.get(User, user_id(app, email)).get_id()


def signed_in(app, email: str):
    """A test client with ``email``'s session, as after signing in."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id(app, email)
        session["_fresh"] = True
    return client


def csrf_token(client, path: str = "/admin/") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
