"""Isolation matrix: another tenant's objects are 404 to read and to change, for every key."""

from __future__ import annotations

import pytest

from tests.api.conftest import make_provider, make_widget
from tests.factories import call_body, post_call
from widget_server.extensions import db
from widget_server.models import CallRequest

pytestmark = pytest.mark.databases("sqlite", "postgresql")  # the SQL differs there

# (owner of the object, key that must not reach it)
OUTSIDERS = [
    ("client-a", "client-b"),         # a client key, a sibling's object
    ("other-client", "reseller"),     # a reseller key, another reseller's client
    ("reseller", "client-a"),         # a client key, its parent's object
    ("other-reseller", "reseller"),   # a reseller key, a sibling reseller
]


def _objects(app, client, api, tenants, owner: str) -> dict:
    widget = make_widget(api, owner, domains=["shop.example"])
    provider = make_provider(api, owner)
    domain = widget["domains"][0]
    with app.app_context():
        from widget_server.models import Widget
        row = db.session.query(Widget).filter_by(public_id=widget["id"]).one()
        db.session.expunge(row)
    response = post_call(client, call_body(app, client, row))
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        call_id = db.session.query(CallRequest.public_id).filter_by(widget_id=row.id).scalar()
    blocked = api("POST", f"/clients/{tenants.ids[owner]}/blocked_numbers", key=owner,
                  json={"number": "+12025550188"})
    assert blocked.status_code == 201, blocked.get_json()
    return {"client": tenants.ids[owner], "widget": widget["id"], "domain": domain["id"],
            "provider": provider["id"], "call": call_id, "blocked": blocked.get_json()["id"]}


def _attempts(o: dict):
    yield "GET", f"/clients/{o['client']}", None
    yield "PATCH", f"/clients/{o['client']}", {"daily_call_cap": 1}
    yield "GET", f"/clients/{o['client']}/blocked_numbers", None
    yield "POST", f"/clients/{o['client']}/blocked_numbers", {"number": "+12025550199"}
    yield "DELETE", f"/clients/{o['client']}/blocked_numbers/{o['blocked']}", None
    yield "GET", f"/widgets/{o['widget']}", None
    yield "PATCH", f"/widgets/{o['widget']}", {"paused": True}
    yield "DELETE", f"/widgets/{o['widget']}", None
    yield "POST", f"/widgets/{o['widget']}/rotate_token", None
    yield "GET", f"/widgets/{o['widget']}/domains", None
    yield "POST", f"/widgets/{o['widget']}/domains", {"pattern": "evil.example"}
    yield "DELETE", f"/widgets/{o['widget']}/domains/{o['domain']}", None
    yield "GET", f"/provider_accounts/{o['provider']}", None
    yield "PATCH", f"/provider_accounts/{o['provider']}", {"name": "mine"}
    yield "GET", f"/calls/{o['call']}", None


@pytest.mark.parametrize(("owner", "outsider"), OUTSIDERS)
def test_another_tenants_objects_are_not_found_and_stay_unchanged(app, client, api, tenants,
                                                                   owner, outsider):
    objects = _objects(app, client, api, tenants, owner)
    before = {path: api("GET", path, key=owner).get_json()
              for method, path, _ in _attempts(objects) if method == "GET"}
    for method, path, body in _attempts(objects):
        response = api(method, path, key=outsider, json=body) if body is not None else api(
            method, path, key=outsider)
        assert response.status_code == 404, (method, path, response.get_json())
        assert response.content_type == "application/problem+json"
    after = {path: api("GET", path, key=owner).get_json() for path in before}
    assert after == before
    for listing in ("/clients", "/widgets", "/provider_accounts", "/calls"):
        items = api("GET", listing, key=outsider).get_json()["items"]
        assert objects["widget"] not in {i.get("id") for i in items}
        assert objects["call"] not in {i.get("id") for i in items}
        if listing == "/provider_accounts":
            assert objects["provider"] not in {i["id"] for i in items}
        if listing == "/clients":
            assert objects["client"] not in {i["id"] for i in items}


def test_a_reseller_key_reaches_its_clients_objects(app, client, api, tenants):
    objects = _objects(app, client, api, tenants, "client-a")
    for method, path, _body in _attempts(objects):
        if method == "GET":
            assert api(method, path, key="reseller").status_code == 200, path


def test_a_client_key_cannot_raise_its_own_caps(api, tenants):
    response = api("PATCH", f"/clients/{tenants.ids['client-a']}", key="client-a",
                   json={"daily_call_cap": 10_000})
    assert response.status_code == 403
    assert api("GET", f"/clients/{tenants.ids['client-a']}",
               key="client-a").get_json()["daily_call_cap"] == 10
