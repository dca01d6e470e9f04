"""The write that admits a call request is all or nothing, on either database.

These drive ``admit`` itself, which commits or rolls back on its own. In a
request, the standing read refuses a spent form or a full cap before it gets
here, so only a request racing another meets these refusals, and they must
leave nothing behind.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from widget_server.abuse.caps import Cap
from widget_server.calls.admission import admit
from widget_server.errors import Refusal
from widget_server.extensions import db
from widget_server.models import CallEvent, CallRequest, UsageCounter, UsedToken
from widget_server.security.single_use import SingleUse

pytestmark = pytest.mark.databases("sqlite", "postgresql")


def _use(kind: str, token_id: str) -> SingleUse:
    return SingleUse(kind, token_id, 600, Refusal(f"{kind}_used", f"That {kind} was used."))


def _cap(scope: str, limit: int) -> Cap:
    return Cap(scope, f"key-{scope}", "2026-12-01", limit, 60, f"{scope} is full.")


def _call(widget) -> dict:
    return {"widget_id": widget.id, "account_id": widget.account_id,
            "visitor_number": "+12025550143", "visitor_country": "US",
            "client_ip": "203.0.113.7", "page_origin": "https://shop.example",
            "page_url": "https://shop.example/prices", "campaign": {"utm_source": "news"},
            "provider_kind": "simulator", "status": "queued", "reason": None,
            "request_id": "req-1", "scheduled_for": None, "business_number": "+12025550100"}


EVENT = {"source": "test"}


def _stored() -> dict:
    return {
        "calls": db.session.execute(select(CallRequest.public_id, CallRequest.visitor_number,
                                           CallRequest.campaign, CallRequest.attempt)).all(),
        "events": db.session.execute(select(CallEvent.call_id, CallEvent.status,
                                            CallEvent.detail)).all(),
        "used": set(db.session.execute(select(UsedToken.kind, UsedToken.token_id)).all()),
        "counted": {(scope, count) for scope, count in db.session.execute(
            select(UsageCounter.scope, UsageCounter.count)).all()},
    }


def test_an_admission_stores_the_call_and_its_event_spends_the_ids_and_counts_each_cap(
        app, widget):
    with app.app_context():
        call_id, public_id = admit([_use("nonce", "n1"), _use("altcha", "s1")],
                                   [_cap("ip", 5), _cap("widget", 5)], _call(widget), EVENT)

        stored = _stored()
    assert stored["calls"] == [(public_id, "+12025550143", {"utm_source": "news"}, 1)]
    assert stored["events"] == [(call_id, "queued", {"source": "test"})]
    assert stored["used"] == {("nonce", "n1"), ("altcha", "s1")}
    assert stored["counted"] == {("ip", 1), ("widget", 1)}


def test_an_id_already_spent_refuses_with_its_own_refusal_and_leaves_nothing(app, widget):
    with app.app_context():
        admit([_use("nonce", "n1"), _use("altcha", "s1")], [_cap("ip", 5)], _call(widget),
              EVENT)
        before = _stored()

        with pytest.raises(Refusal) as refused:
            admit([_use("nonce", "n2"), _use("altcha", "s1")], [_cap("ip", 5)],
                  _call(widget), EVENT)

        assert refused.value.code == "altcha_used"
        assert _stored() == before


def test_a_full_cap_refuses_naming_itself_and_spends_no_id_and_no_earlier_cap(app, widget):
    with app.app_context():
        admit([_use("nonce", "n1")], [_cap("ip", 5), _cap("widget", 1)], _call(widget), EVENT)
        before = _stored()

        with pytest.raises(Refusal) as refused:
            admit([_use("nonce", "n2")], [_cap("ip", 5), _cap("widget", 1)], _call(widget),
                  EVENT)

        assert (refused.value.code, refused.value.status) == ("cap_widget", 429)
        assert _stored() == before


@pytest.mark.parametrize(("caps", "refusal"), [
    ([_cap("ip", 5), _cap("account", 0)], "cap_account"),
    ([_cap("widget", 0), _cap("ip", 5)], "cap_widget"),  # no cap left to count at all
])
def test_a_cap_of_nought_refuses_before_anything_is_counted(app, widget, caps, refusal):
    with app.app_context():
        with pytest.raises(Refusal) as refused:
            admit([_use("nonce", "n1")], caps, _call(widget), EVENT)

        assert refused.value.code == refusal
        assert _stored() == {"calls": [], "events": [], "used": set(), "counted": set()}


def test_a_call_for_later_keeps_its_time_and_its_event_says_so(app, widget):
    later = datetime(2026, 12, 2, 9, 30)
    with app.app_context():
        call_id, _ = admit([_use("nonce", "n1")], [_cap("ip", 5)],
                           _call(widget) | {"scheduled_for": later, "reason": "scheduled"},
                           {"scheduled_for": "2026-12-02T09:30:00Z"})

        call = db.session.get(CallRequest, call_id)
        assert (call.scheduled_for, call.reason) == (later, "scheduled")
        assert [(event.status, event.reason, event.detail, event.at) for event in call.events] \
            == [("queued", "scheduled", {"scheduled_for": "2026-12-02T09:30:00Z"},
                 call.created_at)]
