"""Opening hours on the visitor's path: hidden button, call-back slots, calls held until due."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.embed.test_browser import site  # noqa: F401  (fixture)
from tests.factories import PAGE_ORIGIN, call_body, create_account, create_widget, post_call
from widget_server.calls.hours import DAYS
from widget_server.calls.placing import place_call
from widget_server.calls.queue import start_in_process_consumer
from widget_server.extensions import db
from widget_server.models import CallEvent, CallRequest, Widget
from widget_server.security import tokens


def hours_closed_now() -> dict:
    """Open 09:00-17:00 UTC only on the weekday three days from now: closed all of today."""
    return {DAYS[(datetime.now(UTC).weekday() + 3) % 7]: [["09:00", "17:00"]]}


def make_widget(app, **fields):
    with app.app_context():
        made = create_widget(account=create_account(name="acme"), **fields)
        db.session.expunge(made)
        return made


def config_of(client, app, widget) -> dict:
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))
    response = client.get(f"/embed/v1/config/{token}", headers={"Origin": PAGE_ORIGIN})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def frame_slots(client, app, widget) -> list[str]:
    with app.app_context():
        token = tokens.embed_token(db.session.merge(widget))
    html = client.get(f"/embed/v1/frame/{token}?origin={PAGE_ORIGIN}").get_data(as_text=True)
    select_html = re.search(r'<select id="slot" name="callback_at">(.*?)</select>', html,
                            re.DOTALL)
    return re.findall(r'<option value="([^"]+)">', select_html.group(1)) if select_html else []


def stored_calls(app) -> list[CallRequest]:
    with app.app_context():
        calls = list(db.session.scalars(select(CallRequest)))
        db.session.expunge_all()
        return calls


def test_the_loader_is_told_to_draw_nothing_while_a_hidden_widget_is_closed(app, client):
    closed = make_widget(app, opening_hours=hours_closed_now(), outside_hours="hidden")
    assert config_of(client, app, closed)["hidden"] is True


@pytest.mark.parametrize("hours,outside", [({}, "hidden"), (hours_closed_now(), "callback")])
def test_the_button_shows_while_open_or_when_call_backs_are_offered(app, client, hours,
                                                                    outside):
    shown = make_widget(app, opening_hours=hours, outside_hours=outside)
    assert config_of(client, app, shown)["hidden"] is False


def test_a_closed_call_back_widget_offers_only_slots_within_its_hours(app, client):
    hours = hours_closed_now()
    widget = make_widget(app, opening_hours=hours, outside_hours="callback")
    slots = [datetime.fromisoformat(value) for value in frame_slots(client, app, widget)]
    assert len(slots) == 16  # 09:00 to 16:30, every half hour
    day = next(iter(hours))
    assert all(DAYS[slot.weekday()] == day and 9 <= slot.hour < 17 for slot in slots)
    assert all(slot.tzinfo is not None for slot in slots)


def test_an_open_widget_offers_no_slots(app, client):
    widget = make_widget(app, outside_hours="callback")
    assert frame_slots(client, app, widget) == []


@pytest.mark.parametrize("outside", ["hidden", "callback"])
def test_a_call_while_closed_without_a_chosen_time_is_refused_as_closed(app, client, outside):
    widget = make_widget(app, opening_hours=hours_closed_now(), outside_hours=outside)
    response = post_call(client, call_body(app, client, widget))
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "closed" and body["message"].endswith(".")
    assert stored_calls(app) == []


def test_a_hidden_widget_refuses_a_chosen_time_while_closed(app, client):
    hours = hours_closed_now()
    widget = make_widget(app, opening_hours=hours, outside_hours="hidden")
    callback = make_widget_slot(hours)
    response = post_call(client, call_body(app, client, widget, callback_at=callback))
    assert response.status_code == 409 and response.get_json()["error"] == "closed"
    assert stored_calls(app) == []


def make_widget_slot(hours) -> str:
    """The first opening of ``hours`` (UTC) as the frame sends it."""
    day = DAYS.index(next(iter(hours)))
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return (today + timedelta(days=(day - today.weekday()) % 7)).isoformat()


@pytest.mark.parametrize("callback_at", [
    "tomorrow at nine", 20261201, "2026-12-01T09:00:00",  # no offset: ambiguous
    "closed", "past", "too far",
])
def test_a_chosen_time_outside_hours_or_the_week_is_refused_and_spends_nothing(
        app, client, callback_at):
    hours = hours_closed_now()
    widget = make_widget(app, opening_hours=hours, outside_hours="callback")
    first = datetime.fromisoformat(make_widget_slot(hours))
    callback_at = {"closed": (first - timedelta(hours=1)).isoformat(),
                   "past": (first - timedelta(days=7)).isoformat(),
                   "too far": (first + timedelta(days=7)).isoformat()}.get(callback_at,
                                                                        callback_at)
    body = call_body(app, client, widget, callback_at=callback_at)
    response = post_call(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "callback_at_invalid"
    assert response.get_json()["message"].endswith(".")
    assert stored_calls(app) == []
    # Nothing was spent: the same form and captcha go through with a good time.
    response = post_call(client, body | {"callback_at": first.isoformat()})
    assert response.status_code == 202, response.get_json()


def test_a_chosen_slot_is_stored_queued_and_scheduled_for_that_time(app, client):
    widget = make_widget(app, opening_hours=hours_closed_now(), outside_hours="callback")
    slot = frame_slots(client, app, widget)[3]
    response = post_call(client, call_body(app, client, widget, callback_at=slot))
    assert response.status_code == 202, response.get_json()
    due = datetime.fromisoformat(slot).astimezone(UTC).replace(tzinfo=None)
    [call] = stored_calls(app)
    assert (call.status, call.scheduled_for) == ("queued", due)
    # The queue (immediate in tests) holds the task for later instead of running it.
    [task] = app.extensions["huey"].scheduled()
    assert task.args[0] == call.id and task.eta == due
    accepted = response.get_json()
    status = client.get(accepted["status_url"],
                        headers={"X-Call-Token": accepted["call_token"]}).get_json()
    assert status["status"] == "queued" and "time you chose" in status["message"]


def test_the_worker_never_dials_before_the_chosen_time(app, client):
    widget = make_widget(app, opening_hours=hours_closed_now(), outside_hours="callback")
    slot = frame_slots(client, app, widget)[0]
    post_call(client, call_body(app, client, widget, callback_at=slot))
    due = datetime.fromisoformat(slot).astimezone(UTC).replace(tzinfo=None)
    [call] = stored_calls(app)
    with app.app_context():
        assert place_call(call.id, now=due - timedelta(seconds=1)) == "wait"
        assert db.session.get(CallRequest, call.id).status == "queued"
        assert db.session.scalar(select(func.count()).select_from(CallEvent).where(
            CallEvent.call_id == call.id, CallEvent.status == "dialing")) == 0
        assert place_call(call.id, now=due) == "done"
        assert db.session.get(CallRequest, call.id).status == "completed"


def test_a_real_consumer_places_a_scheduled_call_at_its_time_not_before(make_app):
    app = make_app(QUEUE_IMMEDIATE=False)
    client = app.test_client()
    widget = make_widget(app, outside_hours="callback")  # always open: any time will do
    due = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    consumer = start_in_process_consumer(app)
    try:
        response = post_call(client, call_body(app, client, widget,
                                                callback_at=due.isoformat()))
        assert response.status_code == 202, response.get_json()
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() - 0.5))
        assert stored_calls(app)[0].status == "queued"
        deadline = time.monotonic() + 10
        while stored_calls(app)[0].status != "completed" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        consumer.stop(graceful=False)
    with app.app_context():
        dialled = db.session.scalar(select(func.min(CallEvent.at)).where(
            CallEvent.status == "dialing"))
    assert stored_calls(app)[0].status == "completed"
    assert dialled >= due.replace(tzinfo=None)


def _set_hours(live_site, **fields):
    with live_site["app"].app_context():
        widget = db.session.get(Widget, live_site["widget_id"])
        for name, value in fields.items():
            setattr(widget, name, value)
        db.session.commit()


@pytest.mark.browser
def test_in_a_browser_a_closed_hidden_widget_draws_no_button(page, site):  # noqa: F811
    _set_hours(site, opening_hours=hours_closed_now(), outside_hours="hidden")
    with page.expect_response("**/embed/v1/config/**") as config:
        page.goto(site["host_url"])
    assert config.value.json()["hidden"] is True
    page.wait_for_load_state("networkidle")
    assert page.locator("widget-server-button").count() == 0


@pytest.mark.browser
def test_in_a_browser_a_visitor_books_a_call_back_while_closed(page, site):  # noqa: F811
    _set_hours(site, opening_hours=hours_closed_now(), outside_hours="callback")
    page.goto(site["host_url"])
    page.get_by_role("button", name="Call me back").click()
    frame = page.frame_locator("iframe[title='Call me back']")
    expect(frame.get_by_text("Verified")).to_be_visible()
    expect(frame.get_by_text("We are closed right now")).to_be_visible()
    when = frame.get_by_label("When should we call you?")
    chosen = when.locator("option").nth(2).get_attribute("value")
    when.select_option(chosen)
    frame.get_by_label("Your phone number").fill("+1 202 555 0177")
    frame.get_by_label("I agree to be called back").check()
    frame.get_by_role("button", name="Call me back").click()
    expect(frame.locator("#progress").get_by_role("status")).to_contain_text("time you chose")
    with site["app"].app_context():
        call = db.session.scalar(select(CallRequest).where(
            CallRequest.visitor_number == "+12025550177"))
        assert call.status == "queued"
        assert call.scheduled_for == datetime.fromisoformat(chosen).astimezone(UTC).replace(
            tzinfo=None)
