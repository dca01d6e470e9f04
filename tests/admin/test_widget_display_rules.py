"""The admin's widget form sets where and when the floating button shows."""

from __future__ import annotations

from tests.factories import admin_post, create_account, create_user, create_widget, signed_in
from widget_server.extensions import db
from widget_server.models import Widget

FORM = {"name": "Shop", "button_label": "Call me back", "button_colour": "#0b6e4f",
        "button_position": "bottom-right", "language": "en", "consent_text": "Call me once.",
        "business_numbers": "+12025550100", "home_country": "US", "allowed_countries": "",
        "time_zone": "UTC", "outside_hours": "hidden", "provider_account_id": "0",
        **{f"hours_{day}": "" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


def _owner_and_widget(app):
    with app.app_context():
        account = create_account(name="acme")
        return create_user(account=account).id, create_widget(account=account).id


def test_display_rules_are_saved_from_the_form_and_shown_again(app):
    user_id, widget_id = _owner_and_widget(app)
    client = signed_in(app, user_id)
    response = admin_post(client, f"/admin/widgets/{widget_id}", **FORM | {
        "show_on_paths": "/shop/*\r\n\r\n/contact\r\n", "hide_on_paths": "/shop/checkout",
        "show_after_seconds": "8", "show_after_scroll": "30"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert (widget.show_on_paths, widget.hide_on_paths) == (["/shop/*", "/contact"],
                                                                ["/shop/checkout"])
        assert (widget.show_after_seconds, widget.show_after_scroll) == (8, 30)
    page = client.get(f"/admin/widgets/{widget_id}").get_data(as_text=True)
    assert "/shop/*\n/contact</textarea>" in page


def test_a_path_without_its_leading_slash_is_explained_and_nothing_is_stored(app):
    user_id, widget_id = _owner_and_widget(app)
    client = signed_in(app, user_id)
    for field, value, sentence in (("show_on_paths", "shop", "Each path starts with /"),
                                   ("show_after_scroll", "150",
                                    "Number must be between 0 and 100.")):
        response = admin_post(client, f"/admin/widgets/{widget_id}", **FORM | {field: value})
        assert response.status_code == 422
        assert sentence in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Widget, widget_id).show_on_paths == []
