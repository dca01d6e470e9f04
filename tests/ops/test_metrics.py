"""/metrics counts requests, refusals by reason, calls by provider and outcome,
provider latency and queue depth; with METRICS_TOKEN set it is closed to others.

Counters are process-wide, so each test compares readings before and after.
"""

from __future__ import annotations

from tests.factories import call_body, post_call
from tests.fakes.c2c_php import C2CPhpFake
from tests.ops.conftest import metric_value


def scrape(client, **headers) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    return response.text


def test_metrics_count_requests_refusals_and_calls_by_outcome(client, app, widget):
    before = scrape(client)

    accepted = post_call(client, call_body(app, client, widget))
    refused = post_call(client, call_body(app, client, widget, consent=False))
    missing = client.get("/embed/v1/nowhere")
    after = scrape(client)

    assert (accepted.status_code, refused.status_code, missing.status_code) == (202, 400, 404)

    def delta(name, **labels):
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    assert delta("widget_server_http_requests_total", endpoint="embed.create_call",
                 method="POST", status="202") == 1
    assert delta("widget_server_http_requests_total", endpoint="embed.create_call",
                 status="400") == 1
    assert delta("widget_server_refusals_total", reason="consent_missing") == 1
    assert delta("widget_server_refusals_total", reason="not_found") == 1
    assert delta("widget_server_calls_total", provider="simulator", outcome="completed") == 1
    assert "widget_server_queue_depth 0.0" in after


def test_queue_depth_shows_calls_waiting_for_a_worker(make_app, widget):
    app = make_app(QUEUE_IMMEDIATE=False)
    client = app.test_client()

    post_call(client, call_body(app, client, widget))
    post_call(client, call_body(app, client, widget, phone="+12025550124"))

    assert metric_value(scrape(client), "widget_server_queue_depth") == 2


def test_provider_latency_is_observed_per_provider_for_each_exchange(live):
    with C2CPhpFake() as fake:
        token = live.provider_widget(kind="c2c-php", base_url=fake.url,
                                     credentials={"uid": fake.uid, "pin": fake.pin},
                                     options={"holdfile": "17"})
        client = live.app.test_client()
        before = scrape(client)
        shown = live.place_call(token)
        after = scrape(client)
        exchanges = len(fake.server.requests)

    def delta(name, **labels):
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    assert shown["status"] == "completed"
    assert exchanges >= 2
    assert delta("widget_server_provider_latency_seconds_count", provider="c2c-php") == exchanges
    assert delta("widget_server_calls_total", provider="c2c-php", outcome="completed") == 1


def test_metrics_need_the_bearer_token_when_one_is_set(make_app):
    client = make_app(METRICS_TOKEN="s3cret-scrape").test_client()

    anonymous = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})

    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "unauthorized"
    assert wrong.status_code == 401
    assert right.status_code == 200 and "widget_server_http_requests_total" in right.text


def test_the_static_files_answered_before_flask_are_counted_too(client):
    before = scrape(client)

    first = client.get("/embed/v1/loader.js", headers={"Accept-Encoding": "gzip"})
    again = client.get("/embed/v1/loader.js", headers={"If-None-Match": first.headers["ETag"]})
    head = client.head("/embed/v1/frame.css")
    after = scrape(client)

    assert (first.status_code, again.status_code, head.status_code) == (200, 304, 200)
    assert head.data == b"" and int(head.headers["Content-Length"]) > 0

    def delta(**labels):
        return (metric_value(after, "widget_server_http_requests_total", **labels)
                - metric_value(before, "widget_server_http_requests_total", **labels))

    assert delta(endpoint="embed.loader", method="GET", status="200") == 1
    assert delta(endpoint="embed.loader", method="GET", status="304") == 1
    assert delta(endpoint="embed.frame_style", method="HEAD", status="200") == 1
