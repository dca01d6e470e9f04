"""Usage per account of the caller's subtree (what a reseller bills its clients by), and
refused requests per widget, day and reason."""

from __future__ import annotations

from datetime import timedelta

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation, paginated
from widget_server.api.problems import invalid
from widget_server.api.schemas.reports import (
    RefusalPage,
    RefusalQuery,
    Usage,
    UsageQuery,
    UsageTotal,
)
from widget_server.extensions import db
from widget_server.models import Widget, utcnow
from widget_server.reports import (
    OUTCOMES,
    RefusalFilter,
    month_bounds,
    refusal_totals,
    refusals_select,
    usage_by_account,
)
from widget_server.tenancy import scoped_select

DEFAULT_DAYS = 30


@blueprint.get("/reports/usage")
@operation("Requests per account of the subtree in a closed month, or since a moment",
           query=UsageQuery, answer=Usage)
def usage(query: UsageQuery):
    """Each request counts once with its last attempt's outcome; a reseller's row counts
    its own widgets' requests in ``total`` and its clients' too in ``subtree_total``."""
    if query.month and query.since:
        raise invalid({"since": "Send month or since, not both."})
    until = None
    if query.month:
        since, until = month_bounds(query.month, utcnow())
    else:
        since = query.since or utcnow() - timedelta(days=DEFAULT_DAYS)
    rows = usage_by_account(caller(), since, until)
    own = next(row for row in rows if row.account_id == caller().id)
    return Usage(month=query.month, since=since, until=until, outcomes=list(OUTCOMES),
                 accounts=rows, total=UsageTotal.model_validate(own))


@blueprint.get("/reports/refusals")
@operation("Refused requests per widget, UTC day and reason", query=RefusalQuery,
           answer=RefusalPage)
def refusals(query: RefusalQuery):
    """Counted once the widget is known: a garbled token or the burst limit is not."""
    filters = RefusalFilter(client_id=query.client_id, date_from=query.since,
                            date_to=query.until)
    if query.widget_id is not None:
        widget = db.session.scalar(scoped_select(Widget, caller()).where(
            Widget.public_id == query.widget_id))
        filters.widget_id = widget.id if widget else 0
    return paginated(query, refusals_select(caller(), filters), RefusalPage,
                     extra={"totals": refusal_totals(caller(), filters)})
