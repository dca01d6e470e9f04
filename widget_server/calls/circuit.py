"""A circuit breaker per provider account, shared by every process through the database.

After ``CIRCUIT_FAILURES`` consecutive transport failures (unreachable,
timeouts, 5xx, malformed answers) the account's circuit opens for
``CIRCUIT_OPEN_SECONDS``: visitors are told at once that calls cannot be
placed, instead of waiting on a provider that is down. One success closes it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, case, update

from widget_server.extensions import db
from widget_server.models import PROVIDER_ACCOUNTS, ProviderAccount, utcnow


def is_open(account: ProviderAccount | None) -> bool:
    return bool(account and account.circuit_open_until and
                account.circuit_open_until > utcnow())


def record_failure(account_id: int) -> None:
    config = current_app.config
    reopen_at = utcnow() + timedelta(seconds=int(config["CIRCUIT_OPEN_SECONDS"]))
    db.session.execute(
        update(ProviderAccount).where(ProviderAccount.id == account_id).values(
            failure_count=ProviderAccount.failure_count + 1,
            circuit_open_until=case(
                (ProviderAccount.failure_count + 1 >= int(config["CIRCUIT_FAILURES"]),
                 reopen_at),
                else_=ProviderAccount.circuit_open_until,
            ),
        )
    )
    db.session.commit()


# Every placed call reports a success: a row with nothing to reset is not written (nor
# locked), so the worker's threads do not queue on their provider's row. Built once, on
# the table: an ORM update built per call cost more than its round trips.
_ACCOUNTS = PROVIDER_ACCOUNTS.c
_RESET = (update(PROVIDER_ACCOUNTS)
          .where(_ACCOUNTS.id == bindparam("provider_account_id"),
                 (_ACCOUNTS.failure_count != 0) | _ACCOUNTS.circuit_open_until.is_not(None))
          .values(failure_count=0, circuit_open_until=None))


def record_success(account_id: int) -> None:
    db.session.execute(_RESET, {"provider_account_id": account_id})
    db.session.commit()
