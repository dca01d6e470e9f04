"""Usage for a closed month at /reports/usage?month=, and calls filtered by client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import create_call
from widget_server.extensions import db
from widget_server.models import Widget, utcnow
from widget_server.reports import last_closed_month, month_bounds

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the report SQL differs there


@pytest.fixture
def last_month(app, tenants):
    """Last month: client-a's request answered by a redial, and one busy; client-b's
    answered (2 minutes); other-client's; and a request of this month."""
    month = last_closed_month(utcnow())
    at = month_bounds(month, utcnow())[0] + timedelta(days=1)
    with app.app_context():
        def widget(name):
            made = Widget(account_id=tenants.ids[name], business_numbers=["+12025550100"])
            db.session.add(made)
            db.session.commit()
            return made

        a, b, other = widget("client-a"), widget("client-b"), widget("other-client")
        first = create_call(widget=a, status="failed", reason="business_no_answer",
                            created_at=at)
        create_call(widget=a, redial_of_id=first.id, attempt=2, attempt_reason="redial",
                    created_at=at + timedelta(minutes=10), report={"visitor_seconds": 30})
        create_call(widget=a, status="failed", reason="busy", created_at=at)
        create_call(widget=b, created_at=at, report={"minutes": "2"})
        create_call(widget=other, created_at=at)
        create_call(widget=a, created_at=utcnow())
    return month


def test_a_closed_month_per_client_with_a_total_and_the_resellers_subtree(api, last_month):
    answer = api("GET", f"/reports/usage?month={last_month}")
    assert answer.status_code == 200, answer.get_json()
    usage = answer.get_json()
    assert usage["month"] == last_month and usage["until"] is not None
    rows = {row["name"]: row for row in usage["accounts"]}
    assert list(rows) == ["reseller", "client-a", "client-b"]
    a = rows["client-a"]
    assert (a["total"], a["by_outcome"]["answered"], a["by_outcome"]["failed"]) == (2, 1, 1)
    assert (a["answered_minutes"], a["answered_with_duration"]) == (0.5, 1)
    assert rows["client-b"]["answered_minutes"] == 2.0
    reseller = rows["reseller"]
    assert (reseller["total"], reseller["subtree_total"]) == (0, 3)
    assert reseller["subtree_by_outcome"]["answered"] == 2
    assert usage["total"] == {"total": 3, "answered_minutes": 2.5, "answered_with_duration": 2,
                              "by_outcome": {"answered": 2, "unknown": 0, "failed": 1,
                                             "rejected": 0, "pending": 0}}
    client = api("GET", f"/reports/usage?month={last_month}", key="client-a").get_json()
    assert [row["name"] for row in client["accounts"]] == ["client-a"]
    assert client["total"]["total"] == 2


@pytest.mark.parametrize(("query", "field", "sentence"), [
    ("month=THIS", "month", "is not over yet"),
    ("month=2999-12", "month", "is not over yet"),
    ("month=2026-1", "month", "Use a month such as 2026-01"),
    ("month=2026-00", "month", "Use a month such as 2026-01"),
    ("month=2026-01&since=2026-01-01", "since", "Send month or since, not both."),
    ("month=2026-01&currency=EUR", "currency", ""),
])
def test_an_open_month_a_bad_one_or_an_unknown_parameter_is_refused(api, query, field,
                                                                   sentence):
    answer = api("GET", "/reports/usage?" + query.replace("THIS", f"{utcnow():%Y-%m}"))
    assert answer.status_code == 422
    assert sentence in answer.get_json()["errors"][field]


def test_calls_filter_by_client_within_the_subtree(api, tenants, last_month):
    listed = api("GET", f"/calls?client_id={tenants.ids['client-b']}").get_json()
    assert listed["total"] == 1
    everything = api("GET", f"/calls?client_id={tenants.ids['client-a']}").get_json()
    assert everything["total"] == 4  # every attempt, this month's too
    assert {c["account_id"] for c in everything["items"]} == {tenants.ids["client-a"]}
    assert api("GET", f"/calls?client_id={tenants.ids['reseller']}").get_json()["total"] == 5
    foreign = api("GET", f"/calls?client_id={tenants.ids['other-client']}").get_json()
    assert foreign["total"] == 0
    assert api("GET", "/calls?client_id=abc").status_code == 422
