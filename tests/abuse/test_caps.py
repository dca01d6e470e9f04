"""Daily caps hold exactly: under concurrent requests, across processes and restarts.

The concurrency tests use real HTTP servers on 127.0.0.1 (a threaded
werkzeug server in this process, or two ``widget-server run`` processes) and
real clients in threads; the database is SQLite or PostgreSQL, per the
``app`` fixture.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from tests.conftest import base_config, free_port
from tests.factories import call_body, create_widget, post_call
from tests.waiting import get_when_up
from widget_server import create_app
from widget_server.abuse.caps import Cap, KnownFull, known_full, refuse_unless_counted
from widget_server.errors import Refusal
from widget_server.extensions import db
from widget_server.models import Account, CallRequest, UsageCounter, Widget

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

CONCURRENT = 20
CAP = 5


def visitor_number(n: int) -> str:
    return f"+1202555{100 + n:04d}"


def call_rows(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(CallRequest))
        db.session.remove()
    return count


def counters(app) -> dict:
    with app.app_context():
        rows = db.session.execute(select(UsageCounter.scope, UsageCounter.key,
                                         UsageCounter.period, UsageCounter.count)).all()
        db.session.remove()
    return {(scope, key, period): count for scope, key, period, count in rows}


def edit(app, model, row_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(model).where(model.id == row_id).values(**values))
        db.session.commit()
        db.session.remove()


def seconds_to_utc_midnight() -> float:
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


def seconds_to_next_utc_minute() -> float:
    now = datetime.now(UTC)
    return 60 - now.second - now.microsecond / 1e6


def frames(app, client, widget, count: int) -> list[dict]:
    """``count`` valid requests, each with its own nonce, solved captcha and number."""
    return [call_body(app, client, widget, phone=visitor_number(n)) for n in range(count)]


def post_all_at_once(urls: list[str], bodies: list[dict]) -> list[tuple[int, dict]]:
    """POST every body at the same moment, round-robin over ``urls``; (status, json) each."""
    start = threading.Barrier(len(bodies))

    def send(index: int) -> tuple[int, dict]:
        base = urls[index % len(urls)]
        with requests.Session() as session:
            start.wait()
            response = session.post(f"{base}/embed/v1/calls", json=bodies[index],
                                    headers={"Origin": base}, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, range(len(bodies))))


def assert_exactly_the_cap_admitted(app, results, server_log: str = "") -> None:
    statuses = Counter(status for status, _ in results)
    assert statuses == {202: CAP, 429: CONCURRENT - CAP}, (results, server_log)
    assert {body["error"] for status, body in results if status == 429} == {"cap_ip"}
    assert call_rows(app) == CAP
    ip_counts = [n for (scope, _, _), n in counters(app).items() if scope == "ip"]
    assert ip_counts == [CAP]


@contextmanager
def threaded_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def capped(app):
    """The installation's per-IP cap at CAP; the other caps out of the way."""
    app.config.update(CAP_PER_IP=CAP, CAP_PER_NUMBER=1000, CAP_PER_WIDGET=1000,
                      CAP_PER_ACCOUNT=1000)
    return app


def test_concurrent_requests_from_one_address_admit_exactly_the_cap(capped, client, widget):
    bodies = frames(capped, client, widget, CONCURRENT)
    with threaded_server(capped) as url:
        results = post_all_at_once([url], bodies)
    assert_exactly_the_cap_admitted(capped, results)


# -- two processes -----------------------------------------------------------------------

@contextmanager
def widget_server_processes(app, database_url: str, count: int, log: list[str]):
    """``count`` ``widget-server run`` processes on the app's instance folder and database.

    Their output is appended to ``log`` once they have stopped.
    """
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("WIDGET_SERVER_")}
    env.update({
        "WIDGET_SERVER_INSTANCE_PATH": app.instance_path,
        "WIDGET_SERVER_DATABASE_URL": database_url,
        "WIDGET_SERVER_DEVELOPMENT": "true",
        "WIDGET_SERVER_SIMULATOR_SPEED": "0",
        "WIDGET_SERVER_QUEUE_WORKERS": "1",
        "WIDGET_SERVER_LIMIT_CALL_POST": "1000/minute",
        "WIDGET_SERVER_CAP_PER_IP": str(CAP),
        "WIDGET_SERVER_CAP_PER_WIDGET": "1000",
        "WIDGET_SERVER_CAP_PER_ACCOUNT": "1000",
    })
    command = str(Path(sys.executable).with_name("widget-server"))
    processes, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen([command, "run", "--port", str(port)], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
            # One at a time: each prepares the database on start.
            assert get_when_up(f"{urls[-1]}/healthz", process).status_code == 200
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.append(process.stdout.read())


def test_concurrent_requests_spread_over_two_processes_admit_exactly_the_cap(
        capped, client, widget, database_url):
    bodies = frames(capped, client, widget, CONCURRENT)
    log: list[str] = []
    with widget_server_processes(capped, database_url, 2, log) as urls:
        results = post_all_at_once(urls, bodies)
    assert_exactly_the_cap_admitted(capped, results, "\n".join(log))


# -- restart -----------------------------------------------------------------------------

def test_a_cap_survives_a_restart_of_the_app(capped, client, widget, database_url):
    for body in frames(capped, client, widget, 3):
        assert post_call(client, body).status_code == 202
    with capped.app_context():
        db.session.remove()
        db.engine.dispose()

    restarted = create_app(base_config(capped.instance_path, database_url) | {"CAP_PER_IP": CAP})
    restarted_client = restarted.test_client()
    bodies = [call_body(restarted, restarted_client, widget, phone=visitor_number(10 + n))
              for n in range(3)]
    statuses = [post_call(restarted_client, body).status_code for body in bodies]
    assert statuses == [202, 202, 429]
    assert call_rows(restarted) == CAP
    with restarted.app_context():
        db.engine.dispose()


# -- counted once, and only for admitted calls -------------------------------------------

def test_an_admitted_call_counts_once_against_each_cap(capped, client, widget):
    body = frames(capped, client, widget, 1)[0]
    accepted = post_call(client, body)
    assert accepted.status_code == 202
    placed = accepted.get_json()
    for _ in range(3):  # polling the status spends nothing
        client.get(placed["status_url"], headers={"X-Call-Token": placed["call_token"]})
    counted = {scope: (key, count) for (scope, key, _), count in counters(capped).items()}
    assert counted == {
        "number-min": (body["phone"], 1),
        "ceiling-number": (body["phone"], 1),
        "number": (f"{widget.public_id}/{body['phone']}", 1),
        "ceiling-ip": ("127.0.0.1", 1),
        "ip": (f"{widget.public_id}/127.0.0.1", 1),
        "widget": (widget.public_id, 1),
        "account": (str(widget.account_id), 1),
    }


def test_a_call_refused_after_the_caps_would_pass_spends_no_cap(capped, client, widget):
    edit(capped, Widget, widget.id, cap_per_ip=1)
    body = frames(capped, client, widget, 1)[0]
    wrong_captcha = call_body(capped, client, widget, phone=body["phone"], captcha="bm9wZQ==")
    refused = post_call(client, wrong_captcha)
    assert refused.status_code == 403 and refused.get_json()["error"] == "captcha_failed"
    assert counters(capped) == {}
    assert post_call(client, body).status_code == 202  # the one allowed call is still there


def test_a_call_refused_by_the_last_cap_spends_none_of_the_earlier_ones(
        capped, client, widget):
    assert post_call(client, frames(capped, client, widget, 1)[0]).status_code == 202
    edit(capped, Account, widget.account_id, daily_call_cap=1)
    spent = counters(capped)
    refused = post_call(client, call_body(capped, client, widget, phone=visitor_number(1)))
    assert refused.status_code == 429 and refused.get_json()["error"] == "cap_account"
    # The number, IP and widget caps checked before the account cap were not counted.
    assert counters(capped) == spent


# -- allowances flow down the account tree -------------------------------------------

def client_widget_under_reseller(app, *, reseller_daily=None, reseller_monthly=None):
    """A widget of a client of a reseller; the reseller's allowance as given."""
    with app.app_context():
        reseller = Account(name="north-resale", kind="reseller", daily_call_cap=reseller_daily,
                           monthly_call_cap=reseller_monthly)
        db.session.add(reseller)
        db.session.flush()
        widgets = []
        for name in ("client-one", "client-two"):
            client_account = Account(name=name, kind="client", parent_id=reseller.id)
            db.session.add(client_account)
            db.session.flush()
            widgets.append(create_widget(account=client_account,
                                         domains=["shop.example", "localhost:5000"]))
        for made in widgets:
            db.session.refresh(made)
            db.session.expunge(made)
        return reseller.id, widgets


def test_a_resellers_daily_allowance_counts_its_clients_calls_together(capped, client):
    reseller_id, (first, second) = client_widget_under_reseller(capped, reseller_daily=2)
    assert post_call(client, call_body(capped, client, first,
                                       phone=visitor_number(1))).status_code == 202
    assert post_call(client, call_body(capped, client, second,
                                       phone=visitor_number(2))).status_code == 202
    body = call_body(capped, client, first, phone=visitor_number(3))
    latest = seconds_to_utc_midnight()
    refused = post_call(client, body)
    assert refused.status_code == 429 and refused.get_json()["error"] == "cap_account"
    assert 1 <= int(refused.headers["Retry-After"]) <= math.ceil(latest)
    assert call_rows(capped) == 2
    reseller_days = [n for (scope, key, _), n in counters(capped).items()
                     if (scope, key) == ("account", str(reseller_id))]
    assert reseller_days == [2]


def test_a_monthly_allowance_refuses_until_the_first_of_next_month(capped, client):
    _, (first, second) = client_widget_under_reseller(capped, reseller_monthly=1)
    assert post_call(client, call_body(capped, client, first,
                                       phone=visitor_number(1))).status_code == 202
    body = call_body(capped, client, second, phone=visitor_number(2))
    now = datetime.now(UTC)
    refused = post_call(client, body)
    assert refused.status_code == 429 and refused.get_json()["error"] == "cap_account_month"
    next_month = (now.replace(day=28) + timedelta(days=4)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0)
    assert int(refused.headers["Retry-After"]) <= math.ceil((next_month - now).total_seconds())
    assert int(refused.headers["Retry-After"]) > (next_month - now).total_seconds() - 60


def test_a_reseller_without_an_allowance_leaves_its_clients_to_their_own(capped, client):
    _, (first, second) = client_widget_under_reseller(capped)
    edit(capped, Account, first.account_id, daily_call_cap=1)
    assert post_call(client, call_body(capped, client, first,
                                       phone=visitor_number(1))).status_code == 202
    assert post_call(client, call_body(capped, client, first,
                                       phone=visitor_number(2))).status_code == 429
    assert post_call(client, call_body(capped, client, second,
                                       phone=visitor_number(3))).status_code == 202


# -- Retry-After -------------------------------------------------------------------------

@pytest.mark.parametrize("scope", ["ip", "number", "widget", "account"])
def test_a_daily_cap_says_to_retry_at_utc_midnight(capped, client, widget, scope):
    capped.config["CAP_PER_NUMBER_PER_MINUTE"] = 1000
    if scope == "account":
        edit(capped, Account, widget.account_id, daily_call_cap=1)
    else:
        edit(capped, Widget, widget.id, **{f"cap_per_{scope}": 1})
    first, second = (call_body(capped, client, widget) for _ in range(2))
    if scope in ("ip", "widget", "account"):
        second["phone"] = visitor_number(1)
    assert post_call(client, first).status_code == 202
    latest = seconds_to_utc_midnight()
    response = post_call(client, second)
    earliest = seconds_to_utc_midnight()
    assert response.status_code == 429
    assert response.get_json()["error"] == f"cap_{scope}"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 86400
    # Never before midnight, and not a second later than it.
    assert earliest <= retry_after <= math.ceil(latest)


def test_the_per_minute_flood_guard_says_to_retry_within_a_minute(capped, client, widget):
    first, second = (call_body(capped, client, widget) for _ in range(2))
    if time.gmtime().tm_sec >= 58:  # both requests must fall in one minute
        time.sleep(3)
    assert post_call(client, first).status_code == 202
    latest = seconds_to_next_utc_minute()
    response = post_call(client, second)
    earliest = seconds_to_next_utc_minute()
    assert response.status_code == 429
    assert response.get_json()["error"] == "cap_number_min"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert earliest <= retry_after <= math.ceil(latest)


# -- two layers: the installation's ceilings over each widget's own caps -------------------

def widgets_of_two_tenants(app, **fields) -> tuple[Widget, Widget]:
    """A widget each for two unrelated tenants, with the same own caps ``fields``."""
    with app.app_context():
        made = []
        for name in ("first-shop", "second-shop"):
            owner = Account(name=name, kind="client")
            db.session.add(owner)
            db.session.flush()
            made.append(create_widget(account=owner, domains=["shop.example"], **fields))
        for widget in made:
            db.session.expunge(widget)
        return made[0], made[1]


def post_from(client, body, address: str):
    return post_call(client, body, environ_base={"REMOTE_ADDR": address})


def test_two_widgets_of_two_tenants_behind_one_address_each_get_their_own_per_visitor_cap(
        app, client):
    app.config.update(CEILING_PER_IP=100)
    first, second = widgets_of_two_tenants(app, cap_per_ip=2)
    office = "198.51.100.7"
    for n, widget in enumerate([first, first, second, second]):
        response = post_from(client, call_body(app, client, widget, phone=visitor_number(n)),
                             office)
        assert response.status_code == 202, response.get_json()
    for widget in (first, second):
        refused = post_from(client, call_body(app, client, widget, phone=visitor_number(9)),
                            office)
        assert refused.status_code == 429 and refused.get_json()["error"] == "cap_ip"
    # Another address on the same widgets is counted apart.
    assert post_from(client, call_body(app, client, first, phone=visitor_number(8)),
                     "203.0.113.9").status_code == 202
    assert call_rows(app) == 5


def test_the_installation_ceiling_per_address_holds_across_every_tenants_widgets(app, client):
    app.config.update(CEILING_PER_IP=3)
    first, second = widgets_of_two_tenants(app, cap_per_ip=2)
    office = "198.51.100.7"
    for n, widget in enumerate([first, first, second]):
        assert post_from(client, call_body(app, client, widget, phone=visitor_number(n)),
                         office).status_code == 202
    latest = seconds_to_utc_midnight()
    refused = post_from(client, call_body(app, client, second, phone=visitor_number(3)),
                        office)
    assert refused.status_code == 429
    assert refused.get_json() == {
        "error": "cap_ceiling_ip",
        "message": "You have requested as many calls as we allow in a day."}
    assert 1 <= int(refused.headers["Retry-After"]) <= math.ceil(latest)
    assert call_rows(app) == 3
    ceiling = [n for (scope, key, _), n in counters(app).items()
               if (scope, key) == ("ceiling-ip", office)]
    assert ceiling == [3]


def test_the_installation_ceiling_per_number_holds_across_every_tenants_widgets(app, client):
    app.config.update(CEILING_PER_NUMBER=3, CAP_PER_NUMBER_PER_MINUTE=1000)
    first, second = widgets_of_two_tenants(app, cap_per_number=2)
    number = visitor_number(1)
    # Each widget counts the number on its own: the first refuses its third call ...
    for widget in (first, first):
        assert post_call(client, call_body(app, client, widget, phone=number)).status_code == 202
    refused = post_call(client, call_body(app, client, first, phone=number))
    assert refused.status_code == 429 and refused.get_json()["error"] == "cap_number"
    # ... the second still takes one, then the installation's ceiling says no.
    assert post_call(client, call_body(app, client, second, phone=number)).status_code == 202
    refused = post_call(client, call_body(app, client, second, phone=number))
    assert refused.status_code == 429
    assert refused.get_json() == {
        "error": "cap_ceiling_number",
        "message": "This number has had as many call-backs as we allow today."}
    assert call_rows(app) == 3


def _cap(key: str, limit: int = 3) -> Cap:
    return Cap("widget", key, "2026-12-01", limit, 60, "This site has taken all it can today.")


@pytest.mark.databases("sqlite")
def test_a_cap_the_write_found_full_is_remembered_and_refused_without_a_read(app):
    caps = [_cap("room"), _cap("full")]
    with app.app_context():
        with pytest.raises(Refusal) as refused:
            refuse_unless_counted(caps, {("widget", "room", "2026-12-01")})
        remembered = known_full().first_full([_cap("other"), *caps])

    assert refused.value.code == "cap_widget" and refused.value.status == 429
    assert remembered == _cap("full")
    # Known by its limit too: the same counter under a raised cap is read again.
    with app.app_context():
        assert known_full().first_full([_cap("full", limit=4)]) is None


@pytest.mark.databases("sqlite")
def test_known_full_caps_are_shared_by_threads_without_errors():
    """Request threads ask while others add, and entries expire under them (even
    asking the cache its length expires entries); switching threads as often as
    the interpreter can, so an unguarded access shows within a second or two."""
    known = KnownFull(ttl_seconds=0.05)
    caps = [_cap(f"key-{i}") for i in range(50)]
    added = iter(range(10**9))
    errors: list[BaseException] = []
    until = time.monotonic() + 2

    def guarded(work) -> None:
        while time.monotonic() < until and not errors:
            try:
                work()
            except Exception as error:  # any error is the finding
                errors.append(error)

    def add() -> None:  # one cap every half millisecond, each expiring in turn
        known.add(caps[next(added) % len(caps)])
        time.sleep(0.0005)

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=guarded, args=(lambda: known.first_full(caps),))
                   for _ in range(6)] + [threading.Thread(target=guarded, args=(add,))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)

    assert errors == []
