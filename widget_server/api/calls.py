"""Calls of the caller's subtree: filtered lists, one call with its event timeline, and
"Call now" and "Cancel" (services/calls.py)."""

from __future__ import annotations

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation, paginated
from widget_server.api.problems import Problem
from widget_server.api.schemas.calls import CallDetail, CallPage, CallQuery
from widget_server.api.schemas.common import PublicId
from widget_server.extensions import db
from widget_server.models import CallRequest, Widget
from widget_server.reports import CallFilter, calls_select
from widget_server.services import calls
from widget_server.tenancy import scoped_select


@blueprint.get("/calls")
@operation("Calls, newest first", query=CallQuery, answer=CallPage)
def list_calls(query: CallQuery):
    """``since`` and ``until`` are UTC days, both included."""
    filters = CallFilter(status=query.status, country=query.country,
                         date_from=query.since, date_to=query.until,
                         utm_source=query.utm_source, utm_medium=query.utm_medium,
                         utm_campaign=query.utm_campaign, client_id=query.client_id)
    if query.widget_id is not None:
        widget = db.session.scalar(scoped_select(Widget, caller()).where(
            Widget.public_id == query.widget_id))
        filters.widget_id = widget.id if widget else 0
    return paginated(query, calls_select(caller(), filters), CallPage)


@blueprint.get("/calls/<call_id>")
@operation("One call with its events", answer=CallDetail, errors=(404,))
def get_call(call_id: PublicId):
    call = db.session.scalar(scoped_select(CallRequest, caller()).where(
        CallRequest.public_id == call_id))
    if call is None:
        raise Problem(404)
    return CallDetail.model_validate(call)


@blueprint.post("/calls/<call_id>/redial")
@operation("Call now: the request placed again at once, counted against the caps",
           answer=CallDetail, status=201, errors=(404, 409, 429))
def redial_call(call_id: PublicId):
    """For calls of the last 24 hours that are not in progress; answers the new attempt. A
    call-back booked for later is cancelled."""
    return CallDetail.model_validate(calls.call_now(caller(), calls.scoped_call(caller(),
                                                                                call_id)))


@blueprint.post("/calls/<call_id>/cancel")
@operation("Cancel the call-back booked for this call", answer=CallDetail, errors=(404, 409))
def cancel_call(call_id: PublicId):
    """Answers the cancelled attempt; 409 when no call-back is booked."""
    return CallDetail.model_validate(calls.cancel_call(caller(), calls.scoped_call(caller(),
                                                                                   call_id)))
