"""What the visitor and the admin read for a call's reason: one sentence per code, here."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask import Flask

import widget_server.providers
from widget_server import i18n
from widget_server.call_states import CallState
from widget_server.calls.status import reason_sentence, visitor_message
from widget_server.models import CallRequest
from widget_server.providers.base import Outcome


def adapter_outcomes() -> dict[str, Outcome]:
    """Every outcome an adapter's tables name, by where it is declared."""
    found = {}
    for info in pkgutil.iter_modules(widget_server.providers.__path__):
        module = importlib.import_module(f"widget_server.providers.{info.name}")
        for name, value in vars(module).items():
            values = value.values() if isinstance(value, dict) else [value]
            found.update({f"{info.name}.{name}": each for each in values
                          if isinstance(each, Outcome)})
    return found


def test_the_adapters_declare_their_outcomes_in_tables():
    assert {where.split(".")[0] for where in adapter_outcomes()} == {
        "c2c_php", "calledin", "dialogtech", "simulator", "voice1", "voicenter"}


@pytest.mark.parametrize("outcome", sorted(
    {o for o in adapter_outcomes().values() if o.reason}, key=lambda o: o.reason),
    ids=lambda outcome: outcome.reason)
def test_every_reason_an_adapter_reports_has_a_sentence(outcome):
    sentence = reason_sentence(outcome.reason)
    assert sentence and sentence[0].isupper() and sentence.endswith(".")


def test_an_outcome_that_raises_ends_the_call_in_that_errors_state():
    with pytest.raises(ValueError, match="ends a call rejected, not failed"):
        Outcome(CallState.FAILED, "no_credit", error=type(
            "Refusal", (widget_server.providers.base.CallRejected,), {}))
    with pytest.raises(TypeError, match="no error to raise"):
        Outcome(CallState.COMPLETED, "outcome_unknown").raise_for("simulator")


def test_the_visitor_reads_the_reasons_sentence_in_the_widgets_language():
    app = Flask(__name__)
    i18n.init_app(app)
    call = CallRequest(status=CallState.COMPLETED, reason="business_answered")
    with app.test_request_context():
        assert visitor_message(call) == "The business answered and is calling you now."
    with app.test_request_context():
        i18n.use_widget_language("de")
        assert visitor_message(call) == "Das Unternehmen hat abgenommen und ruft Sie jetzt an."


def test_a_reason_without_a_sentence_gets_its_states():
    app = Flask(__name__)
    i18n.init_app(app)
    with app.test_request_context():
        assert visitor_message(CallRequest(status=CallState.REJECTED, reason="callback_forged")
                               ) == "The call could not be placed."
