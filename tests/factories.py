"""Keyword-only factories for test data, and helpers that act like the frame."""

from __future__ import annotations

import base64
import hashlib
import json

from widget_server.extensions import db
from widget_server.models import Account, AllowedDomain, User, Widget
from widget_server.security import tokens
from widget_server.services.users import hash_password

PAGE_ORIGIN = "https://shop.example"
OWN_ORIGIN = "http://localhost"
VISITOR_NUMBER = "+12025550123"


def create_account(*, name: str = "acme", kind: str = "client", **fields) -> Account:
    account = Account(name=name, kind=kind, **fields)
    db.session.add(account)
    db.session.commit()
    return account


def create_user(*, account: Account, email: str, role: str = "owner",
                password: str = "correct horse battery") -> User:
    user = User(account_id=account.id, email=email, role=role,
                password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user


def create_widget(*, account: Account, domains=("shop.example",),
                  numbers=("+12025550100",), **fields) -> Widget:
    widget = Widget(account_id=account.id, business_numbers=list(numbers),
                    domains=[AllowedDomain(pattern=d) for d in domains], **fields)
    db.session.add(widget)
    db.session.commit()
    db.session.refresh(widget)
    return widget


def solve_altcha(client) -> str:
    """Fetch a challenge and solve it as the frame does; the base64 payload."""
    challenge = client.get("/embed/v1/captcha/challenge").get_json()
    for number in range(challenge["maxnumber"] + 1):
        digest = hashlib.sha256(f"{challenge['salt']}{number}".encode()).hexdigest()
        if digest == challenge["challenge"]:
            break
    else:
        raise AssertionError("challenge has no solution")
    payload = {key: challenge[key] for key in ("algorithm", "challenge", "salt", "signature")}
    payload["number"] = number
    return base64.b64encode(json.dumps(payload).encode()).decode()


def call_body(app, client, widget, **overrides) -> dict:
    """A valid call request from the frame of ``widget``; ``overrides`` replace fields."""
    with app.app_context():
        widget = db.session.merge(widget)
        body = {
            "token": tokens.embed_token(widget),
            "nonce": tokens.form_nonce(widget),
            "phone": VISITOR_NUMBER,
            "page_origin": PAGE_ORIGIN,
            "consent": True,
        }
    if "captcha" not in overrides:
        body["captcha"] = solve_altcha(client)
    body.update(overrides)
    return body


def post_call(client, body, *, origin: str | None = OWN_ORIGIN, **kwargs):
    headers = {"Origin": origin} if origin else {}
    return client.post("/embed/v1/calls", json=body, headers=headers, **kwargs)
