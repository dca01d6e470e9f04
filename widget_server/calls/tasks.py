"""The queue task that places a call through the widget's provider.

It guards on the stored state, so a rerun (a retry, a second worker) never
dials twice: only the worker that moves the call from ``queued`` to
``dialing`` in one UPDATE places it. The database session is released before
the provider is called; each progress report is its own short transaction.
"""

from __future__ import annotations

import json

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import update

from widget_server.extensions import db
from widget_server.models import CallEvent, CallRequest, utcnow
from widget_server.providers import provider_class
from widget_server.providers.base import FINAL_STATES, CallOrder, CallRejected, ProviderError
from widget_server.security.keys import fernet


def _claim(call_id: int) -> bool:
    claimed = db.session.execute(
        update(CallRequest)
        .where(CallRequest.id == call_id, CallRequest.status == "queued")
        .values(status="dialing", updated_at=utcnow())
    ).rowcount == 1
    if claimed:
        db.session.add(CallEvent(call_id=call_id, status="dialing"))
    db.session.commit()
    return claimed


def record(call_id: int, status: str, reason: str | None = None, **detail: object) -> None:
    """Store a progress step; a final state is never left again."""
    call = db.session.get(CallRequest, call_id)
    if call is None or call.status in FINAL_STATES:
        db.session.rollback()
        return
    if status != call.status or reason:
        call.status, call.reason = status, reason
    db.session.add(CallEvent(call_id=call_id, status=status, reason=reason, detail=detail))
    db.session.commit()


class StoredCallReport:
    """Stores what an adapter reports about one call as events."""

    def __init__(self, call_id: int):
        self.call_id = call_id

    def progress(self, status: str, reason: str | None = None, **detail: object) -> None:
        record(self.call_id, status, reason, **detail)

    def exchange(self, **evidence: object) -> None:
        call = db.session.get(CallRequest, self.call_id)
        db.session.add(CallEvent(call_id=self.call_id, status=call.status,
                                 detail={"exchange": evidence}))
        db.session.commit()

    def provider_call_id(self, value: str) -> None:
        db.session.get(CallRequest, self.call_id).provider_call_id = value[:100]
        db.session.commit()

    def provider_report(self, **figures: object) -> None:
        call = db.session.get(CallRequest, self.call_id)
        call.provider_report = {**(call.provider_report or {}), **figures}
        db.session.commit()


def _provider_for(call: CallRequest):
    account = call.widget.provider_account
    settings = dict(current_app.config)
    if account is None:
        return provider_class("simulator")(base_url=None, credentials={}, options={},
                                           settings=settings)
    credentials = {}
    if account.credentials_encrypted:
        credentials = json.loads(fernet(current_app.config).decrypt(
            account.credentials_encrypted.encode()))
    return provider_class(account.kind)(base_url=account.base_url, credentials=credentials,
                                        options=dict(account.options or {}), settings=settings)


def place_call(call_id: int) -> None:
    if not _claim(call_id):
        return
    call = db.session.get(CallRequest, call_id)
    try:
        provider = _provider_for(call)
    except (InvalidToken, ValueError) as error:
        # A credential that does not decrypt stops the call; it is never retried.
        current_app.logger.error("call %s: provider account unusable: %s",
                                 call.public_id, type(error).__name__)
        record(call_id, "failed", "provider_credentials")
        return
    order = CallOrder(call_id=call.public_id,
                      business_number=call.widget.business_numbers[0],
                      visitor_number=call.visitor_number,
                      options={})
    db.session.remove()

    report = StoredCallReport(call_id)

    try:
        provider.place_call(order, report)
    except ProviderError as error:
        final = "rejected" if isinstance(error, CallRejected) else "failed"
        record(call_id, final, error.reason, message=error.message)
    except Exception:
        current_app.logger.exception("call %s: provider %s crashed", order.call_id,
                                     provider.kind)
        record(call_id, "failed", "provider_error")
        raise
