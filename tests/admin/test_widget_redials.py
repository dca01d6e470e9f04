"""A widget's redials in the admin: set on its page, within their ranges."""

from __future__ import annotations

import pytest

from tests.factories import admin_post, create_account, create_user, create_widget, signed_in
from widget_server.extensions import db
from widget_server.models import Widget


@pytest.fixture
def page(app):
    with app.app_context():
        acme = create_account(name="acme")
        create_user(account=acme)
        return f"/admin/widgets/{create_widget(account=acme).id}"


def save(client, page: str, **redials):
    form = {"name": "Shop", "button_label": "Ring me", "button_colour": "#aa3300",
            "button_position": "bottom-right", "language": "en", "consent_text": "Call me.",
            "business_numbers": "+12025550100", "home_country": "US", "time_zone": "UTC",
            "outside_hours": "callback", "provider_account_id": "0"} | redials
    return admin_post(client, page, **form)


def stored(app, page: str) -> tuple[int, int]:
    with app.app_context():
        widget = db.session.get(Widget, int(page.rsplit("/", 1)[1]))
        return widget.redial_attempts, widget.redial_interval_minutes


def test_redials_are_set_on_the_widgets_page(app, page):
    owner = signed_in(app, "owner@acme.example")
    assert 'name="redial_attempts"' in owner.get(page).get_data(as_text=True)
    assert stored(app, page) == (0, 10)
    response = save(owner, page, redial_attempts="2", redial_interval_minutes="20")
    assert response.status_code == 302
    assert stored(app, page) == (2, 20)
    assert save(owner, page).status_code == 302  # left out: unchanged
    assert stored(app, page) == (2, 20)


def test_more_than_five_redials_are_refused_next_to_the_field(app, page):
    owner = signed_in(app, "owner@acme.example")
    response = save(owner, page, redial_attempts="6")
    assert response.status_code == 422
    assert "Number must be between 0 and 5." in response.get_data(as_text=True)
    assert stored(app, page) == (0, 10)
