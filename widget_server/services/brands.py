"""White label: the brand a reseller (or the operator) shows its clients, and who sees which.

A brand is a product name, a logo, a primary colour, a support address and
an optional admin host name. Resellers and the operator set their own (and
the operator any reseller's); a client has none of its own. What anyone sees
is the brand of the nearest branded account at or above them; with none, the
operator's defaults (``PRODUCT_NAME``, default "widget-server").

For other code, the one function to call is ``brand_for_account(account)``: a
``Branding`` with ``product_name``, ``primary_colour``, ``text_colour`` (black
or white, readable on the primary colour), ``ink_colour`` (the primary colour
where it reads on white, else the default ink), ``support_email``,
``logo_path``/``logo_width``/``logo_height`` (None without a logo),
``stylesheet_path`` and ``admin_url(path)`` (the admin on the brand's host
name, else ``PUBLIC_URL``). Admin templates get the signed-in user's brand
(or, before sign-in, the brand of the host asked) as the Jinja variable
``brand`` (admin/brand.py). A mail passes ``brand=brand_for_account(...)`` of
the account it is about to ``render_template``, since a mail is about that
account, not about whoever is signed in; the outbox puts the brand's name in
``From`` and its support address in ``Reply-To`` (mail/outbox.py).

Host names: the admin on a brand's ``host_name`` shows that brand and lets
only people of that account's subtree sign in; any other host shows the
operator's brand. A host name is refused when it is the installation's own
(``PUBLIC_URL``'s, or the one the change is made on), and is
held by the first brand that names it; the operator can clear it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import idna
from flask import current_app, has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from widget_server.colours import WHITE, contrast, text_colour
from widget_server.extensions import db
from widget_server.images import ImageError, read_image
from widget_server.models import Account, Brand
from widget_server.services.accounts import check_may_administer
from widget_server.services.actors import Actor, acting_account
from widget_server.services.errors import ServiceError, invalid_fields
from widget_server.services.widgets import notify_emails
from widget_server.tenancy import ancestors, in_subtree

BRANDING_KINDS = ("operator", "reseller")
DEFAULT_COLOUR = "#0b6e4f"
# The admin's ink on white (static/admin.css), for a primary colour too light to read.
DEFAULT_INK = "#1b1f23"
PRODUCT_NAME_MAX = 60
LOGO_MAX_BYTES = 200 * 1024
LOGO_SIDES = (16, 2048)
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class Keep:
    """The logo argument that leaves the stored logo as it is."""


KEEP: Final = Keep()


@dataclass(frozen=True)
class Branding:
    """A brand as shown: stored values, or the defaults where none are stored."""

    account_id: int | None
    product_name: str
    primary_colour: str = DEFAULT_COLOUR
    support_email: str | None = None
    host_name: str | None = None
    logo_digest: str | None = None
    logo_width: int | None = None
    logo_height: int | None = None

    @property
    def text_colour(self) -> str:
        """Black or white, whichever reads on the primary colour (WCAG AA where one can)."""
        return text_colour(self.primary_colour)

    @property
    def ink_colour(self) -> str:
        """The primary colour as text on white where it reads (4.5:1), else the default ink."""
        return self.primary_colour if contrast(self.primary_colour, WHITE) >= 4.5 else DEFAULT_INK

    @property
    def logo_path(self) -> str | None:
        return f"/admin/brand/logo/{self.logo_digest}" if self.logo_digest else None

    @property
    def stylesheet_path(self) -> str:
        """A stylesheet named by its colour: the same for every brand of that colour, so it
        is cached for good and needs no lookup (admin/brand.py serves it)."""
        return f"/admin/brand/theme/{self.primary_colour[1:]}.css"

    def admin_url(self, path: str) -> str | None:
        """``path`` of the admin as this brand's people reach it: on its host name (with
        ``PUBLIC_URL``'s scheme), else at ``PUBLIC_URL``; None when neither says where."""
        base = current_app.config["PUBLIC_URL"].rstrip("/")
        if self.host_name:
            scheme = urlsplit(base).scheme if base else "https"
            return f"{scheme}://{self.host_name}{path}"
        return f"{base}{path}" if base else None


def default_branding() -> Branding:
    return Branding(account_id=None, product_name=current_app.config["PRODUCT_NAME"])


def branding(row: Brand) -> Branding:
    return Branding(account_id=row.account_id, product_name=row.product_name,
                    primary_colour=row.primary_colour, support_email=row.support_email,
                    host_name=row.host_name, logo_digest=row.logo_digest,
                    logo_width=row.logo_width, logo_height=row.logo_height)


def own_brand(account_id: int) -> Brand | None:
    """The brand ``account_id`` sets itself, if any."""
    return db.session.scalar(select(Brand).where(Brand.account_id == account_id))


def brand_for_account(account: Account | None) -> Branding:
    """The brand people of ``account`` see: its own, else the nearest branded account
    above it, else the operator's defaults. Two queries."""
    if account is None:
        return operator_branding()
    chain = [account.id, *(above.id for above in ancestors(account))]
    rows = {row.account_id: row for row in db.session.scalars(
        select(Brand).where(Brand.account_id.in_(chain)))}
    for account_id in chain:
        if account_id in rows:
            return branding(rows[account_id])
    return default_branding()


def operator_branding() -> Branding:
    """The operator's brand: what unknown hosts and mail about no account show."""
    row = db.session.scalar(select(Brand).join(Account, Brand.account_id == Account.id)
                            .where(Account.kind == "operator", Account.parent_id.is_(None)))
    return branding(row) if row is not None else default_branding()


def request_host_name(host: str) -> str:
    """A ``Host`` value as brands name hosts: lower case, without port or final dot."""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 address: never a brand's
        return host
    return host.rpartition(":")[0] if ":" in host else host.rstrip(".")


def brand_of_host(host: str) -> Brand | None:
    """The brand whose admin host name ``host`` (a ``Host`` header) is, if any."""
    name = request_host_name(host).rstrip(".")
    if not name or len(name) > 253:
        return None
    return db.session.scalar(select(Brand).where(Brand.host_name == name))


def brand_for_host(host: str) -> Branding:
    """The brand the admin shows on ``host`` before anyone signs in."""
    row = brand_of_host(host)
    return branding(row) if row is not None else operator_branding()


def may_sign_in_on(host: str, account: Account) -> bool:
    """Whether people of ``account`` use the admin on ``host``: on a brand's host name only
    that brand's subtree does (its sessions and sign-ins stay there); anywhere else, all."""
    row = brand_of_host(host)
    return row is None or in_subtree(row.account, account.id)


# Changing a brand


def check_may_brand(actor: Actor, account_id: int) -> Account:
    """The account if ``actor`` may set its brand: an owner (or key) of it or above it,
    and a reseller or the operator. Not found outside the actor's subtree."""
    account = check_may_administer(actor, account_id, "account")
    if account.kind not in BRANDING_KINDS:
        raise ServiceError("Only resellers and the operator set a brand; a client shows "
                           "the brand of the account above it.", kind="forbidden")
    return account


def check_may_read(actor: Actor, account_id: int) -> Account:
    if not in_subtree(acting_account(actor), account_id):
        raise ServiceError("There is no such account.", kind="not_found")
    return db.session.get_one(Account, account_id)


def checked_product_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ServiceError("Enter the product name your clients see.", "product_name")
    value = " ".join(value.split())
    if len(value) > PRODUCT_NAME_MAX:
        raise ServiceError(f"Use at most {PRODUCT_NAME_MAX} characters.", "product_name")
    if not value.isprintable():
        raise ServiceError("Use printable characters only.", "product_name")
    return value


def checked_colour(value: object) -> str:
    if value is None or value == "":
        return DEFAULT_COLOUR
    if not isinstance(value, str) or not _COLOUR.fullmatch(value.strip()):
        raise ServiceError("Use a colour such as #0b6e4f.", "primary_colour")
    return value.strip().lower()


def checked_support_email(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, str):
            return notify_emails([value])[0]
    except ServiceError:
        pass
    raise ServiceError("Use an e-mail address such as support@example.com.", "support_email")


def _installation_hosts() -> set[str]:
    hosts = set()
    if public := urlsplit(current_app.config["PUBLIC_URL"]).hostname:
        hosts.add(public.lower())
    if has_request_context():
        hosts.add(request_host_name(request.host))
    return hosts


def checked_host_name(value: object, brand: Brand | None) -> str | None:
    """A host name the admin may answer on for ``brand``: ASCII (IDNA), no port, not an
    address, not the installation's own, or None for none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    wrong = ServiceError("Use a host name such as admin.example.com, without https:// "
                         "or a port.", "host_name")
    if not isinstance(value, str):
        raise wrong
    try:
        host = idna.encode(value.strip().rstrip(".").lower(), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise wrong from None
    labels = host.split(".")
    if (len(host) > 253 or len(labels) < 2 or labels[-1].isdigit()
            or not all(_LABEL.fullmatch(label) for label in labels)):
        raise wrong
    if host in _installation_hosts() and not (brand is not None and brand.host_name == host):
        raise ServiceError("This is the installation's own address; use a host name of "
                           "your own, such as admin.example.com.", "host_name")
    taken = db.session.scalar(select(Brand).where(Brand.host_name == host))
    if taken is not None and taken is not brand:
        raise ServiceError("Another brand uses this host name already.", "host_name",
                           kind="conflict")
    return host


@dataclass(frozen=True)
class Logo:
    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:32]


def checked_logo(data: bytes) -> Logo:
    """A logo of at most 200 KB and 16 to 2048 pixels a side, PNG, JPEG or WebP by content."""
    if len(data) > LOGO_MAX_BYTES:
        raise ServiceError(f"The logo is {-(-len(data) // 1024)} KB; use one of at most "
                           f"{LOGO_MAX_BYTES // 1024} KB.", "logo")
    if not data:
        raise ServiceError("The logo file is empty.", "logo")
    try:
        image = read_image(data)
    except ImageError as error:
        raise ServiceError(str(error), "logo") from None
    low, high = LOGO_SIDES
    if not (low <= image.width <= high and low <= image.height <= high):
        raise ServiceError(f"The logo is {image.width} x {image.height} pixels; use one of "
                           f"{low} to {high} pixels a side.", "logo")
    return Logo(data, image.content_type, image.width, image.height)


def _store_logo(row: Brand, logo: Logo | None) -> None:
    row.logo = logo.data if logo else None
    row.logo_type = logo.content_type if logo else None
    row.logo_digest = logo.digest if logo else None
    row.logo_width = logo.width if logo else None
    row.logo_height = logo.height if logo else None


def checked_brand(row: Brand | None, *, product_name: object, primary_colour: object = None,
                  support_email: object = None, host_name: object = None,
                  logo: bytes | Keep | None = KEEP) -> dict[str, object]:
    """The fields of a brand (``row`` when it exists) as stored; every invalid one refused
    at once (a host name another brand holds: a conflict, by itself)."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    checks: dict[str, Callable[[], object]] = {
        "product_name": lambda: checked_product_name(product_name),
        "primary_colour": lambda: checked_colour(primary_colour),
        "support_email": lambda: checked_support_email(support_email),
        "host_name": lambda: checked_host_name(host_name, row)}
    if isinstance(logo, bytes):
        checks["logo"] = lambda: checked_logo(logo)
    for field, check in checks.items():
        try:
            values[field] = check()
        except ServiceError as error:
            if error.kind != "invalid":
                raise
            errors[field] = error.message
    if errors:
        raise invalid_fields(errors)
    return values


def save_brand(actor: Actor, account_id: int, *, product_name: object,
               primary_colour: object = None, support_email: object = None,
               host_name: object = None, logo: bytes | Keep | None = KEEP) -> Brand:
    """Set the account's brand (every field given; ``logo`` bytes, None to remove it, or
    KEEP), committed. Every invalid field is refused at once."""
    account = check_may_brand(actor, account_id)
    row = own_brand(account.id)
    values = checked_brand(row, product_name=product_name, primary_colour=primary_colour,
                           support_email=support_email, host_name=host_name, logo=logo)
    if row is None:
        row = Brand(account_id=account.id)
        db.session.add(row)
    row.product_name = str(values["product_name"])
    row.primary_colour = str(values["primary_colour"])
    row.support_email = values["support_email"]  # type: ignore[assignment]
    row.host_name = values["host_name"]  # type: ignore[assignment]
    if not isinstance(logo, Keep):
        _store_logo(row, values.get("logo"))  # type: ignore[arg-type]
    _commit_host()
    return row


def set_logo(actor: Actor, account_id: int, data: bytes) -> Brand:
    """Put ``data`` as the logo of the account's brand, which must exist; committed."""
    account = check_may_brand(actor, account_id)
    logo = checked_logo(data)
    row = own_brand(account.id)
    if row is None:
        raise ServiceError("Set the brand's product name first; the logo belongs to it.",
                           kind="conflict")
    _store_logo(row, logo)
    db.session.commit()
    return row


def remove_logo(actor: Actor, account_id: int) -> Brand | None:
    """The brand shows its product name alone again; committed."""
    account = check_may_brand(actor, account_id)
    row = own_brand(account.id)
    if row is not None:
        _store_logo(row, None)
        db.session.commit()
    return row


def remove_brand(actor: Actor, account_id: int) -> None:
    """The account's people see the brand above it again; its host name is free."""
    account = check_may_brand(actor, account_id)
    row = own_brand(account.id)
    if row is not None:
        db.session.delete(row)
        db.session.commit()


def _commit_host() -> None:
    """Commit; of two brands claiming one host name at once, the second is told."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("Another brand uses this host name already.", "host_name",
                           kind="conflict") from None


def logo_by_digest(digest: str) -> Brand | None:
    """A brand whose logo is ``digest`` (any: the same bytes wherever they are used)."""
    return db.session.scalar(select(Brand).where(Brand.logo_digest == digest).limit(1))

