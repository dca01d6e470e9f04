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
    "provider_unavailable": "Calls cannot be placed right now. Please try again in a few "
                            "minutes.",
    "provider_unreachable": "We could not reach the phone network. Please try again later.",
    "provider_timeout": "The phone network did not answer in time. Please try again later.",
    "provider_server_error": "The phone network had a problem. Please try again later.",
    "provider_answer_unexpected": "Something went wrong placing the call. Please try again "
                                  "later.",
    "provider_answer_too_large": "Something went wrong placing the call. Please try again "
                                 "later.",
    "provider_answer_not_utf8": "Something went wrong placing the call. Please try again "
                                "later.",
    "outcome_unknown": "The call was placed; we cannot see how it ended.",
    "retrying": "We are trying again to place your call.",
    "scheduled": "Your call-back is booked: we will call you at the time you chose.",
    "worker_lost": "We lost track of your call while placing it. If your phone did not ring, "
                   "please try again.",
    "provider_not_configured": "This site cannot place calls right now.",
    "provider_refused": "This site cannot place calls right now.",
    "business_not_reached": "The business could not take the call just now. Please try "
                            "again later.",
    "visitor_not_reached": "We rang your phone but could not reach you (no answer, busy or "
                           "unreachable). Please try again later.",
    # voicenter (seed 003): ERRORCODE 1-4, and an accepted call it cannot follow.
    "provider_invalid_request": "The call could not be placed with these details. Please "
                                "check your number, or try again later.",
    "provider_application_error": "The calling service had a problem. Please try again in a "
                                  "few minutes.",
    "business_offline": "Nobody is available to take your call right now. Please try again "
                        "later.",
    "business_blocked": "This site cannot place calls right now.",
    "provider_accepted": "The call is on its way: the business is rung first, then your "
                         "phone.",
    "cancelled": "The call was cancelled.",
    # voice1 (seed 001): its PBX accepts a call but never says whether anyone answered.
    "pbx_accepted": "The business's phone system is calling: it rings the business first, "
                    "then your phone. We cannot see whether the call is answered.",
    "pbx_error": "The business's phone system could not place the call. Please try again "
                 "later or contact the business another way.",
    "outcome_unknown_pbx_accepted": "Your call was handed to the business's phone system. We "
                                    "cannot see how it went; if your phone did not ring, "
                                    "please try again later.",
    "provider_options_invalid": "This site cannot place calls right now.",
    # calledin (seed 002): answer codes 2..10, and the callback's reasons (no leg named).
    "do_not_call": "This number is on a do-not-call list, so we cannot call it.",
    "provider_account_disabled": "This site cannot place calls right now.",
    "provider_flood": "This number was called a moment ago. Please wait a minute and try "
                      "again.",
    "business_number_unsupported": "This site cannot place calls right now.",
    "number_area_unsupported": "Calls to your area code are not possible yet. Please try "
                               "another number.",
    "number_country_unsupported": "Calls to your country are not possible yet. Please try "
                                  "another number.",
    "call_failed": "The call could not be connected. Please try again later.",
    "hung_up": "The call was hung up before it was connected.",
    "ring_timeout": "Nobody answered in time. Please try again later.",
    "line_busy": "A line was busy. Please try again in a few minutes.",
    "congestion": "The phone network was too busy to connect the call. Please try again "
                  "later.",
}


def visitor_message(call: CallRequest, steps: list) -> str:
    """The adapter's own sentence for how the call ended, else ours for the reason or state."""
    if call.reason and steps and steps[-1].reason == call.reason:
        adapter_sentence = (steps[-1].detail or {}).get("message")
        if isinstance(adapter_sentence, str) and adapter_sentence:
            return adapter_sentence
    return _REASON_SENTENCES.get(call.reason or "", _SENTENCES[call.status])


def public_status(call: CallRequest) -> dict:
    """The status for the visitor: state changes only, no provider exchange, no internals."""
    steps = [event for event in call.events if "exchange" not in (event.detail or {})]
    return {
        "call_id": call.public_id,
        "status": call.status,
        "reason": call.reason,
        "message": visitor_message(call, steps),
        "events": [{"status": event.status, "reason": event.reason,
                    "at": event.at.isoformat() + "Z"} for event in steps],
    }
