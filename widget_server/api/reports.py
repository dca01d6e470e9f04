"""Usage per account of the caller's subtree: what a reseller bills its clients by."""

from __future__ import annotations

from datetime import timedelta

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation
from widget_server.api.schemas.reports import Usage, UsageQuery
from widget_server.models import utcnow
from widget_server.reports import OUTCOMES, usage_by_account

DEFAULT_DAYS = 30


@blueprint.get("/reports/usage")
@operation("Calls per account of the subtree since a moment", query=UsageQuery, answer=Usage)
def usage(query: UsageQuery):
    since = query.since or utcnow() - timedelta(days=DEFAULT_DAYS)
    return Usage(since=since, outcomes=list(OUTCOMES),
                 accounts=usage_by_account(caller(), since))
