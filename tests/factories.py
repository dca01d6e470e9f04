"""Keyword-only factories for test data, and helpers that act like the frame and the admin.

The factories run inside the caller's app context and return the rows they made;
``create_tree`` builds a whole tenant tree in a context of its own and returns ids.
They go through ``widget_server/services`` where a service exists, so the data a
test starts from obeys the rules a user's would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property
from types import MappingProxyType

from flask.testing import FlaskClient
from sqlalchemy import event, select

from widget_server.extensions import db
from widget_server.models import (
    Account,
    AllowedDomain,
    ApiKey,
    CallEvent,
    CallRequest,
    ProviderAccount,
    User,
    Widget,
    utcnow,
)
from widget_server.security import tokens
from widget_server.services import accounts, api_keys, provider_accounts
from widget_server.services import widgets as widget_service
from widget_server.services.users import hash_password

PAGE_ORIGIN = "https://shop.example"
OWN_ORIGIN = "http://localhost"
VISITOR_NUMBER = "+12025550123"
BUSINESS_NUMBER = "+12025550100"
PASSWORD = "correct horse battery"
ROLES = ("owner", "member", "read-only")
_NONE = MappingProxyType({})


@cache
def password_hash() -> str:
    """``PASSWORD`` hashed once per run: hashing is deliberately slow (0.3 s here)."""
    return hash_password(PASSWORD)


def create_account(*, name: str = "acme", kind: str = "client", parent: Account | None = None,
                   daily: int | None = None, monthly: int | None = None, **fields) -> Account:
    """An account under ``parent`` as the parent would create it, else a root of its own."""
    if parent is not None:
        return accounts.create_account(parent, name=name, parent_id=parent.id, kind=kind,
                                       daily=daily, monthly=monthly)
    account = Account(name=name, kind=kind, daily_call_cap=daily, monthly_call_cap=monthly,
                      **fields)
    db.session.add(account)
    db.session.commit()
    return account


def create_user(*, account: Account, role: str = "owner", email: str | None = None) -> User:
    """A user who signs in with ``PASSWORD``; ``email`` defaults to role@account.example.

    Not through services.users.create_user, which hashes each password: a tree
    has up to 21 users, and a hash costs 0.3 s.
    """
    user = User(account_id=account.id, role=role, password_hash=password_hash(),
                email=email or f"{role}@{account.name}.example")
    db.session.add(user)
    db.session.commit()
    return user


def create_api_key(*, account: Account, name: str = "test") -> tuple[ApiKey, str]:
    """A key of ``account`` and its plaintext, issued as the account itself would."""
    return api_keys.create_api_key(account, account_id=account.id, name=name)


def create_provider_account(*, account: Account, name: str = "sim", kind: str = "simulator",
                            base_url: str | None = None, credentials: dict | None = None,
                            options: dict | None = None) -> ProviderAccount:
    return provider_accounts.add(account, owner=account, name=name, kind=kind,
                                 base_url=base_url, credentials=credentials, options=options)


def create_widget(*, account: Account, domains=("shop.example",),
                  numbers=(BUSINESS_NUMBER,), **fields) -> Widget:
    """A widget stored as given: tests of the call path set fields the way a row may hold them."""
    widget = Widget(account_id=account.id, business_numbers=list(numbers),
                    domains=[AllowedDomain(pattern=d) for d in domains], **fields)
    db.session.add(widget)
    db.session.commit()
    db.session.refresh(widget)
    return widget


def create_call(*, widget: Widget, status: str = "completed", reason: str | None = None,
                number: str = VISITOR_NUMBER, country: str = "US",
                created_at: datetime | None = None, report: dict | None = None,
                events: Iterable[tuple[str, str | None, dict]] = (), **fields) -> CallRequest:
    """A call in the widget's account's history, as the reports list it.

    ``events`` are (status, reason, detail) in order.
    """
    call = CallRequest(widget_id=widget.id, account_id=widget.account_id,
                       visitor_number=number, visitor_country=country,
                       client_ip="203.0.113.7", page_origin=PAGE_ORIGIN, status=status,
                       reason=reason, provider_kind="simulator", provider_report=report,
                       created_at=created_at or utcnow(), **fields)
    call.events = [CallEvent(status=s, reason=r, detail=d) for s, r, d in events]
    db.session.add(call)
    db.session.commit()
    return call


@dataclass
class Tree:
    """Ids by name: ``ids`` of accounts, and of the tree's providers, widgets and domains."""

    ids: dict[str, int] = field(default_factory=dict)
    providers: dict[str, int] = field(default_factory=dict)
    widgets: dict[str, int] = field(default_factory=dict)
    domains: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)


def create_tree(app, *, resellers: Mapping[str, Iterable[str]] = _NONE,
                clients: Iterable[str] = (),
                allowances: Mapping[str, tuple[int | None, int | None]] = _NONE,
                users: Mapping[str, Iterable[str]] = _NONE,
                providers: Mapping[str, str] = _NONE,
                widgets: Mapping[str, Mapping] = _NONE,
                keys: bool = False) -> Tree:
    """The operator, ``resellers`` (name -> its clients' names) and ``clients`` under it.

    ``allowances``: account -> (daily, monthly); ``users``: account -> roles, each
    signing in as role@account.example; ``providers``: simulator provider account
    -> its owner; ``widgets``: widget name -> {"account": owner, "domains": [...],
    "provider": provider name}; ``keys``: one API key per account.
    """
    tree = Tree()
    with app.app_context():
        operator = create_account(name="operator", kind="operator")
        made = {"operator": operator}

        def add(name: str, kind: str, parent: Account) -> None:
            daily, monthly = allowances.get(name, (None, None))
            made[name] = create_account(name=name, kind=kind, parent=parent, daily=daily,
                                        monthly=monthly)

        for reseller, its_clients in resellers.items():
            add(reseller, "reseller", operator)
            for client in its_clients:
                add(client, "client", made[reseller])
        for client in clients:
            add(client, "client", operator)
        for name, roles in users.items():
            for role in roles:
                create_user(account=made[name], role=role)
        for name, owner in providers.items():
            tree.providers[name] = create_provider_account(account=made[owner], name=name).id
        for name, spec in widgets.items():
            owner = made[spec["account"]]
            settings = {"name": name, "business_numbers": [BUSINESS_NUMBER]}
            if "provider" in spec:
                settings["provider_account_id"] = tree.providers[spec["provider"]]
            widget = widget_service.create_widget(owner, account_id=owner.id, settings=settings,
                                                  domains=spec.get("domains", ()))
            tree.widgets[name] = widget.id
            tree.domains.update({d.pattern: d.id for d in widget.domains})
        if keys:
            tree.keys = {name: create_api_key(account=account)[1]
                         for name, account in made.items()}
        tree.ids = {name: account.id for name, account in made.items()}
    return tree


# The trees most tests start from, for create_tree(app, **SHAPE).
# operator > reseller north (100/day, 1000/month) > north-a (10, 100), north-b (20, 200);
# operator > reseller south > south-a; every role in every account.
NORTH_SOUTH = {
    "resellers": {"north": ("north-a", "north-b"), "south": ("south-a",)},
    "allowances": {"north": (100, 1000), "north-a": (10, 100), "north-b": (20, 200)},
    "users": dict.fromkeys(("operator", "north", "north-a", "north-b", "south", "south-a"),
                           ROLES),
}
# operator > reseller resell (every role; provider resell-sim) > client-a (an owner;
# widget "client shop" on shop.example); operator > client rival (widget "rival shop"
# on rival.example, on its provider rival-sim), whom nobody in resell may see.
RESELL_RIVAL = {
    "resellers": {"resell": ("client-a",)},
    "clients": ("rival",),
    "users": {"resell": ROLES, "client-a": ("owner",)},
    "providers": {"resell-sim": "resell", "rival-sim": "rival"},
    "widgets": {"client shop": {"account": "client-a", "domains": ["shop.example"]},
                "rival shop": {"account": "rival", "domains": ["rival.example"],
                               "provider": "rival-sim"}},
}


def with_forged_signature(signed: str) -> str:
    """``signed`` (an itsdangerous token, or a text ending in one) with its signature changed.

    The signature's first character changes, not its last: base64's last character
    carries padding bits, so a token whose last characters were changed can decode
    to the same signature and still be valid (a test forging that way failed about
    once in a thousand runs).
    """
    head, _, signature = signed.rpartition(".")
    return f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


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


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


class AdminClient(FlaskClient):
    """A test client of a signed-in user; ``csrf`` is its session's CSRF token."""

    @cached_property
    def csrf(self) -> str:
        return csrf_token(self)


def signed_in(app, user: str | int) -> AdminClient:
    """A test client with the session of ``user`` (an email or an id), as after signing in."""
    with app.app_context():
        found = db.session.get(User, user if isinstance(user, int) else user_id(app, user))
        session_id = found.get_id()
    client = AdminClient(app, app.response_class, use_cookies=True)
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def csrf_token(client, path: str = "/admin/") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def admin_post(client: AdminClient, path: str, **data):
    """Post an admin form as the browser does, with the session's CSRF token."""
    return client.post(path, data={"csrf_token": client.csrf, **data})


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_image(*, width: int = 64, height: int = 32, rgb: tuple[int, int, int] = (200, 30, 60),
              padding: int = 0) -> bytes:
    """A real PNG of one colour; ``padding`` bytes of an ancillary chunk make it larger."""
    row = b"\x00" + bytes(rgb) * width
    chunks = [_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
              _png_chunk(b"IDAT", zlib.compress(row * height))]
    if padding:
        chunks.append(_png_chunk(b"zzPd", bytes(padding)))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + _png_chunk(b"IEND", b"")


def jpeg_header(*, width: int = 64, height: int = 32) -> bytes:
    """The start of a baseline JPEG as far as its size: JFIF, then a start of frame."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + bytes(9)
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def webp_header(*, width: int = 64, height: int = 32) -> bytes:
    """An extended (VP8X) WebP header with its canvas size."""
    body = (b"WEBP" + b"VP8X" + struct.pack("<I", 10) + bytes(4)
            + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little"))
    return b"RIFF" + struct.pack("<I", len(body)) + body


SVG_LOGO = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><script>alert(1)</script></svg>')


@contextmanager
def statements_sent(app) -> Iterator[list[str]]:
    """The statements ``app``'s database is sent inside the block, by every thread."""
    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def note(_connection, _cursor, statement, *_):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)
