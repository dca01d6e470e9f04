"""What the visitor is told about their call: its state, a reason and a sentence."""

from __future__ import annotations

from widget_server.models import CallRequest

_SENTENCES = {
    "queued": "Your request is in; we are about to call.",
    "dialing": "We are calling the business now.",
    "ringing": "The business answered; your phone is ringing.",
    "connected": "You are connected. Enjoy your call!",
    "completed": "The call has ended. Thank you!",
    "failed": "We could not complete the call.",
    "rejected": "The call could not be placed.",
}
_REASON_SENTENCES = {
    "busy": "Your line was busy. Please try again in a few minutes.",
    "no_answer": "Your phone did not answer. Please try again later.",
    "network_error": "The phone network failed. Please try again later.",
    "no_credit": "This site cannot place calls right now.",
    "provider_credentials": "This site cannot place calls right now.",
    "provider_error": "Something went wrong placing the call. Please try again later.",
}


def public_status(call: CallRequest) -> dict:
    """The status for the visitor: no internal detail, no provider data."""
    return {
        "call_id": call.public_id,
        "status": call.status,
        "reason": call.reason,
        "message": _REASON_SENTENCES.get(call.reason or "", _SENTENCES[call.status]),
        "events": [{"status": event.status, "reason": event.reason,
                    "at": event.at.isoformat() + "Z"} for event in call.events],
    }
