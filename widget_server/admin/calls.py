"""Admin: "Call now" and "Cancel" on a call's page (services/calls.py).

Owners and members (``CAN_MANAGE``) may; read-only users get 403. A call
outside the subtree is a 404 for every role, so it is looked up first. Both
forms carry the CSRF token (the app's CSRF protection checks every POST).
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from widget_server.admin.auth import CAN_MANAGE, check_role, current_account
from widget_server.admin.views import ask_first, blueprint, refusal_sentence
from widget_server.i18n import admin_gettext as _
from widget_server.services import calls
from widget_server.services.errors import ServiceError


def _call(public_id: str):
    try:
        call = calls.scoped_call(current_account(), public_id)
    except ServiceError:
        raise NotFound() from None
    check_role(CAN_MANAGE)
    return call


@blueprint.post("/reports/calls/<public_id>/call-now")
@login_required
def report_call_now(public_id: str):
    call = _call(public_id)
    try:
        attempt = calls.call_now(current_user, call)
    except ServiceError as error:
        flash(_("The call was not placed: %(reason)s", reason=refusal_sentence(error)),
              "error")
        return redirect(url_for("admin.report_call", public_id=call.public_id))
    flash(_("Calling %(number)s again now (attempt %(attempt)s).",
            number=attempt.visitor_number, attempt=attempt.attempt), "success")
    return redirect(url_for("admin.report_call", public_id=attempt.public_id))


@blueprint.route("/reports/calls/<public_id>/cancel", methods=["GET", "POST"])
@login_required
def report_call_cancel(public_id: str):
    call = _call(public_id)
    page = ask_first(
        title=_("Cancel the call-back to %(number)s?", number=call.visitor_number),
        consequences=[_("The booked call-back is not placed: nobody rings %(number)s.",
                        number=call.visitor_number),
                      _("The call stays in the reports as cancelled; this cannot be undone.")],
        button=_("Cancel the call-back"),
        back=url_for("admin.report_call", public_id=call.public_id))
    if page:
        return page
    try:
        cancelled = calls.cancel_call(current_user, call)
    except ServiceError as error:
        flash(_("Nothing was cancelled: %(reason)s", reason=refusal_sentence(error)), "error")
        return redirect(url_for("admin.report_call", public_id=call.public_id))
    flash(_("The call-back booked for %(number)s is cancelled.",
            number=cancelled.visitor_number), "success")
    return redirect(url_for("admin.report_call", public_id=cancelled.public_id))
