"""The dashboard's figures and their links, usage for a closed month, calls by client, and
the business number that answered."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import NORTH_SOUTH, create_call, create_tree, signed_in
from widget_server.extensions import db
from widget_server.models import CallEvent, CallRequest, RefusalCount, Widget, utcnow
from widget_server.reports import last_closed_month, month_bounds

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the report SQL differs there

FIRST, SECOND = "+12025550100", "+12025550101"


def make_widget(app, account_id: int, name: str) -> int:
    with app.app_context():
        widget = Widget(account_id=account_id, name=name, business_numbers=[FIRST, SECOND])
        db.session.add(widget)
        db.session.commit()
        return widget.id


def call(app, widget_id: int, **fields):
    """A call of the widget (tests.factories.create_call's keywords): (public id, row id)."""
    with app.app_context():
        made = create_call(widget=db.session.get(Widget, widget_id), **fields)
        return made.public_id, made.id


@pytest.fixture
def tree(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    widgets = {name: make_widget(app, ids[name], f"{name} widget")
               for name in ("north", "north-a", "north-b", "south-a")}
    return ids, widgets


def listed(response) -> set[str]:
    assert response.status_code == 200
    return set(re.findall(r"/admin/reports/calls/([A-Za-z0-9_-]+)\"",
                          response.get_data(as_text=True)))


def last_month() -> tuple[str, datetime]:
    month = last_closed_month(utcnow())
    return month, month_bounds(month, utcnow())[0]


def invoiced_month(app, widgets) -> tuple[str, dict]:
    """Last month's requests of north's tree (and calls outside it or the month)."""
    month, start = last_month()
    at = start + timedelta(days=3)
    # A request the first number missed, answered by the second: one lead, answered.
    _, first = call(app, widgets["north-a"], status="failed", reason="business_not_reached",
                    created_at=at, business_number=FIRST)
    call(app, widgets["north-a"], created_at=at + timedelta(seconds=40), redial_of_id=first,
         attempt=2, attempt_reason="next_number", business_number=SECOND,
         report={"business_seconds": 100, "visitor_seconds": 90})
    call(app, widgets["north-a"], status="failed", reason="busy", created_at=at)
    call(app, widgets["north-b"], created_at=at, report={"minutes": 2, "answered": True})
    call(app, widgets["north"], reason="outcome_unknown", created_at=at)
    call(app, widgets["south-a"], created_at=at)  # another reseller's
    call(app, widgets["north-a"], created_at=start - timedelta(seconds=1))  # month before
    call(app, widgets["north-a"], created_at=utcnow())  # this month
    return month, {"first": first}


def test_a_closed_month_counts_each_request_once_with_minutes_and_a_total(app, tree):
    _, widgets = tree
    month, _ = invoiced_month(app, widgets)
    admin = signed_in(app, "read-only@north.example")
    page = admin.get(f"/admin/reports/usage?month={month}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)

    def cells(pattern: str) -> list[str]:
        row = re.search(pattern + r".*?</tr>", text, re.DOTALL).group(0)
        return re.findall(r"<td>([^<]*)</td>", row)

    # requests, answered unknown failed rejected pending, rate, minutes, timed, incl. below
    assert cells(r'<th scope="row">north-a ') == ["2", "1", "0", "1", "0", "0", "50%",
                                                  "1.5", "1", "2"]
    assert cells(r'<th scope="row">north ') == ["1", "0", "1", "0", "0", "0", "0%",
                                                "0", "0", "4"]
    assert cells(r'<tr id="usage-total">') == ["4", "2", "1", "1", "0", "0", "", "3.5",
                                               "2", "4"]
    assert "south-a" not in text

    exported = admin.get(f"/admin/reports/usage.csv?month={month}")
    assert exported.mimetype == "text/csv"
    assert f'filename="usage-{month}.csv"' in exported.headers["Content-Disposition"]
    rows = {row["account"]: row for row in csv.DictReader(io.StringIO(
        exported.get_data(as_text=True)))}
    assert list(rows) == ["north", "north-a", "north-b", "total"]
    assert (rows["north"]["requests"], rows["north"]["subtree_requests"]) == ("1", "4")
    assert (rows["north-b"]["answered"], rows["north-b"]["answered_minutes"]) == ("1", "2.0")
    assert (rows["total"]["requests"], rows["total"]["answered"],
            rows["total"]["answered_minutes"]) == ("4", "2", "3.5")


def test_an_open_or_unreadable_month_is_refused_with_a_sentence(app, tree):
    admin = signed_in(app, "owner@north.example")
    this_month = f"{utcnow():%Y-%m}"
    for month, sentence in ((this_month, "is not over yet"), ("2999-01", "is not over yet"),
                            ("2026-13", "Use a month such as"), ("01-2026", "Use a month"),
                            ("1999-12", "Use a month from 2000-01")):
        for path in ("/admin/reports/usage", "/admin/reports/usage.csv"):
            response = admin.get(path, query_string={"month": month})
            assert response.status_code == 400, (path, month)
            assert sentence in response.get_data(as_text=True)
    assert admin.get("/admin/reports/usage.csv").status_code == 400


def test_the_dashboard_counts_the_subtree_and_each_figure_links_to_its_calls(app, tree):
    _, widgets = tree
    now = utcnow()
    answered, _ = call(app, widgets["north-a"], created_at=now)
    missed, _ = call(app, widgets["north-a"], status="failed", reason="no_answer",
                     created_at=now)
    booked, _ = call(app, widgets["north-b"], status="queued", reason="scheduled",
                     scheduled_for=now + timedelta(days=1), created_at=now)
    # Missed, then booked for later: no longer waiting, booked instead.
    retried_id, retried = call(app, widgets["north-b"], status="failed", reason="busy",
                               created_at=now)
    rebooked, _ = call(app, widgets["north-b"], status="queued", redial_of_id=retried,
                       attempt=2, attempt_reason="callback", created_at=now,
                       scheduled_for=now + timedelta(hours=2))
    call(app, widgets["south-a"], created_at=now, status="failed")
    with app.app_context():
        db.session.add(RefusalCount(widget_id=widgets["north-a"], day=now.date(),
                                    reason="captcha", count=3))
        db.session.add(RefusalCount(widget_id=widgets["south-a"], day=now.date(),
                                    reason="origin", count=9))
        db.session.commit()
    admin = signed_in(app, "read-only@north.example")
    page = admin.get("/admin/").get_data(as_text=True)

    def figure(name: str) -> tuple[str, str]:
        href, value = re.search(rf'id="figure-{name}" href="([^"]+)">([^<]+)</a>',
                                page).groups()
        return href.replace("&amp;", "&"), value

    assert figure("requests-today")[1] == "4"
    assert listed(admin.get(figure("requests-today")[0])) == {answered, missed, booked,
                                                               retried_id}
    assert figure("requests-month")[1] == "4"
    assert len(listed(admin.get(figure("requests-month")[0]))) == 4
    # answered 1, failed 1 (missed); the two booked are pending
    assert figure("answer-rate")[1] == "50%"
    assert figure("missed") == (figure("missed")[0], "1")
    assert listed(admin.get(figure("missed")[0])) == {missed}
    assert figure("booked")[1] == "2"
    assert listed(admin.get(figure("booked")[0])) == {booked, rebooked}
    assert "Captcha not solved: 3" in page and "Site not allowed" not in page
    top = re.search(r'<ol id="figure-top-widgets">.*?</ol>', page, re.DOTALL).group(0)
    assert re.findall(r'">([\w -]+)</a>\s*<span class="hint">[\w-]+</span>: (\d+) requests',
                      top) == [("north-a widget", "2"), ("north-b widget", "2")]
    client_page = signed_in(app, "owner@north-a.example").get("/admin/").get_data(
        as_text=True)
    assert re.search(r'id="figure-requests-today" href="[^"]+">2</a>', client_page)


def test_calls_filter_by_client_and_the_page_names_the_number_that_answered(app, tree):
    ids, widgets = tree
    _, ids_of = invoiced_month(app, widgets)
    admin = signed_in(app, "read-only@north.example")
    in_b = listed(admin.get("/admin/reports/calls", query_string={"client": ids["north-b"]}))
    assert len(in_b) == 1
    in_a = listed(admin.get("/admin/reports/calls", query_string={"client": ids["north-a"]}))
    assert len(in_a) == 5
    assert admin.get("/admin/reports/calls",
                     query_string={"client": ids["south-a"]}).status_code == 400
    with app.app_context():
        first = db.session.get_one(CallRequest, ids_of["first"])
        second = db.session.scalar(select(CallRequest).filter_by(redial_of_id=first.id))
        first_id, second_id = first.public_id, second.public_id
        for status, detail in (("dialing", {"leg": "business"}), ("ringing", {"leg": "visitor"}),
                               ("connected", {}), ("completed", {})):
            db.session.add(CallEvent(call_id=second.id, status=status, detail=detail))
        db.session.commit()
    page = admin.get(f"/admin/reports/calls/{first_id}").get_data(as_text=True)
    answered_by = re.search(r'id="answered-by">([^<]*)</dd>', page).group(1)
    assert answered_by == f"{SECOND} (attempt 2)"
    page = admin.get(f"/admin/reports/calls/{second_id}").get_data(as_text=True)
    assert re.search(r'id="answered-by">([^<]*)</dd>', page).group(1) == SECOND
    marked = re.findall(r"<strong>(\w+)</strong>[^<]*<span class=\"answered-at\">([^<]+)",
                        page)
    assert marked == [("ringing", f"the business answered at {SECOND}")]
