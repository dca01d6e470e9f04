"""Reports: filtered call lists, CSV, the call timeline, charts and usage, within the subtree."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import (
    NORTH_SOUTH,
    ROLES,
    create_account,
    create_call,
    create_tree,
    create_user,
    create_widget,
    signed_in,
)
from tests.fakes.c2c_php import C2CPhpFake
from tests.providers.conftest import live  # noqa: F401  (fixture)
from widget_server.extensions import db
from widget_server.models import Account, CallRequest, Widget, utcnow
from widget_server.reports import usage_by_account

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there


def make_widget(app, account_id: int, name: str) -> int:
    with app.app_context():
        widget = Widget(account_id=account_id, name=name, business_numbers=["+12025550100"])
        db.session.add(widget)
        db.session.commit()
        return widget.id


def make_call(app, widget_id: int, **fields) -> str:
    """A call of the widget (tests.factories.create_call's keywords); its public id."""
    with app.app_context():
        return create_call(widget=db.session.get(Widget, widget_id), **fields).public_id


def listed(response) -> set[str]:
    """The call ids a list page links to."""
    return set(re.findall(r"/admin/reports/calls/([A-Za-z0-9_-]+)\"", response.get_data(
        as_text=True)))


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def tree(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    widgets = {name: make_widget(app, ids[name], f"{name} widget")
               for name in ("north-a", "north-b", "south-a")}
    return ids, widgets


def test_filters_narrow_the_list_by_widget_status_country_and_dates(app, tree):
    _, widgets = tree
    a, b = widgets["north-a"], widgets["north-b"]
    jan = datetime(2026, 1, 10, 12)
    calls = {
        "a_done_us": make_call(app, a, created_at=jan),
        "a_failed_de": make_call(app, a, status="failed", reason="busy", country="DE",
                                 number="+4930123456", created_at=jan + timedelta(days=5)),
        "b_done_us": make_call(app, b, created_at=jan + timedelta(days=10)),
    }
    client = signed_in(app, "read-only@north.example")

    def ids(**query):
        response = client.get("/admin/reports/calls", query_string=query)
        assert response.status_code == 200
        return listed(response)

    by_name = {value: key for key, value in calls.items()}
    assert {by_name[i] for i in ids()} == set(calls)
    assert {by_name[i] for i in ids(widget=a)} == {"a_done_us", "a_failed_de"}
    assert {by_name[i] for i in ids(status="failed")} == {"a_failed_de"}
    assert {by_name[i] for i in ids(country="de")} == {"a_failed_de"}
    assert {by_name[i] for i in ids(date_from="2026-01-15", date_to="2026-01-15")} == {
        "a_failed_de"}
    assert {by_name[i] for i in ids(date_from="2026-01-11")} == {"a_failed_de", "b_done_us"}


def test_a_filter_that_does_not_read_is_named_next_to_its_field_and_lists_nothing(app, tree):
    _, widgets = tree
    make_call(app, widgets["north-a"])
    client = signed_in(app, "owner@north.example")
    response = client.get("/admin/reports/calls",
                          query_string={"country": "Germany", "date_from": "yesterday"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'<input aria-describedby="country-error" aria-invalid="true" id="country"'
                     r'[^>]*>\s*<p class="field-error" id="country-error">Use a two-letter '
                     r'country code, like US.</p>', page)
    assert 'id="date_from-error">Not a valid date value.' in page
    assert listed(response) == set()


def test_a_long_list_is_paged_fifty_at_a_time(app, tree):
    _, widgets = tree
    start = datetime(2026, 2, 1)
    made = [make_call(app, widgets["north-a"], created_at=start + timedelta(minutes=i))
            for i in range(55)]
    client = signed_in(app, "member@north-a.example")
    first = listed(client.get("/admin/reports/calls"))
    second = listed(client.get("/admin/reports/calls?page=2"))
    assert len(first) == 50 and len(second) == 5
    assert first | second == set(made)
    assert second == set(made[:5])  # newest first: the oldest five come last


def test_the_csv_is_an_attachment_of_the_filtered_calls_with_durations_and_credit(app, tree):
    _, widgets = tree
    kept = make_call(app, widgets["north-a"], status="completed",
                     report={"business_seconds": 23, "visitor_seconds": 45, "credit": "12",
                             "raw": "not a figure"})
    make_call(app, widgets["north-a"], status="failed", reason="busy")
    response = signed_in(app, "read-only@north-a.example").get(
        "/admin/reports/calls.csv?status=completed")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="calls-')
    [row] = csv_rows(response)
    assert row["call_id"] == kept and row["outcome"] == "answered"
    assert (row["business_seconds"], row["visitor_seconds"], row["credit"]) == ("23", "45", "12")
    assert "raw" not in response.get_data(as_text=True)


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_start_with_a_quote(app, tree):
    ids, _ = tree
    for name in ("=HYPERLINK(\"http://evil.example\")", "@SUM(A1)", "-2+3", "plain"):
        make_call(app, make_widget(app, ids["north-a"], name))
    rows = csv_rows(signed_in(app, "owner@north-a.example").get("/admin/reports/calls.csv"))
    assert sorted(row["widget"] for row in rows) == sorted([
        "'=HYPERLINK(\"http://evil.example\")", "'@SUM(A1)", "'-2+3", "plain"])
    assert all(row["visitor_number"] == "'+12025550123" for row in rows)


def test_the_chart_draws_calls_per_day_with_a_title_a_description_and_a_table(app, tree):
    _, widgets = tree
    day = datetime(2026, 3, 2, 10)
    make_call(app, widgets["north-a"], created_at=day)
    make_call(app, widgets["north-a"], created_at=day, status="failed", reason="busy")
    make_call(app, widgets["north-a"], created_at=day + timedelta(days=2), status="rejected")
    page = signed_in(app, "owner@north.example").get("/admin/reports/calls").get_data(
        as_text=True)
    svg = re.search(r"<svg [^>]*role=\"img\"[^>]*>(.*?)</svg>", page, re.DOTALL).group(1)
    # Dates and figures as the reader's language writes them (English here).
    assert "<title id=\"chart-title\">Calls per day by outcome, Mar 2, 2026 to Mar 4, 2026" in svg
    assert "<desc id=\"chart-desc\">" in svg
    assert svg.count("<rect ") == 3  # answered + failed on day one, rejected on day three
    assert "Mar 2, 2026: 1 failed" in svg
    table = page[page.index("The chart's figures as a table"):]
    assert re.search(r"<th scope=\"row\"><time datetime=\"2026-03-02\">Mar 2, 2026</time></th>"
                     r"<td>1</td><td>0</td><td>1</td><td>0</td><td>0</td><td>50%</td>", table)
    # The quiet day between is a row of zeros, not a gap.
    assert re.search(r"<th scope=\"row\"><time datetime=\"2026-03-03\">Mar 3, 2026</time></th>"
                     r"(<td>0</td>){5}<td>–</td>", table)
    assert "Answer rate: <strong>50%</strong>" in page


def test_the_detail_shows_the_timeline_and_the_exchanges_folded_away(app, tree):
    _, widgets = tree
    call = make_call(app, widgets["north-a"], events=[
        ("queued", None, {}), ("dialing", None, {}),
        ("dialing", None, {"exchange": {"request": "GET /api?key=[redacted]", "status": 200}}),
        ("completed", "outcome_unknown", {"leg": "business"}),
    ], status="completed", reason="outcome_unknown")
    page = signed_in(app, "read-only@north-a.example").get(
        f"/admin/reports/calls/{call}").get_data(as_text=True)
    timeline = page[page.index('id="timeline-title"'):page.index('id="exchanges-title"')]
    assert list(re.findall(r"<strong>(\w+)</strong>", timeline)) == [
        "queued", "dialing", "completed"]
    assert "outcome_unknown" in timeline and "leg: business" in timeline
    # The reason in the words calls/status.py gives the visitor.
    assert "The call was placed; we cannot see how it ended." in timeline
    exchanges = page[page.index('id="exchanges-title"'):]
    assert "<details class=\"exchanges\">" in exchanges and "key=[redacted]" in exchanges
    assert "Not reported by this provider." in page


def test_a_real_provider_call_shows_its_report_and_redacted_exchanges_but_never_the_pin(live):  # noqa: F811
    with C2CPhpFake() as fake:
        token = live.provider_widget(kind="c2c-php", base_url=fake.url,
                                     credentials={"uid": fake.uid, "pin": fake.pin},
                                     options={"holdfile": "17"})
        shown = live.place_call(token, "+12025550123")
    assert shown["status"] == "completed"
    with live.app.app_context():
        call = db.session.scalar(select(CallRequest).where(
            CallRequest.public_id == shown["call_id"]))
        create_user(account=call.widget.account, role="read-only", email="ro@c2c.example")
    client = signed_in(live.app, "ro@c2c.example")
    pages = [client.get(f"/admin/reports/calls/{shown['call_id']}").get_data(as_text=True),
             client.get("/admin/reports/calls").get_data(as_text=True),
             client.get("/admin/reports/calls.csv").get_data(as_text=True)]
    detail = pages[0]
    assert "[redacted]" in detail and "click2call.php" in detail
    assert re.search(r"Business leg \(s\)</dt><dd>23</dd>", detail)
    assert re.search(r"Credit</dt><dd>12</dd>", detail)
    for text in pages:
        assert fake.pin not in text and "pin-9f3Kx%2Bs3cret" not in text


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_call_is_not_found_and_absent_from_lists_csv_and_usage(app, tree, role):
    _, widgets = tree
    mine = make_call(app, widgets["north-a"])
    sibling = make_call(app, widgets["north-b"])
    foreign = make_call(app, widgets["south-a"])
    client = signed_in(app, f"{role}@north-a.example")
    assert client.get(f"/admin/reports/calls/{foreign}").status_code == 404
    assert client.get(f"/admin/reports/calls/{sibling}").status_code == 404
    assert client.get(f"/admin/reports/calls/{mine}").status_code == 200
    assert listed(client.get("/admin/reports/calls")) == {mine}
    # A widget of another tenant is not even a choice: its calls do not leak through it.
    assert listed(client.get(f"/admin/reports/calls?widget={widgets['south-a']}")) == set()
    exported = client.get(f"/admin/reports/calls.csv?widget={widgets['south-a']}")
    assert exported.status_code == 400 and foreign not in exported.get_data(as_text=True)
    assert [r["call_id"] for r in csv_rows(client.get("/admin/reports/calls.csv"))] == [mine]
    usage = client.get("/admin/reports/usage").get_data(as_text=True)
    assert "north-a" in usage and "north-b" not in usage and "south-a" not in usage

    reseller = signed_in(app, f"{role}@north.example")
    assert listed(reseller.get("/admin/reports/calls")) == {mine, sibling}
    assert reseller.get(f"/admin/reports/calls/{foreign}").status_code == 404
    assert foreign not in reseller.get("/admin/reports/calls.csv").get_data(as_text=True)


def test_reports_need_a_signed_in_user(app, tree):
    _, widgets = tree
    call = make_call(app, widgets["north-a"])
    client = app.test_client()
    for path in ("/admin/reports/calls", f"/admin/reports/calls/{call}",
                 "/admin/reports/calls.csv", "/admin/reports/usage"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/sign-in")


def test_a_reseller_sees_each_clients_calls_today_this_month_and_by_outcome(app, tree):
    ids, widgets = tree
    now = utcnow()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    make_call(app, widgets["north-a"], created_at=now)
    make_call(app, widgets["north-a"], created_at=now, status="failed", reason="busy")
    make_call(app, widgets["north-a"], created_at=month_start, status="completed",
              reason="outcome_unknown")
    make_call(app, widgets["north-a"], created_at=month_start - timedelta(seconds=1))
    make_call(app, widgets["south-a"], created_at=now)
    page = signed_in(app, "read-only@north.example").get("/admin/reports/usage").get_data(
        as_text=True)
    row = re.search(r"<th scope=\"row\">north-a .*?</tr>", page, re.DOTALL).group(0)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    today_is_month_start = now.date() == month_start.date()
    # today, month, answered, unknown, failed, rejected, pending, answer rate (then minutes)
    assert cells[:8] == ["3" if today_is_month_start else "2", "3", "1", "1", "1", "0", "0",
                         "33%"]
    assert "south-a" not in page
    with app.app_context():
        rows = usage_by_account(db.session.get(Account, ids["north"]), month_start)
    assert [(r.name, r.total) for r in rows] == [("north", 0), ("north-a", 3), ("north-b", 0)]


def test_each_call_shows_its_source_filters_by_campaign_and_exports_it(app):
    with app.app_context():
        account = create_account(name="acme")
        user_id = create_user(account=account).id
        widget = create_widget(account=account)
        google, formula, direct = (
            create_call(widget=widget, number=f"+1202555012{n}", page_url=page_url,
                        campaign=campaign).public_id
            for n, (page_url, campaign) in enumerate((
                ("https://shop.example/boilers",
                 {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "winter",
                  "gclid": "Cj0"}),
                ("https://shop.example/", {"utm_source": "=HYPERLINK(1)"}),
                (None, {}))))
    client = signed_in(app, user_id)

    page = client.get("/admin/reports/calls")
    text = page.get_data(as_text=True)
    assert ">Source</th>" in text
    assert "google / cpc / winter" in text and "https://shop.example/boilers" in text
    assert listed(client.get("/admin/reports/calls?utm_source=google")) == {google}
    assert listed(client.get("/admin/reports/calls?utm_medium=cpc&utm_campaign=winter")) == {
        google}
    assert listed(client.get("/admin/reports/calls?utm_campaign=spring")) == set()
    for refused in ("x" * 101, "%00"):
        assert client.get("/admin/reports/calls?utm_source=" + refused).status_code == 400

    rows = {row["call_id"]: row for row in csv_rows(client.get("/admin/reports/calls.csv"))}
    assert set(rows) == {google, formula, direct}
    assert {key: rows[google][key] for key in ("page_url", "utm_source", "utm_medium",
                                               "utm_campaign", "utm_term", "gclid")} == {
        "page_url": "https://shop.example/boilers", "utm_source": "google",
        "utm_medium": "cpc", "utm_campaign": "winter", "utm_term": "", "gclid": "Cj0"}
    # A value a spreadsheet would run as a formula is exported as text.
    assert rows[formula]["utm_source"] == "'=HYPERLINK(1)"
    assert rows[direct]["page_url"] == rows[direct]["utm_source"] == ""
    call_page = client.get(f"/admin/reports/calls/{google}").get_data(as_text=True)
    assert "https://shop.example/boilers" in call_page and "winter" in call_page
