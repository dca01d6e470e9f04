"""The frame's own texts, translated once per language rather than on every render.

``frame_texts()`` gives them in the request's language; the frame renders
them and hands them to frame.js (``data-t``) for the messages it shows.
"""

from __future__ import annotations

from functools import cache

import phonenumbers
from flask_babel import get_locale, get_translations

from widget_server.i18n import N_, translate

FRAME_TEXTS = {
    "intro": N_("Leave your number and we will call you right away."),
    "closed_intro": N_("We are closed right now. Leave your number and choose when we "
                       "should call you back."),
    "slot": N_("When should we call you?"),
    "country": N_("Country"),
    "phone": N_("Your phone number"),
    "robot": N_("I'm not a robot"),
    "verifying": N_("Verifying…"),
    "verified": N_("Verified"),
    "captcha_error": N_("The check did not work; tick the box to try again."),
    "captcha_missing": N_("Please complete the captcha."),
    "phone_missing": N_("Please enter your phone number."),
    "consent_missing": N_("Please agree to be called back."),
    "sending": N_("Sending…"),
    "network": N_("We could not reach the server; please check your connection and try "
                  "again."),
    "error": N_("Something went wrong; please try again."),
    "again": N_("Try again"),
    "progress": N_("Your call"),
    "s_queued": N_("Request received"),
    "s_dialing": N_("Calling the business"),
    "s_ringing": N_("Ringing your phone"),
    "s_connected": N_("Connected"),
    "s_completed": N_("Completed"),
    "s_failed": N_("Call failed"),
    "s_rejected": N_("Call not placed"),
    "not_framed": N_("This form only works on the website it belongs to."),
}

# The loader's own sentences, sent with its config: while the frame loads, and
# when it did not (the server slow to answer, or down).
LOADER_TEXTS = {
    "loading": N_("Loading the form…"),
    "failed": N_("The form could not be loaded. Please check your connection and try "
                 "again."),
    "retry": N_("Try again"),
    "close": N_("Close"),
}


def phone_hint(country: str) -> str:
    """The number field's hint, with an example number of ``country`` written as its
    people write it (a mobile number, as phonenumbers gives it)."""
    example = (phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
               or phonenumbers.example_number(country))
    assert example is not None, "every region phonenumbers supports has an example"
    return translate(N_("For example %(number)s, or with +country code."),
                     number=phonenumbers.format_number(example,
                                                       phonenumbers.PhoneNumberFormat.NATIONAL))


def frame_texts() -> dict[str, str]:
    """The texts in the request's language."""
    return _translated(str(get_locale()))


@cache
def _translated(locale: str) -> dict[str, str]:
    translations = get_translations()
    return {key: translations.gettext(text) for key, text in FRAME_TEXTS.items()}
