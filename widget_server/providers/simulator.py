"""A built-in provider that pretends to place calls, for the demo and the tests.

It rings the business, then the visitor, bridges and hangs up, with delays
like a real call's (scaled by ``SIMULATOR_SPEED``). The visitor's number
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

from widget_server.i18n import N_
from widget_server.providers.base import CallOrder, CallRejected, CallReport, Provider

# (seconds before the step at speed 1.0, status, reason)
_Steps = list[tuple[float, str, str | None]]
_ANSWERED: _Steps = [(0.5, "ringing", None), (2.0, "connected", None), (4.0, "completed", None)]
_OUTCOMES: dict[str, _Steps] = {
    "0002": [(0.5, "ringing", None), (1.5, "failed", "busy")],
    "0003": [(0.5, "ringing", None), (6.0, "failed", "no_answer")],
    "0004": [(1.0, "failed", "network_error")],
}
_BUSINESS_MISSED: _Steps = [(6.0, "failed", "business_not_reached")]


class SimulatorProvider(Provider):
    kind = "simulator"
    label = "Simulator (no real calls)"
    takes_base_url = False

    def place_call(self, order: CallOrder, report: CallReport) -> None:
        speed = float(self.settings.get("SIMULATOR_SPEED", 1.0))
        if order.visitor_number.endswith("0005"):
            raise CallRejected("no_credit", N_("This site cannot place calls right now."),
                               provider=self.kind, excerpt="simulated: no credit")
        report.progress("dialing", leg="business")
        ending = order.visitor_number[-4:]
        if ending == "0006" or (ending == "0007" and order.ring_position == 0):
            steps, leg = _BUSINESS_MISSED, "business"
        else:
            steps, leg = _OUTCOMES.get(ending, _ANSWERED), "visitor"
        for delay, status, reason in steps:
            time.sleep(delay * speed)
            report.progress(status, reason, leg=leg)
