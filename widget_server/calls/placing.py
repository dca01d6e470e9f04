"""Placing a call, following it, and taking provider callbacks: the bodies of the
queue tasks (calls/tasks.py).

Each takes ids only and guards on the stored state, so a rerun (a retry, a
second worker, a worker restarted after a crash) never dials twice: only the
worker that moves the call from ``queued`` to ``dialing`` in one UPDATE
places it. The database session is released before the provider is called;
each report of the adapter is its own short transaction.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import cast

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import joinedload

from widget_server import metrics
from widget_server.abuse.blocklist import account_params, blocked_for_any
from widget_server.abuse.cooldown import COOLED_UNTIL, UNANSWERED, note_unanswered
from widget_server.call_states import FINAL_STATES, CallState
from widget_server.calls import circuit
from widget_server.calls.events import add_event, publish_call_events
from widget_server.extensions import db
from widget_server.models import (
    CALL_REQUESTS,
    Account,
    CallRequest,
    ProviderAccount,
    Widget,
    utcnow,
)
from widget_server.providers.base import CallOrder, ProviderError
from widget_server.security.keys import derived_secrets
from widget_server.services.provider_accounts import CredentialsError, adapter_for
from widget_server.tenancy import accounts_from

_HOOK_SALT = "widget-server.provider-hook"
# The table's columns, not mapped attributes, for the worker's writes: see _store.
_CALL = CALL_REQUESTS.c


def _still_open(call_id: int):
    """The guard of every write about a call: it is not in a final state."""
    return _CALL.id == call_id, _CALL.status.not_in(FINAL_STATES)


def _store(call_id: int, status: str, reason: str | None,
           detail: dict) -> tuple[str, str, str, str | None] | None:
    """Store a progress step unless the call has ended; what to log once committed.

    The state moves in one UPDATE guarded on the stored state, so of a worker
    and a callback ending the call at once only the first counts: the second
    waits on the first's row lock (PostgreSQL) or write lock (SQLite) and then
    finds the call ended. Core statements on the table, not the ORM: a call's
    steps are most of the worker's writes, and loading the call and flushing its
    event through the ORM cost about a fifth of the worker's CPU a call (issue 15,
    benchmarks/README.md).
    """
    # A step in the state the call is in keeps its reason unless it brings one.
    kept = reason or case((_CALL.status == status, _CALL.reason), else_=None)
    stored = db.session.execute(
        update(CALL_REQUESTS).where(*_still_open(call_id))
        .values(status=status, reason=kept)
        .returning(_CALL.public_id, _CALL.provider_kind, _CALL.visitor_number)
    ).first()
    if stored is None:
        return None
    add_event(call_id, status, reason, detail)
    if status in FINAL_STATES and reason in UNANSWERED:
        note_unanswered(stored.visitor_number, utcnow())
    return stored.public_id, stored.provider_kind, status, reason


def record(call_id: int, status: str, reason: str | None = None, **detail: object) -> None:
    """Store a progress step in its own transaction; a final state is never left again."""
    step = _store(call_id, status, reason, detail)
    if step is None:
        db.session.rollback()
        return
    db.session.commit()
    _logged(*step)


def _logged(public_id: str, provider_kind: str, status: str, reason: str | None) -> None:
    current_app.logger.info("call %s: %s", public_id, status,
                            extra={"call": public_id, "status": status, "reason": reason})
    if status in FINAL_STATES:
        metrics.CALLS.labels(provider_kind, status, reason or "").inc()


class StoredCallReport:
    """Stores what an adapter reports about one call as events of that call.

    Each report commits at once, unless ``commit`` is False: then the caller
    holds one transaction around them all (a callback, which locked the call
    first) and calls ``logged`` once it has committed. The reports write to the
    tables, around the session: a ``CallRequest`` the caller holds shows them
    only after that commit.
    """

    def __init__(self, call_id: int, *, commit: bool = True):
        self.call_id, self.commit = call_id, commit
        self.steps: list[tuple[str, str, str, str | None]] = []

    def _done(self) -> None:
        if self.commit:
            db.session.commit()
        else:
            db.session.flush()

    def logged(self) -> None:
        """Log the steps stored in the caller's transaction, now committed."""
        for step in self.steps:
            _logged(*step)
        self.steps.clear()

    def progress(self, status: str, reason: str | None = None, **detail: object) -> None:
        if self.commit:
            record(self.call_id, status, reason, **detail)
        elif step := _store(self.call_id, status, reason, detail):
            self.steps.append(step)

    def exchange(self, **evidence: object) -> None:
        call = db.session.execute(select(_CALL.status, _CALL.provider_kind)
                                  .where(_CALL.id == self.call_id)).one()
        if isinstance(elapsed_ms := evidence.get("elapsed_ms"), int | float):
            metrics.PROVIDER_LATENCY.labels(call.provider_kind).observe(elapsed_ms / 1000)
        add_event(self.call_id, call.status, detail={"exchange": evidence})
        self._done()

    def provider_call_id(self, value: str) -> None:
        db.session.execute(update(CALL_REQUESTS).where(_CALL.id == self.call_id)
                           .values(provider_call_id=value[:100]))
        self._done()

    def provider_report(self, **figures: object) -> None:
        """Merge ``figures`` into the report, unless the call has ended: its report stands."""
        stored = db.session.scalar(select(CallRequest.provider_report)
                                   .where(CallRequest.id == self.call_id))
        db.session.execute(update(CallRequest).where(*_still_open(self.call_id))
                           .values(provider_report={**(stored or {}), **figures}))
        self._done()


def callback_secrets(call: CallRequest) -> list[str]:
    """The 30-character secret a provider echoes in its callback, under each key, newest
    first: derived, never stored."""
    return [secret[:30]
            for secret in derived_secrets(current_app.config, f"callback:{call.public_id}")]


def hook_token(call: CallRequest) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEYS"], salt=_HOOK_SALT).dumps(
        {"c": call.public_id})


def call_for_hook_token(token: str) -> CallRequest | None:
    try:
        payload = URLSafeSerializer(current_app.config["SECRET_KEYS"],
                                    salt=_HOOK_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    return db.session.scalar(select(CallRequest).where(
        CallRequest.public_id == str(payload.get("c"))))


def order_for(call: CallRequest) -> CallOrder:
    public_url = current_app.config["PUBLIC_URL"].rstrip("/")
    callback_url = (f"{public_url}/hooks/{call.provider_kind}/{hook_token(call)}"
                    if public_url else "")
    newest, *earlier = callback_secrets(call)
    numbers = call.widget.business_numbers
    # An attempt after a missed one (calls/redial.py) rings the number it chose.
    business_number = call.business_number or numbers[0]
    return CallOrder(call_id=call.public_id, business_number=business_number,
                     visitor_number=call.visitor_number, page=call.page_origin,
                     callback_url=callback_url, callback_secret=newest,
                     earlier_callback_secrets=tuple(earlier),
                     ring_position=numbers.index(business_number)
                     if business_number in numbers else 0)


def _due(call_id: int, now: datetime):
    """The guard for acting on a call: still queued, and not scheduled for later."""
    return (_CALL.id == call_id, _CALL.status == CallState.QUEUED,
            or_(_CALL.scheduled_for.is_(None), _CALL.scheduled_for <= now))


def _reason_not_to_dial(call_id: int, now: datetime) -> str | None:
    """Why a due call's number may no longer be rung, asked again when it is placed.

    A call booked for later (outside opening hours) may fall due after its
    number was blocked, by its account or one above it, or cooled down, or
    after its account was suspended or its widget (or account) deleted. Read in
    two round trips, three for an account with one above it, with the call
    request's own parts (abuse/standing.py): the call with its widget and
    account, the accounts above, then the number.
    """
    reason = None
    due = db.session.execute(_DUE_WITH_OWNERS.where(*_due(call_id, now))).first()
    if due is not None:
        above = accounts_from(due.parent_id)
        account_ids = [due.account_id, *(each.id for each in above)]
        if due.widget_deleted_at is not None or due.account_deleted_at is not None:
            reason = "widget_removed"
        elif due.suspended_at is not None or any(each.suspended_at is not None
                                                 for each in above):
            reason = "account_suspended"
        else:
            blocked, cooled = db.session.execute(
                _number_standing(len(account_ids)),
                account_params(account_ids) | {"e164": due.visitor_number, "now": now}).one()
            if blocked:
                reason = "phone_blocked"
            elif cooled is not None:
                reason = "number_cooling_down"
    db.session.rollback()  # end the read: the claim or the cancel that follows writes
    return reason


# A due call with what its widget and account say of it, built once.
_DUE_WITH_OWNERS = (
    select(_CALL.account_id, _CALL.visitor_number,
           Widget.deleted_at.label("widget_deleted_at"),
           Account.deleted_at.label("account_deleted_at"), Account.suspended_at,
           Account.parent_id)
    .join(Widget, Widget.id == _CALL.widget_id)
    .join(Account, Account.id == _CALL.account_id))


@cache
def _number_standing(account_count: int):
    """Whether any of the accounts blocks the number, and until when it cools down."""
    return select(blocked_for_any(account_count).label("blocked"),
                  COOLED_UNTIL.scalar_subquery().label("cooled_until"))


def _cancel(call_id: int, now: datetime, reason: str) -> bool:
    """End a due call as rejected for ``reason`` without dialling; False if another
    worker took it first."""
    cancelled = db.session.execute(
        update(CALL_REQUESTS).where(*_due(call_id, now))
        .values(status=CallState.REJECTED, reason=reason, updated_at=utcnow())
        .returning(_CALL.public_id, _CALL.provider_kind)).first()
    if cancelled:
        add_event(call_id, CallState.REJECTED, reason)
    db.session.commit()
    if cancelled:
        _logged(cancelled.public_id, cancelled.provider_kind, CallState.REJECTED, reason)
    return cancelled is not None


def _claim(call_id: int, now: datetime) -> bool:
    # A call scheduled for later is not claimed before its time, whoever runs the task.
    claimed = cast(CursorResult, db.session.execute(
        update(CALL_REQUESTS).where(*_due(call_id, now))
        .values(status=CallState.DIALING, reason=None, updated_at=utcnow())
    )).rowcount == 1
    if claimed:
        # Recovery finds where placing began by this bare event (adapters' carry detail).
        add_event(call_id, CallState.DIALING)
    db.session.commit()
    return claimed


def _release_for_retry(call_id: int, error: ProviderError) -> None:
    db.session.execute(update(CALL_REQUESTS).where(
        _CALL.id == call_id, _CALL.status == CallState.DIALING
    ).values(status=CallState.QUEUED))
    add_event(call_id, CallState.QUEUED, "retrying", {"after": error.reason})
    db.session.commit()


def scheduled_for(call_id: int) -> datetime | None:
    """When a call asked for later is due (naive UTC), or None."""
    due = db.session.scalar(select(CallRequest.scheduled_for).where(CallRequest.id == call_id))
    db.session.rollback()
    return due


# The call's status alone, after the provider reported, built once.
_STATUS_OF = select(_CALL.status).where(_CALL.id == bindparam("call_id"))
# What placing reads of a call, in one query rather than one per relationship: the
# provider account's owner says whether a tenant set its address (adapter_for).
_WITH_PROVIDER = (joinedload(CallRequest.widget).joinedload(Widget.provider_account)
                  .joinedload(ProviderAccount.account),)


def place_call(call_id: int, *, retries_left: int = 0, now: datetime | None = None) -> str:
    """Place the call; returns what the queue should do next: "done", "poll", "retry",
    or "wait" while the call is scheduled for later than ``now`` (naive UTC)."""
    now = now or utcnow()
    reason = _reason_not_to_dial(call_id, now)
    if reason is not None and _cancel(call_id, now, reason):
        return "done"
    if not _claim(call_id, now):
        due = scheduled_for(call_id)
        return "wait" if due is not None and due > now else "done"
    # The request and the dial are news before the provider is called, which may take
    # seconds: told once, together, rather than the request on its own first.
    publish_call_events(call_id)
    call = db.session.get_one(CallRequest, call_id, options=_WITH_PROVIDER,
                              populate_existing=True)
    account = call.widget.provider_account
    if circuit.is_open(account):
        record(call_id, CallState.FAILED, "provider_unavailable")
        return "done"
    try:
        provider = adapter_for(account, call.widget)
    except CredentialsError as error:
        # A credential that does not decrypt stops the call; it is never retried.
        current_app.logger.error("call %s: %s", call.public_id, error)
        record(call_id, CallState.FAILED, "provider_credentials")
        return "done"
    except ProviderError as error:
        # Stored options the adapter cannot use: nothing is sent, nothing retried.
        record(call_id, error.final_state, error.reason)
        return "done"
    order = order_for(call)
    order = CallOrder(**{**order.__dict__, "options": provider.options})
    account_id = account.id if account else None
    db.session.remove()

    try:
        provider.place_call(order, StoredCallReport(call_id))
    except ProviderError as error:
        if account_id and error.trips_circuit:
            circuit.record_failure(account_id)
        if error.retry_safe and retries_left > 0:
            _release_for_retry(call_id, error)
            return "retry"
        record(call_id, error.final_state, error.reason)
        return "done"
    except Exception:
        current_app.logger.exception("call %s: provider %s crashed", order.call_id,
                                     provider.kind)
        record(call_id, CallState.FAILED, "provider_error")
        return "done"
    if account_id:
        circuit.record_success(account_id)
    final = db.session.scalar(_STATUS_OF, {"call_id": call_id}) in FINAL_STATES
    return "poll" if provider.polls and not final else "done"


def poll_call(call_id: int, *, attempts_left: int) -> str:
    """Ask the provider how the call went; "poll" again later, or "done"."""
    call = db.session.get(CallRequest, call_id)
    if call is None or call.status in FINAL_STATES:
        return "done"
    try:
        provider = adapter_for(call.widget.provider_account, call.widget)
        done = provider.poll(order_for(call), call.provider_call_id or "",
                             StoredCallReport(call_id))
    except CredentialsError:
        record(call_id, CallState.FAILED, "provider_credentials")
        return "done"
    except ProviderError as error:
        current_app.logger.warning("call %s: poll failed: %s", call.public_id, error.reason)
        done = False
    if done or db.session.get_one(CallRequest, call_id).status in FINAL_STATES:
        return "done"
    if attempts_left <= 0:
        record(call_id, CallState.COMPLETED, "outcome_unknown")
        return "done"
    return "poll"


def take_callback(call: CallRequest, params: dict) -> bool:
    """A provider's callback about ``call``, stored and committed; ``ProviderError`` when it
    is refused, False when the call has already ended.

    Accepting it is an UPDATE guarded on the call being open, which holds the
    call's row (PostgreSQL) or the database's write lock (SQLite) until the
    callback's report is committed: a worker or recoverer ending the call
    meanwhile waits, then finds it ended, and cannot be overwritten either.
    """
    provider = adapter_for(call.widget.provider_account, call.widget)
    if cast(CursorResult, db.session.execute(update(CallRequest).where(*_still_open(call.id))
                                             .values(updated_at=utcnow()))).rowcount != 1:
        return False
    report = StoredCallReport(call.id, commit=False)
    provider.handle_callback(order_for(call), params, report)
    db.session.commit()
    report.logged()
    return True
