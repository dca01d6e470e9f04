"""Every state-changing admin route refuses a request without a CSRF token, and changes nothing.

The routes are read from the application's URL map, so an admin page added
later is covered without touching this test; nothing is exempt.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import (
    NORTH_SOUTH,
    create_tree,
    csrf_token,
    signed_in,
)
from widget_server.extensions import db
from widget_server.models import ApiKey

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_REFUSAL = "The form had expired or did not come from this site"


def unsafe_admin_requests(app) -> list[tuple[str, str]]:
    """(method, url) for every unsafe method of every /admin rule, ids filled with 2."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        values = {name: 2 if converter == "int" else "x"
                  for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule)}
        with app.test_request_context():
            url = app.url_for(rule.endpoint, **values)
        found += [(method, url) for method in sorted(rule.methods & UNSAFE)]
    return found


def snapshot(app) -> dict[str, list]:
    """Every row of every table."""
    with app.app_context():
        return {table.name: sorted(map(tuple, db.session.execute(select(table))), key=repr)
                for table in db.metadata.sorted_tables}


def test_every_state_changing_admin_route_refuses_a_request_without_a_csrf_token(app):
    create_tree(app, **NORTH_SOUTH)
    client = signed_in(app, "owner@operator.example")
    csrf_token(client)  # the session holds a token; the request just does not send it
    requests = unsafe_admin_requests(app)
    assert ("POST", "/admin/api-keys") in requests and ("POST", "/admin/sign-out") in requests
    before = snapshot(app)
    accepted = []
    for method, url in requests:
        response = client.open(url, method=method, data={
            "name": "changed", "email": "new@example.com", "password": "a long password",
            "confirm": "a long password", "account_id": "2", "parent_id": "2", "role": "owner",
            "kind": "client", "daily_call_cap": "1", "monthly_call_cap": "1"})
        body = response.get_data(as_text=True)
        if response.status_code != 400 or CSRF_REFUSAL not in body:
            accepted.append((method, url, response.status_code))
    assert accepted == []
    assert snapshot(app) == before
    assert client.get("/admin/").status_code == 200  # still signed in: sign-out was refused too


def test_the_same_request_with_its_token_goes_through(app):
    """The control: the refusal above is the missing token, not the request."""
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@operator.example")
    response = client.post("/admin/api-keys", data={
        "csrf_token": csrf_token(client), "account_id": ids["north"], "name": "crm"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(ApiKey.name)) == "crm"
