"""Errors in the admin are pages for people; elsewhere they stay JSON for programs."""

from __future__ import annotations

from tests.factories import (
    NORTH_SOUTH,
    create_tree,
    signed_in,
)


def test_admin_errors_are_html_pages_with_a_way_back(app):
    create_tree(app, **NORTH_SOUTH)
    client = signed_in(app, "read-only@north-a.example")
    for path, status, heading in [("/admin/no-such-page", 404, "Not found"),
                                  ("/admin/accounts/999999/allowance", 404, "Not found"),
                                  ("/admin/users/new", 403, "You cannot do this")]:
        response = client.get(path)
        assert response.status_code == status, path
        assert response.mimetype == "text/html"
        body = response.get_data(as_text=True)
        assert f"<h1>{heading}</h1>" in body and 'href="/admin/"' in body


def test_errors_outside_the_admin_stay_json(app):
    response = app.test_client().get("/embed/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_out_of_range_report_and_list_parameters_are_400_pages_with_a_sentence(app):
    ids = create_tree(app, **NORTH_SOUTH).ids
    client = signed_in(app, "owner@operator.example")
    for path in ("/admin/reports/calls?date_to=9999-12-31",
                 "/admin/reports/calls.csv?date_to=9999-12-31",
                 "/admin/reports/calls?date_from=0001-01-01"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "Use a date from 2000-01-01 to 2999-12-31." in response.get_data(as_text=True)
    for path in ("/admin/reports/calls?page=" + "9" * 20, "/admin/reports/calls?page=0",
                 f"/admin/accounts/{ids['north']}/blocked-numbers?page=-3"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "The page number must be a whole number from 1 to 100000." in (
            response.get_data(as_text=True))
    assert client.get("/admin/accounts/" + "9" * 20 + "/allowance").status_code == 404
