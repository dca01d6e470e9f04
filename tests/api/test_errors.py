"""Errors under /api/v1 are problem documents (RFC 9457); the visitor's path keeps its own."""

from __future__ import annotations

from widget_server.extensions import db
from widget_server.models import ApiKey
from widget_server.security.api_keys import revoke

PROBLEM = "application/problem+json"


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.content_type == PROBLEM
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    return body


def test_a_request_without_a_key_is_refused_with_a_bearer_challenge(api):
    response = api("GET", "/widgets", key=None)
    _is_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_key_and_a_revoked_key_are_refused(app, api, tenants):
    forged = tenants.keys["reseller"][:-4] + "AAAA"
    _is_problem(api("GET", "/widgets", key=None,
                    headers={"Authorization": f"Bearer {forged}"}), 401)
    with app.app_context():
        revoke(db.session.query(ApiKey).filter_by(account_id=tenants.ids["reseller"]).one())
        db.session.commit()
    response = api("GET", "/widgets")
    _is_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_an_unknown_address_under_the_api_is_a_problem_404(api):
    _is_problem(api("GET", "/no/such/thing"), 404)
    _is_problem(api("GET", "/clients/99999"), 404)


def test_a_wrong_method_is_a_problem_405(api):
    _is_problem(api("PUT", "/widgets"), 405)


def test_bad_json_is_400_and_another_content_type_is_415(api):
    _is_problem(api("POST", "/widgets", data="{not json", content_type="application/json"), 400)
    _is_problem(api("POST", "/widgets", data="name=x",
                    content_type="application/x-www-form-urlencoded"), 415)


def test_invalid_fields_are_422_with_a_sentence_per_field(api):
    body = _is_problem(api("POST", "/widgets", json={
        "business_numbers": ["not a number"], "button_colour": "red", "colour": "#fff",
        "name": "x" * 500, "cap_per_ip": 2**40}), 422)
    assert set(body["errors"]) == {"business_numbers", "button_colour", "colour", "name",
                                   "cap_per_ip"}
    assert api("GET", "/widgets").get_json()["total"] == 0


def test_bad_filters_are_422(api):
    body = _is_problem(api("GET", "/calls?status=lost&since=yesterday&per_page=1000"), 422)
    assert set(body["errors"]) == {"status", "since", "per_page"}


def test_an_unknown_query_parameter_is_422_naming_it_not_ignored(api):
    """A misspelt filter must not answer the unfiltered list as if it applied."""
    body = _is_problem(api("GET", "/calls?stauts=failed"), 422)
    assert body["errors"] == {"stauts": "This field is not known."}
    _is_problem(api("GET", "/reports/usage?from=2025-01-01"), 422)


def test_the_visitor_path_keeps_its_error_and_message_shape(client):
    response = client.get("/embed/v1/no-such-thing")
    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "message"}


def test_a_burst_over_the_api_limit_is_a_problem_429_with_retry_after(app, api):
    app.config["LIMIT_API"] = "3/minute"
    answers = [api("GET", "/widgets") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    _is_problem(answers[3], 429)
    assert int(answers[3].headers["Retry-After"]) > 0


def test_out_of_range_filters_are_422_problems_naming_the_field(api):
    for path, field in (("/calls?until=9999-12-31", "until"), ("/calls?since=0001-01-01", "since"),
                        ("/reports/usage?since=0001-01-01T00:00:00%2B01:00", "since"),
                        ("/reports/usage?since=9999-12-31T23:59:59-01:00", "since"),
                        ("/calls?page=" + "9" * 20, "page")):
        body = _is_problem(api("GET", path), 422)
        assert body["errors"][field].startswith("Use a"), path
    body = _is_problem(api("GET", "/calls?until=9999-12-31"), 422)
    assert body["errors"]["until"] == "Use a date from 2000-01-01 to 2999-12-31."


def test_a_deeply_nested_body_is_a_400_problem(api):
    for body in ("[" * 8000 + "]" * 8000, '{"name":' + "[" * 40 + "]" * 40 + "}"):
        problem = _is_problem(api("POST", "/widgets", data=body,
                                  content_type="application/json"), 400)
        assert "nested more than 32 levels" in problem["detail"]
