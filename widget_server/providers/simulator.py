"""A built-in provider that pretends to place calls, for the demo and the tests.

It rings the business, then the visitor, bridges and hangs up, with delays
like a real call's (scaled by ``speed``, the caller's ``SIMULATOR_SPEED``). The visitor's number
chooses the outcome by its last four digits:

============  =========================================
ends in       outcome
============  =========================================
``0002``      the visitor's line is busy: failed, busy
``0003``      the visitor does not answer: failed, no_answer
``0004``      the network fails: failed, network_error
``0005``      the provider refuses: rejected, no_credit
``0006``      the business does not answer: failed, business_not_reached
``0007``      the business's first number does not answer (failed,
              business_not_reached); any other of its numbers does
anything else answered, talks, completed
============  =========================================
"""

from __future__ import annotations

import time

from widget_server.call_states import CallState
from widget_server.providers.base import CallOrder, CallRejected, CallReport, Outcome, Provider

RINGING = Outcome(CallState.RINGING)
# The visitor's number's last four digits -> (seconds before each step at speed 1.0, outcome).
_ANSWERED = [(0.5, RINGING), (2.0, Outcome(CallState.CONNECTED)),
             (4.0, Outcome(CallState.COMPLETED))]
_OUTCOMES = {
    "0002": [(0.5, RINGING), (1.5, Outcome(CallState.FAILED, "busy"))],
    "0003": [(0.5, RINGING), (6.0, Outcome(CallState.FAILED, "no_answer"))],
    "0004": [(1.0, Outcome(CallState.FAILED, "network_error"))],
}
_BUSINESS_MISSED = [(6.0, Outcome(CallState.FAILED, "business_not_reached"))]
NO_CREDIT = Outcome(CallState.REJECTED, "no_credit", CallRejected)


class SimulatorProvider(Provider):
    kind = "simulator"
    label = "Simulator (no real calls)"
    takes_base_url = False

    def __init__(self, *, speed: float = 1.0, **kwargs):
        """``speed`` scales every delay: 0 plays the call out at once."""
        super().__init__(**kwargs)
        self.speed = speed

    def place_call(self, order: CallOrder, report: CallReport) -> None:
        if order.visitor_number.endswith("0005"):
            raise NO_CREDIT.raise_for(self.kind, "simulated: no credit")
        report.progress(CallState.DIALING, leg="business")
        ending = order.visitor_number[-4:]
        if ending == "0006" or (ending == "0007" and order.ring_position == 0):
            steps, leg = _BUSINESS_MISSED, "business"
        else:
            steps, leg = _OUTCOMES.get(ending, _ANSWERED), "visitor"
        for delay, outcome in steps:
            time.sleep(delay * self.speed)
            outcome.report(report, leg=leg)
