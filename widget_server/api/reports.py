"""Usage per account of the caller's subtree: what a reseller bills its clients by."""

from __future__ import annotations

from datetime import timedelta

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.inputs import Query
from widget_server.models import utcnow
from widget_server.reports import OUTCOMES, usage_by_account

DEFAULT_DAYS = 30


@blueprint.get("/reports/usage")
def usage():
    """Calls per account since ``since`` (a date or date-time; default 30 days ago)."""
    query = Query({"since"})
    since = query.moment("since")
    query.done()
    since = since or utcnow() - timedelta(days=DEFAULT_DAYS)
    rows = usage_by_account(caller(), since)
    return {"since": since.isoformat() + "Z", "outcomes": list(OUTCOMES), "accounts": [
        {"account_id": row.account_id, "name": row.name, "kind": row.kind,
         "parent_id": row.parent_id, "total": row.total, "by_outcome": row.by_outcome,
         "answer_rate": row.answer_rate} for row in rows]}


