"""Calls of the caller's subtree: filtered lists, and one call with its event timeline."""

from __future__ import annotations

import re
from datetime import date

from widget_server.api import blueprint
from widget_server.api.auth import caller
from widget_server.api.inputs import PUBLIC_ID, Query, paginated, timestamp
from widget_server.api.problems import Problem
from widget_server.call_states import CallState
from widget_server.extensions import db
from widget_server.models import CallRequest, Widget
from widget_server.reports import CallFilter, calls_select, day_problem
from widget_server.tenancy import scoped_select

_COUNTRY = re.compile(r"[A-Za-z]{2}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def call_json(call: CallRequest) -> dict:
    return {"id": call.public_id, "widget_id": call.widget.public_id,
            "account_id": call.account_id, "status": call.status, "reason": call.reason,
            "visitor_number": call.visitor_number, "visitor_country": call.visitor_country,
            "page_origin": call.page_origin, "provider_kind": call.provider_kind,
            "scheduled_for": timestamp(call.scheduled_for),
            "provider_report": call.provider_report,
            "created_at": timestamp(call.created_at), "updated_at": timestamp(call.updated_at)}


def event_json(event) -> dict:
    """A state change, or a provider exchange (redacted by the adapter before it was stored)."""
    detail = dict(event.detail or {})
    return {"at": timestamp(event.at), "status": event.status, "reason": event.reason,
            "kind": "exchange" if "exchange" in detail else "state", "detail": detail}


def _day(query: Query, name: str) -> date | None:
    value = query.text(name, _DATE)
    try:
        day = None if value is None else date.fromisoformat(value)
    except ValueError:
        query.errors[name] = "Use a date such as 2025-01-31."
        return None
    if problem := day_problem(day):
        query.errors[name] = problem
        return None
    return day


@blueprint.get("/calls")
def list_calls():
    """Newest first; ``since`` and ``until`` are UTC days, both included."""
    query = Query({"widget_id", "status", "country", "since", "until"})
    filters = CallFilter(status=query.choice("status", tuple(CallState)),
                         country=query.text("country", _COUNTRY),
                         date_from=_day(query, "since"), date_to=_day(query, "until"))
    widget_id = query.text("widget_id", PUBLIC_ID)
    if widget_id is not None:
        widget = db.session.scalar(scoped_select(Widget, caller()).where(
            Widget.public_id == widget_id))
        filters.widget_id = widget.id if widget else 0
    return paginated(query, calls_select(caller(), filters), call_json)


@blueprint.get("/calls/<call_id>")
def get_call(call_id: str):
    call = None
    if PUBLIC_ID.fullmatch(call_id):
        call = db.session.scalar(scoped_select(CallRequest, caller()).where(
            CallRequest.public_id == call_id))
    if call is None:
        raise Problem(404)
    return call_json(call) | {"events": [event_json(e) for e in call.events]}


