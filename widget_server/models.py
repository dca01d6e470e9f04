"""The data: accounts, their widgets and provider accounts, and call requests."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import cast

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from widget_server.call_states import CallState
from widget_server.extensions import Model
from widget_server.i18n import N_


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_public_id() -> str:
    """A random id that starts with a letter or digit.

    An id starting with "-" reads as an option to the command line and as a formula to a
    spreadsheet (the CSV export would have to quote it, changing the id).
    """
    while True:
        public_id = secrets.token_urlsafe(16)
        if public_id[0].isalnum():
            return public_id


class Account(Model):
    """operator > resellers > clients; a client may sit directly under the operator."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique among siblings, case-insensitively (index below); the CLI's names for
    # accounts are paths when a name alone is ambiguous (cli.account_by_reference).
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default="client")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # None: the installation's default. A parent sets its children's, within its own.
    daily_call_cap: Mapped[int | None]
    monthly_call_cap: Mapped[int | None]
    # Everyone signing in to this account or one below it needs a second factor
    # (services/two_factor.py): set by an owner of the account or above it.
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The parent's decisions for this account (services/accounts.py): whether it may
    # add provider accounts of its own, and how many live widgets it may have (None:
    # no limit).
    may_add_providers: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    max_widgets: Mapped[int | None]
    # Suspended by its parent: its widgets and those below refuse visitors, its users
    # and API keys are refused, until unsuspended.
    suspended_at: Mapped[datetime | None]
    # Deleted by its parent: kept (as are its calls) for the reports of past months;
    # its name is free again, everything else of it is gone or revoked.
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Account | None] = relationship(remote_side=[id])
    widgets: Mapped[list[Widget]] = relationship(back_populates="account")


# Roots (no parent) count as siblings of each other: NULLs are distinct in an index.
# A deleted account's name is free for a new sibling.
Index("uq_accounts_sibling_name", func.coalesce(Account.parent_id, 0), func.lower(Account.name),
      unique=True, sqlite_where=Account.deleted_at.is_(None),
      postgresql_where=Account.deleted_at.is_(None))


class Brand(Model):
    """What a reseller's (or the operator's) clients see: name, logo, colour, support address.

    At most one per account; the nearest branded account above a user wins
    (services/brands.py). ``host_name``: the admin answers on it with this brand.
    The logo is kept here (every host and worker reads one database), loaded
    only when served; ``logo_digest`` names it in its URL.
    """

    __tablename__ = "brands"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            unique=True)
    product_name: Mapped[str] = mapped_column(String(60))
    primary_colour: Mapped[str] = mapped_column(String(7))
    support_email: Mapped[str | None] = mapped_column(String(254))
    host_name: Mapped[str | None] = mapped_column(String(253), unique=True)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(16))
    logo_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    logo_width: Mapped[int | None]
    logo_height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    account: Mapped[Account] = relationship()


class User(UserMixin, Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # Empty until an invited person chooses their password (services/users.py).
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="owner")
    # Part of the id a session carries: bumped at sign-out and at every password
    # change, it ends every session (a copied cookie too) issued before.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # TOTP (services/two_factor.py): the secret as a Fernet token, set at enrolment
    # and asked for at sign-in once confirmed; the time step of the last code
    # accepted, so no code is accepted twice.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    totp_last_step: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The admin's language (i18n.ADMIN_LANGUAGES); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(8))
    # The zone reports show times in (a zoneinfo name); None: each widget's own.
    time_zone: Mapped[str | None] = mapped_column(String(64))

    account: Mapped[Account] = relationship()

    @property
    def has_password(self) -> bool:
        """False for an invited person who has not chosen their password yet."""
        return bool(self.password_hash)

    def get_id(self) -> str:
        """What the session stores: the user's id and the session generation."""
        return f"{self.id}:{self.session_generation}"


class RecoveryCode(Model):
    """A one-time code that signs in instead of a TOTP code: shown once, kept as a digest."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class RememberedDevice(Model):
    """A browser that may skip the second factor until ``expires_at``.

    The browser's cookie is signed and names the user and this row's id;
    deleting the rows (a new password, two-factor sign-in turned off) forgets
    every such browser at once.
    """

    __tablename__ = "remembered_devices"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ApiKey(Model):
    """A key for the management API: shown once, stored as a SHA-256 digest, revocable.

    The key reads ``wsk_<prefix>_<secret>``; the prefix is stored in clear so
    a key can be recognised and listed without being recoverable.
    """

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()


class ProviderAccount(Model):
    """A telephony provider login; credentials are a Fernet token, never plain."""

    __tablename__ = "provider_accounts"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(String(500))
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    # Circuit breaker: consecutive transport failures, and until when calls are refused.
    failure_count: Mapped[int] = mapped_column(default=0, server_default="0")
    circuit_open_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship()


class Widget(Model):
    __tablename__ = "widgets"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    provider_account_id: Mapped[int | None] = mapped_column(ForeignKey("provider_accounts.id"))
    # This widget's provider options, over the provider account's own.
    provider_options: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    name: Mapped[str] = mapped_column(String(120), default="Call me back")
    # Bumped by a token rotation: older embed tokens stop working.
    token_version: Mapped[int] = mapped_column(default=1)
    paused: Mapped[bool] = mapped_column(default=False)
    # Deleted widgets keep their call history; their tokens stop working.
    deleted_at: Mapped[datetime | None]
    # Opening hours: IANA time zone, and {"mon": [["09:00", "17:00"]], ...};
    # empty means always open. Outside them the widget is "hidden" or offers
    # a "callback" at a time the visitor chooses, which the queue honours.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    opening_hours: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    outside_hours: Mapped[str] = mapped_column(String(16), default="hidden",
                                               server_default="hidden")
    # The business numbers to ring (E.164), first one first.
    business_numbers: Mapped[list] = mapped_column(JSON, default=list)
    home_country: Mapped[str] = mapped_column(String(2), default="US")
    # Empty: the home country only.
    allowed_countries: Mapped[list] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The default texts are shown translated into the widget's language; an
    # owner's own text is shown as written.
    button_label: Mapped[str] = mapped_column(String(60), default=N_("Call me back"))
    button_colour: Mapped[str] = mapped_column(String(7), default="#0b6e4f")
    button_position: Mapped[str] = mapped_column(String(16), default="bottom-right")
    consent_text: Mapped[str] = mapped_column(
        String(500),
        default=N_("I agree to be called back once at this number about my enquiry."),
    )
    # The owner's promise under the form's heading ("We call you back within 30
    # seconds"); empty: none.
    promise_text: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # None: the installation default.
    cap_per_ip: Mapped[int | None]
    cap_per_number: Mapped[int | None]
    cap_per_widget: Mapped[int | None]
    # Display rules of the floating button, applied by the loader: path globs
    # where it shows (empty: everywhere) or hides, and a delay and a scroll depth.
    show_on_paths: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    hide_on_paths: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    show_after_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    show_after_scroll: Mapped[int] = mapped_column(default=0, server_default="0")
    # Who is mailed about this widget's calls, and on which events (mail/notifications.py).
    notify_emails: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    notify_events: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # A call the business did not answer is rung again this often (0: never), this
    # many minutes apart, inside opening hours (calls/redial.py).
    redial_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    redial_interval_minutes: Mapped[int] = mapped_column(default=10, server_default="10")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(back_populates="widgets")
    provider_account: Mapped[ProviderAccount | None] = relationship()
    domains: Mapped[list[AllowedDomain]] = relationship(
        back_populates="widget", cascade="all, delete-orphan", order_by="AllowedDomain.id"
    )

    @property
    def countries(self) -> list[str]:
        return list(self.allowed_countries or [self.home_country])


class AllowedDomain(Model):
    """A host the widget may be embedded on: ``example.com``, ``*.example.com``, ``host:port``."""

    __tablename__ = "allowed_domains"
    __table_args__ = (UniqueConstraint("widget_id", "pattern"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[int] = mapped_column(ForeignKey("widgets.id"))
    pattern: Mapped[str] = mapped_column(String(260))

    widget: Mapped[Widget] = relationship(back_populates="domains")


class BlockedNumber(Model):
    __tablename__ = "blocked_numbers"
    __table_args__ = (UniqueConstraint("account_id", "e164"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    e164: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallRequest(Model):
    __tablename__ = "call_requests"
    __table_args__ = (Index("ix_call_requests_widget_created", "widget_id", "created_at"),
                      # Of two tries at adding a request's next attempt at once, one stands.
                      UniqueConstraint("redial_of_id", "attempt",
                                       name="uq_call_requests_attempt"))
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    widget_id: Mapped[int] = mapped_column(ForeignKey("widgets.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    visitor_number: Mapped[str] = mapped_column(String(20))
    visitor_country: Mapped[str] = mapped_column(String(2))
    client_ip: Mapped[str] = mapped_column(String(64))
    page_origin: Mapped[str] = mapped_column(String(300))
    # Where the lead came from (calls/lead.py): the host page without its query,
    # and its utm_* and gclid parameters ({} when it had none).
    page_url: Mapped[str | None] = mapped_column(String(1000))
    campaign: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    status: Mapped[str] = mapped_column(String(16), default=CallState.QUEUED)
    reason: Mapped[str | None] = mapped_column(String(64))
    provider_kind: Mapped[str] = mapped_column(String(32))
    # A call the visitor asked for later (outside opening hours): not placed before.
    scheduled_for: Mapped[datetime | None]
    provider_call_id: Mapped[str | None] = mapped_column(String(100))
    # What the provider reported of the call: leg durations, credit used.
    provider_report: Mapped[dict | None] = mapped_column(JSON)
    # The id of the request that asked for the call, carried into the worker's logs.
    request_id: Mapped[str | None] = mapped_column(String(64))
    # The last event handed to mail and webhooks (calls/events.py); later ones are news.
    published_event_id: Mapped[int | None]
    # Each attempt at a visitor's request is a row of its own (calls/redial.py): the
    # first one is the request, later ones point at it, numbered from 1, with why
    # they were made (next_number, redial, callback, call_now) and the number rung.
    redial_of_id: Mapped[int | None] = mapped_column(ForeignKey("call_requests.id"),
                                                     index=True)
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")
    attempt_reason: Mapped[str | None] = mapped_column(String(16))
    business_number: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    widget: Mapped[Widget] = relationship()
    redial_of: Mapped[CallRequest | None] = relationship(remote_side=[id])
    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallEvent.id"
    )


class CallEvent(Model):
    """One timestamped step of a call: a state change, or a provider exchange."""

    __tablename__ = "call_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    call: Mapped[CallRequest] = relationship(back_populates="events")


class UsageCounter(Model):
    """How many calls one scope (ip, number, widget, account) made in one period."""

    __tablename__ = "usage_counters"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class SettingsVersion(Model):
    """One row counting every change to what a call request reads of a widget.

    Moved by database triggers in the statement of the change (migration 0020,
    widget_server/settings_version.py), so a process may keep widgets in memory
    and know them current from one read.
    """

    __tablename__ = "settings_version"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class RefusalCount(Model):
    """How many requests for one widget were refused for one reason on one UTC day.

    Counted by abuse/refusals.py with one upsert per refusal; ``reason`` is one of
    its ``REASONS``, never a raw refusal code, so reports keep a stable set.
    """

    __tablename__ = "refusal_counts"
    widget_id: Mapped[int] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(24), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

    widget: Mapped[Widget] = relationship()


class UnansweredNumber(Model):
    """A number whose call-backs went unanswered, across the installation (harassment guard).

    ``count`` unanswered calls since ``since``; a day after ``since`` the count
    starts again. The call that brings it to the setting's N cools the number
    down: nobody calls it before ``cooled_until``.
    """

    __tablename__ = "unanswered_numbers"
    e164: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    since: Mapped[datetime]
    cooled_until: Mapped[datetime | None]


class UsedToken(Model):
    """A single-use id (nonce, captcha solution, password link) kept until it would
    expire anyway."""

    __tablename__ = "used_tokens"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    token_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WebhookEndpoint(Model):
    """An account's receiver of its calls' events; the signing secret is a Fernet token.

    ``failing_since`` is the first failed attempt since the last success; an
    endpoint failing for ``WEBHOOK_DISABLE_AFTER`` is disabled (``disabled_at``).
    """

    __tablename__ = "webhook_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship()
    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="endpoint", cascade="all, delete-orphan", passive_deletes=True)


class WebhookDelivery(Model):
    """One event for one endpoint: sent from the queue, retried until delivered or given up.

    ``message_id`` is the Standard Webhooks ``webhook-id``, the same on every
    attempt so the receiver can drop a repeat. While ``pending``,
    ``next_attempt_at`` is when it is due (a claimed attempt moves it ahead).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id"),
                      Index("ix_webhook_deliveries_chain", "endpoint_id", "call_id", "id"),
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # None for a test event.
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call_requests.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("call_events.id"))
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="deliveries")
    call: Mapped[CallRequest | None] = relationship()
class MailDelivery(Model):
    """One mail to one recipient: the outbox the queue sends from, and the admin's log.

    ``status`` is queued until the SMTP server took it (sent), it was written
    to the log because no SMTP server is set (logged), or it was given up
    (failed). ``dedupe_key`` makes a mail that must go once (a widget's digest
    of a day) a unique row.
    """

    __tablename__ = "mail_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    widget_id: Mapped[int | None] = mapped_column(ForeignKey("widgets.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call_requests.id"))
    kind: Mapped[str] = mapped_column(String(32), default="")
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    # What the last attempt met: the SMTP server's code and words, never a credential.
    last_error: Mapped[str | None] = mapped_column(String(500))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# The tables the hot paths write and read with Core statements, typed as tables (a
# mapped class's ``__table__`` reads as a FromClause to a type checker).
CALL_REQUESTS = cast(Table, CallRequest.__table__)
CALL_EVENTS = cast(Table, CallEvent.__table__)
USED_TOKENS = cast(Table, UsedToken.__table__)
USAGE_COUNTERS = cast(Table, UsageCounter.__table__)
PROVIDER_ACCOUNTS = cast(Table, ProviderAccount.__table__)
