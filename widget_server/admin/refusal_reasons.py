"""What each reason a refusal is counted under (abuse/refusals.py) means to a site owner."""

from __future__ import annotations

from widget_server.abuse.refusals import REASONS
from widget_server.i18n import lazy_admin_gettext as _l

# What each reason of abuse/refusals.py means to a site owner.
REASON_LABELS = {
    "cap_number_minute": _l("Number called a minute ago"),
    "cap_number": _l("Daily cap per number"),
    "cap_address": _l("Daily cap per visitor address"),
    "cap_widget": _l("Daily cap of the widget"),
    "cap_account": _l("Daily cap of the account"),
    "cap_account_month": _l("Monthly cap of the account"),
    "blocked": _l("Blocked number"),
    "country": _l("Country not allowed"),
    "emergency": _l("Emergency or short number"),
    "number_type": _l("Number type not allowed"),
    "bad_number": _l("Not a valid number"),
    "cooling_down": _l("Number cooling down after unanswered calls"),
    "captcha": _l("Captcha not solved"),
    "origin": _l("Site not allowed"),
    "closed": _l("Outside opening hours"),
    "form": _l("Form expired or sent twice"),
    "consent": _l("No consent"),
    "paused": _l("Widget paused"),
    "suspended": _l("Account suspended"),
    "old_token": _l("Old or removed widget token"),
    "unconfigured": _l("No business number set"),
    "unavailable": _l("Service unavailable"),
    "other": _l("Other"),
}
if set(REASON_LABELS) != set(REASONS):
    raise RuntimeError("every refusal reason needs its label")
