"""Accepting a visitor's call request: every check, cheapest first, then store and enqueue.

Nothing slow happens here: the provider is called by the queue worker. The
checks that only read run first; the captcha (a network call to a vendor)
runs outside any database transaction; then one short write transaction
(calls/admission.py) consumes the nonce and the captcha solution, stores
the call and counts every cap. Any refusal rolls the whole transaction
back, so nothing that was refused spends a cap, a nonce or a solution.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial

from flask import current_app
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import joinedload

from widget_server import settings_version
from widget_server.abuse.caps import (
    Cap,
    cap_reached,
    caps_for_call,
    give_back,
    known_full,
    refuse_if_reached,
)
from widget_server.abuse.captcha import captcha_verifier
from widget_server.abuse.cooldown import refuse_if_cooling_down
from widget_server.abuse.phone import VisitorNumber, blocked_refusal, check_visitor_number
from widget_server.abuse.refusals import note_widget
from widget_server.abuse.standing import read_standing
from widget_server.call_states import CallState
from widget_server.calls.admission import admit
from widget_server.calls.hours import when_to_call
from widget_server.calls.lead import read_lead
from widget_server.calls.live_widgets import (
    LiveWidget,
    kept_widget,
    known_stale,
    live_widget,
    moved_since,
)
from widget_server.calls.placing import record
from widget_server.calls.queue import QUEUE_ERRORS, enqueue_call, enqueue_publish
from widget_server.db_ops import queued_writes
from widget_server.errors import UNAVAILABLE, Refusal
from widget_server.extensions import db
from widget_server.i18n import forget_widget_language, use_widget_language
from widget_server.models import Account, Widget, utcnow
from widget_server.security import tokens
from widget_server.security.origins import origin_allowed
from widget_server.security.single_use import KnownSpent, SingleUse, known_spent
from widget_server.tenancy import lineage_suspended


@dataclass(frozen=True)
class CallRequestForm:
    token: object
    nonce: object
    phone: object
    captcha: object
    page_origin: object
    consent: object
    # Outside opening hours: when the visitor wants the call (ISO datetime), if offered.
    callback_at: object = None
    # The host page's URL, metadata only (calls/lead.py).
    page_url: object = None

    @classmethod
    def from_json(cls, body: object) -> CallRequestForm:
        if not isinstance(body, dict):
            raise Refusal("body_invalid", "Send the request as a JSON object.")
        return cls(**{name: body.get(name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class AcceptedCall:
    """A stored call as the visitor is told of it, read before the commit.

    Reading the call after the commit would check a connection out again and
    hold it (idle in a transaction) across the enqueue; a queue running tasks
    inline then needs a second connection per request and can drain the pool.
    """

    id: int
    public_id: str
    status: str


@cache
def _widget_by_public_id(relationships: tuple[str, ...]):
    """The widget query, loading ``relationships`` with it, built once: building a
    statement costs more than running it."""
    return select(Widget).where(Widget.public_id == bindparam("public_id")).options(
        *(joinedload(getattr(Widget, name)) for name in relationships))


def _load_widget(public_id: str, relationships: tuple[str, ...]) -> Widget | None:
    return db.session.scalars(_widget_by_public_id(relationships),
                              {"public_id": public_id}).unique().first()


def _check_widget(widget: Widget | None, version: int) -> Widget:
    """``widget`` as a token of ``version`` names it, or a refusal (removed, revoked)."""
    if widget is not None:
        use_widget_language(widget.language)
        note_widget(widget.id)
    else:  # a call request checked first on a kept copy may have noted it
        forget_widget_language()
        note_widget(None)
    # A signed token names a widget we made: gone or deleted, it was removed.
    if widget is None or widget.deleted_at is not None:
        raise Refusal("widget_removed", "This call-back widget has been removed by its owner.",
                      status=410)
    if widget.token_version != version:
        raise Refusal("token_revoked",
                      "This widget's token is no longer valid; the site owner must update it.",
                      status=403)
    return widget


def _refuse_if_off(widget: Widget, suspended: bool) -> None:
    if suspended:
        raise Refusal("account_suspended",
                      "Call-backs are not available on this site at the moment.", status=403)
    if widget.paused:
        raise Refusal("widget_paused", "Call-backs are paused on this site.", status=403)


def widget_for_token(token: object, *relationships: str) -> Widget:
    """The live widget an embed token names, or a refusal (removed, revoked, its account
    suspended, paused).

    ``relationships`` are loaded with the widget in the same query: what the caller reads.
    """
    public_id, version = tokens.read_embed_token(token if isinstance(token, str) else None)
    widget = _check_widget(_load_widget(public_id, relationships), version)
    _refuse_if_off(widget, lineage_suspended(widget.account_id))
    return widget


# All a call request reads of its widget, loaded in one query (no lazy loads).
_CALL_RELATIONSHIPS = ("account", "domains", "provider_account")


def _usable(live: LiveWidget | None, version: int) -> tuple[Widget, tuple[Account, ...]]:
    """As ``widget_for_token``, for a call request whose embed token named ``live``'s
    widget at ``version``: the widget with its domains, account and provider, and the
    accounts above it, nearest first (calls/live_widgets.py). The suspension is read
    off those accounts. Only read what is returned: it belongs to no session.
    """
    widget = _check_widget(live.widget if live else None, version)
    above = live.above if live else ()
    _refuse_if_off(widget, any(account.suspended_at is not None
                               for account in (widget.account, *above)))
    return widget, above


def _load_call_widget(public_id: str) -> Widget | None:
    return _load_widget(public_id, _CALL_RELATIONSHIPS)


def allowed_domains(widget: Widget) -> list[str]:
    return [domain.pattern for domain in widget.domains]


def check_page_origin(widget: Widget, page_origin: object, request_origin: str | None,
                      own_origin: str) -> str:
    """The embedding page's origin, once it and the request's origin are allowed.

    The request comes from the frame (our own origin) or, for a direct
    integration, from a whitelisted page; the page the frame sits in must be
    whitelisted either way.
    """
    entries = allowed_domains(widget)
    allow_http = current_app.config["DEVELOPMENT"]
    if request_origin != own_origin and not origin_allowed(
        request_origin, entries, allow_http=allow_http
    ):
        raise Refusal("origin_not_allowed",
                      "Requests from this site are not accepted for this widget.", status=403)
    if not isinstance(page_origin, str) or not origin_allowed(
        page_origin, entries, allow_http=allow_http
    ):
        raise Refusal("origin_not_allowed",
                      "This widget is not allowed on this site.", status=403)
    return page_origin


def _nonce_used() -> Refusal:
    return Refusal("nonce_used", "This form was already sent; please reload it.", status=403)


def _spent_nonces() -> KnownSpent:
    return known_spent("nonce", current_app.config["FORM_NONCE_MAX_AGE"])


class _KeptWidgetMoved(Exception):
    """The settings moved since the kept widget a request was checked on was loaded."""


@dataclass(frozen=True)
class _Checked:
    """A call request that passed every check before the captcha, and what it stores."""

    nonce_id: str
    caps: list[Cap]
    # The call's row but its request id (admission.CALL_COLUMNS).
    call: dict


def request_call(form: CallRequestForm, *, request_origin: str | None, own_origin: str,
                 client_ip: str, remote_addr: str,
                 request_id: str | None = None) -> AcceptedCall:
    """Check and store a call request; ``client_ip`` keys the caps, ``remote_addr`` is
    the visitor's own address for the captcha vendor, ``request_id`` follows the call
    into the worker's logs."""
    # A forged token is refused before a connection is taken.
    public_id, version = tokens.read_embed_token(
        form.token if isinstance(form.token, str) else None)
    check = partial(_check_request, form, token_version=version,
                    request_origin=request_origin, own_origin=own_origin, client_ip=client_ip)
    # Checked first on the widget as this process keeps it, the settings version read
    # with the request's standing (one round trip fewer than reading it first); if
    # the settings moved meanwhile, checked again on a fresh copy. Either way the
    # reading connection goes back before the captcha's network call.
    in_memory = kept_widget(public_id)
    checked = None
    if in_memory:
        with _ReadingConnection() as reader, suppress(_KeptWidgetMoved):
            checked = check(in_memory, reader=reader, kept=True)
    if checked is None:
        checked = _check_on_fresh_widget(check, public_id)

    nonce_id, caps = checked.nonce_id, checked.caps
    solution = captcha_verifier().verify(form.captcha, remote_ip=remote_addr)
    nonce = SingleUse("nonce", nonce_id, current_app.config["FORM_NONCE_MAX_AGE"],
                      _nonce_used())
    scheduled_for = checked.call["scheduled_for"]
    with queued_writes():
        call_id, public_id = admit(
            [nonce, solution], caps, checked.call | {"request_id": request_id},
            {"scheduled_for": scheduled_for.isoformat() + "Z"} if scheduled_for else {})
    _spent_nonces().add(nonce_id)
    accepted = AcceptedCall(id=call_id, public_id=public_id, status=CallState.QUEUED)
    try:
        enqueue_call(accepted.id, eta=scheduled_for)
    except QUEUE_ERRORS:
        # Failed, the stored call can never be claimed by a worker later; the
        # visitor is told now rather than waiting on a call that will not come.
        # Its caps are given back in the same commit; the nonce and captcha stay
        # spent (the frame asks for a fresh form).
        current_app.logger.exception("call %s: queue unreachable", accepted.public_id)
        give_back(caps)
        record(accepted.id, CallState.FAILED, "queue_unavailable")
        raise Refusal("service_unavailable", UNAVAILABLE, status=503) from None
    if scheduled_for:  # a call placed now is published by its placing task
        enqueue_publish(accepted.id)
    current_app.logger.info("call %s accepted", accepted.public_id,
                            extra={"call": accepted.public_id})
    return accepted


class _ReadingConnection:
    """A connection outside a transaction for a request's Core reads, taken at its
    first read (a request refused from memory takes none) and handed back on leaving
    the ``with``: the session's bookkeeping cost more than the reads, PostgreSQL is
    spared a BEGIN and a ROLLBACK, and SQLite holds no reader to upgrade to a writer."""

    __slots__ = ("connection",)

    def __init__(self) -> None:
        self.connection: Connection | None = None

    def __enter__(self) -> _ReadingConnection:
        return self

    def __call__(self) -> Connection:
        if self.connection is None:
            self.connection = db.engine.connect()
            self.connection.execution_options(isolation_level="AUTOCOMMIT")
        return self.connection

    def __exit__(self, *_exc) -> None:
        if self.connection is not None:
            self.connection.close()


def _check_on_fresh_widget(check: Callable[..., _Checked], public_id: str) -> _Checked:
    """``check`` on the widget loaded afresh: its relationships are ORM loads, so the
    whole check reads on the session's connection (one connection a request, never
    two), outside a transaction, handed back at once."""
    connection = db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        return check(live_widget(public_id, _load_call_widget), reader=lambda: connection,
                     kept=False)
    finally:
        db.session.rollback()


def _check_request(form: CallRequestForm, live: LiveWidget | None, *,
                   reader: Callable[[], Connection],
                   kept: bool, token_version: int, request_origin: str | None,
                   own_origin: str, client_ip: str) -> _Checked:
    """Every check of a call request before its captcha, on ``live``, reading through
    the connection ``reader`` gives; a refusal, or what the request would store.
    ``kept``: ``live`` came from memory unchecked, so a refusal of the token, the
    origin or the nonce's signature, or a standing read, that finds the settings
    moved raises ``_KeptWidgetMoved``. A form this process saw spent and a cap it
    found full are refused without reading them."""
    spent_nonces = _spent_nonces()
    try:
        widget, above = _usable(live, token_version)
        page_origin = check_page_origin(widget, form.page_origin, request_origin, own_origin)
        nonce_id = tokens.read_form_nonce(form.nonce if isinstance(form.nonce, str) else None,
                                          widget)
    except Refusal:
        if kept and live and moved_since(live, settings_version.current(reader())):
            raise _KeptWidgetMoved from None
        raise
    # A form this process has seen spent is refused without a read, whatever the
    # widget's settings now: replaying one captured form is the cheapest attack
    # there is on this endpoint.
    if nonce_id in spent_nonces:
        raise _nonce_used()
    # A bad number is refused after the form's own refusals (the nonce, consent).
    number: VisitorNumber | Refusal
    try:
        number = check_visitor_number(form.phone, home_country=widget.home_country,
                                      countries=widget.countries)
    except Refusal as refusal:
        number = refusal
    e164 = number.e164 if isinstance(number, VisitorNumber) else ""
    now = utcnow()
    caps = caps_for_call(widget, visitor_number=e164, client_ip=client_ip, now=now,
                         ancestors=above) if e164 else []
    full = known_full().first_full(caps)
    if full is not None and not (kept and live and known_stale(live)):
        # A flood against a cap this process found full in the last second is refused
        # without the read below (nor the settings version: a raised cap is seen once
        # the memory lapses). The refusals that need no read keep their order; a
        # spent nonce, a blocked or a resting number is told the cap instead, as is
        # a full cap that comes earlier in the list.
        _filled_in(form, number)
        _refuse_unless_callable(widget, form, now, page_origin)
        raise cap_reached(full)
    # A replayed form, a blocked or resting number and a flood against a full cap are
    # otherwise refused from this one read, before the captcha and the write: an
    # attack is mostly refusals. The insert and the guarded upsert in the write
    # transaction stay the checks. The refusals keep their order: the form, then the
    # number. A reseller's block list (and the operator's) applies to every widget
    # under it.
    standing = read_standing(reader(), nonce_id=nonce_id,
                             account_ids=[widget.account_id, *(a.id for a in above)],
                             e164=e164, caps=caps, now=now)
    if kept and live and moved_since(live, standing.settings_version):
        raise _KeptWidgetMoved
    if standing.nonce_spent:
        spent_nonces.add(nonce_id)
        raise _nonce_used()
    number = _filled_in(form, number)
    if standing.number_blocked:
        raise blocked_refusal()
    refuse_if_cooling_down(standing.cooled_until, now)
    scheduled_for, page_url, campaign = _refuse_unless_callable(widget, form, now, page_origin)
    refuse_if_reached(caps, standing.cap_counts)
    return _Checked(nonce_id=nonce_id, caps=caps, call={
        "widget_id": widget.id, "account_id": widget.account_id,
        "visitor_number": number.e164, "visitor_country": number.region,
        "client_ip": client_ip, "page_origin": page_origin,
        "page_url": page_url, "campaign": campaign,
        "provider_kind": widget.provider_account.kind if widget.provider_account
        else "simulator",
        "status": CallState.QUEUED, "reason": "scheduled" if scheduled_for else None,
        "scheduled_for": scheduled_for, "business_number": widget.business_numbers[0],
    })


def _filled_in(form: CallRequestForm, number: VisitorNumber | Refusal) -> VisitorNumber:
    """The visitor's number; refuses a form without consent, then a number refused."""
    if form.consent is not True:
        raise Refusal("consent_missing", "Please agree to be called back.")
    if isinstance(number, Refusal):
        raise number
    return number


def _refuse_unless_callable(widget, form: CallRequestForm, now: datetime,
                            page_origin: str) -> tuple[datetime | None, str | None, dict[str, str]]:
    """Refuse a call the widget cannot place when asked; else when it is placed (None:
    now) and the lead's page and campaign."""
    if not widget.business_numbers:
        raise Refusal("widget_unconfigured", "This site has no number to connect you to yet.",
                      status=409)
    scheduled_for = when_to_call(widget, form.callback_at, now)
    page_url, campaign = read_lead(form.page_url, page_origin)
    return scheduled_for, page_url, campaign
