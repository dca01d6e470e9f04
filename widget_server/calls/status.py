"""What the visitor is told about their call: its state, a reason and a sentence.

The one home of every sentence about a call's outcome: adapters report
reason codes only, and the frame's status and the admin's call report word
them here.
"""

from __future__ import annotations

from widget_server.call_states import CallState
from widget_server.i18n import N_, translate
from widget_server.models import CallRequest

_SENTENCES = {
    CallState.QUEUED: N_("Your request is in; we are about to call."),
    CallState.DIALING: N_("We are calling the business now."),
    CallState.RINGING: N_("The business answered; your phone is ringing."),
    CallState.CONNECTED: N_("You are connected. Enjoy your call!"),
    CallState.COMPLETED: N_("The call has ended. Thank you!"),
    CallState.FAILED: N_("We could not complete the call."),
    CallState.REJECTED: N_("The call could not be placed."),
}
_REASON_SENTENCES = {
    "busy": N_("Your line was busy. Please try again in a few minutes."),
    "no_answer": N_("Your phone did not answer. Please try again later."),
    "network_error": N_("The phone network failed. Please try again later."),
    "no_credit": N_("This site cannot place calls right now."),
    "provider_credentials": N_("This site cannot place calls right now."),
    "provider_error": N_("Something went wrong placing the call. Please try again later."),
    "provider_unavailable": N_("Calls cannot be placed right now. Please try again in a few "
                            "minutes."),
    "provider_unreachable": N_("We could not reach the phone network. Please try again later."),
    "provider_timeout": N_("The phone network did not answer in time. Please try again later."),
    "provider_server_error": N_("The phone network had a problem. Please try again later."),
    "provider_answer_unexpected": N_("Something went wrong placing the call. Please try again "
                                  "later."),
    "provider_answer_too_large": N_("Something went wrong placing the call. Please try again "
                                 "later."),
    "provider_answer_not_utf8": N_("Something went wrong placing the call. Please try again "
                                "later."),
    "outcome_unknown": N_("The call was placed; we cannot see how it ended."),
    "retrying": N_("We are trying again to place your call."),
    "scheduled": N_("Your call-back is booked: we will call you at the time you chose."),
    "worker_lost": N_("We lost track of your call while placing it. If your phone did not ring, "
                   "please try again."),
    "provider_not_configured": N_("This site cannot place calls right now."),
    "provider_refused": N_("This site cannot place calls right now."),
    "business_not_reached": N_("The business could not take the call just now. Please try "
                            "again later."),
    "visitor_not_reached": N_("We rang your phone but could not reach you (no answer, busy or "
                           "unreachable). Please try again later."),
    # dialogtech (seed 004): its answer comes once the business answered, or did not.
    "business_answered": N_("The business answered and is calling you now."),
    "business_no_answer": N_("The business could not take your call just now. Please try "
                             "again later."),
    # voicenter (seed 003): ERRORCODE 1-4, and an accepted call it cannot follow.
    "provider_invalid_request": N_("The call could not be placed with these details. Please "
                                "check your number, or try again later."),
    "provider_application_error": N_("The calling service had a problem. Please try again in a "
                                  "few minutes."),
    "business_offline": N_("Nobody is available to take your call right now. Please try again "
                        "later."),
    "business_blocked": N_("This site cannot place calls right now."),
    "provider_accepted": N_("The call is on its way: the business is rung first, then your "
                         "phone."),
    "cancelled": N_("The call was cancelled."),
    # Attempts after the business missed the call (calls/redial.py).
    "next_number": N_("The business did not answer; we are trying another of its numbers."),
    "redial": N_("The business did not answer; we will try again in a few minutes."),
    "callback": N_("The business could not take your call; we booked a call-back for when it "
                   "next opens."),
    "call_now": N_("The business is calling you back now."),
    # A booked call whose number was blocked or cooled down before it fell due.
    # A call due after its account was suspended, or its widget removed: not placed.
    "account_suspended": N_("Call-backs are not available on this site at the moment."),
    "widget_removed": N_("This call-back widget has been removed by its owner."),
    "phone_blocked": N_("This number cannot be called from this site, so the call-back you "
                        "booked was cancelled."),
    "number_cooling_down": N_("This number did not answer several recent call-backs, so the "
                              "call-back you booked was cancelled. Please try again later."),
    # voice1 (seed 001): its PBX accepts a call but never says whether anyone answered.
    "pbx_accepted": N_("The business's phone system is calling: it rings the business first, "
                    "then your phone. We cannot see whether the call is answered."),
    "pbx_error": N_("The business's phone system could not place the call. Please try again "
                 "later or contact the business another way."),
    "outcome_unknown_pbx_accepted": N_("Your call was handed to the business's phone system. We "
                                    "cannot see how it went; if your phone did not ring, "
                                    "please try again later."),
    "provider_options_invalid": N_("This site cannot place calls right now."),
    # calledin (seed 002): answer codes 2..10, and the callback's reasons (no leg named).
    "do_not_call": N_("This number is on a do-not-call list, so we cannot call it."),
    "provider_account_disabled": N_("This site cannot place calls right now."),
    "provider_flood": N_("This number was called a moment ago. Please wait a minute and try "
                      "again."),
    "business_number_unsupported": N_("This site cannot place calls right now."),
    "number_area_unsupported": N_("Calls to your area code are not possible yet. Please try "
                               "another number."),
    "number_country_unsupported": N_("Calls to your country are not possible yet. Please try "
                                  "another number."),
    "call_failed": N_("The call could not be connected. Please try again later."),
    "hung_up": N_("The call was hung up before it was connected."),
    "ring_timeout": N_("Nobody answered in time. Please try again later."),
    "line_busy": N_("A line was busy. Please try again in a few minutes."),
    "congestion": N_("The phone network was too busy to connect the call. Please try again "
                  "later."),
}


def reason_sentence(reason: str | None) -> str | None:
    """The English sentence for a reason code (the catalogues' key), or None if it has none."""
    return _REASON_SENTENCES.get(reason or "")


def visitor_message(call: CallRequest) -> str:
    """The sentence for the call's reason, else for its state, in the visitor's language."""
    return translate(reason_sentence(call.reason) or _SENTENCES[CallState(call.status)])


def public_status(call: CallRequest, latest: CallRequest | None = None) -> dict:
    """The status for the visitor: state changes only, no provider exchange, no internals.

    ``latest`` is the newest attempt at the visitor's request ``call`` (calls/redial.py):
    the visitor follows it under the request's id.
    """
    call_id, call = call.public_id, latest or call
    steps = [event for event in call.events if "exchange" not in (event.detail or {})]
    return {
        "call_id": call_id,
        "attempt": call.attempt,
        "status": call.status,
        "reason": call.reason,
        "message": visitor_message(call),
        "events": [{"status": event.status, "reason": event.reason,
                    "at": event.at.isoformat() + "Z"} for event in steps],
    }
