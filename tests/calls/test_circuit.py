"""A provider account's circuit: opened by consecutive failures, closed by one success."""

from __future__ import annotations

import pytest

from tests.factories import create_account, create_provider_account
from widget_server.calls import circuit
from widget_server.extensions import db
from widget_server.models import ProviderAccount

pytestmark = pytest.mark.databases("sqlite", "postgresql")


def _state(account_id: int) -> tuple[int, bool]:
    db.session.expire_all()
    account = db.session.get_one(ProviderAccount, account_id)
    return account.failure_count, circuit.is_open(account)


def test_failures_open_the_circuit_and_one_success_closes_it(make_app):
    app = make_app(CIRCUIT_FAILURES=2, CIRCUIT_OPEN_SECONDS=60)
    with app.app_context():
        owner = create_account(kind="operator", name="operator")
        account_id = create_provider_account(account=owner).id
        other_id = create_provider_account(account=owner, name="other").id

        circuit.record_failure(account_id)
        after_one = _state(account_id)
        circuit.record_failure(account_id)
        after_two = _state(account_id)
        circuit.record_failure(other_id)
        circuit.record_success(account_id)

        assert after_one == (1, False)
        assert after_two == (2, True)
        assert _state(account_id) == (0, False)
        assert _state(other_id) == (1, False)  # its own count, untouched
