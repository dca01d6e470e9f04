"""The answers every page view asks for: cheap, and keepable by a CDN or a caching proxy."""

from __future__ import annotations

import gzip
import json

import brotli
from sqlalchemy import event, select

from tests.factories import PAGE_ORIGIN
from tests.ops.conftest import metric_value
from widget_server.extensions import db
from widget_server.models import RefusalCount, Widget
from widget_server.security import tokens

CACHE_DEFEATING = ("Set-Cookie", "X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After")


def _token(app, widget_id: int, **changes) -> str:
    with app.app_context():
        row = db.session.get(Widget, widget_id)
        for name, value in changes.items():
            setattr(row, name, value)
        db.session.commit()
        return tokens.embed_token(row)


def _reads(app) -> list[str]:
    """The SELECTs ``app`` sends from now on (a refusal's count is a write)."""
    seen: list[str] = []

    def note(conn, cursor, statement, *rest):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
    return seen


def test_the_loader_is_one_file_in_every_encoding_with_one_strong_etag(client):
    answers = {coding: client.get("/embed/v1/loader.js", headers={"Accept-Encoding": coding})
               for coding in ("br", "gzip", "identity")}

    bodies = {"br": brotli.decompress(answers["br"].data),
              "gzip": gzip.decompress(answers["gzip"].data), "identity": answers["identity"].data}
    assert answers["br"].headers["Content-Encoding"] == "br"
    assert answers["gzip"].headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in answers["identity"].headers
    assert len(set(bodies.values())) == 1 and bodies["identity"].startswith(b"/*! widget-server")
    etags = {answer.headers["ETag"] for answer in answers.values()}
    assert len(etags) == 1 and not etags.pop().startswith("W/")
    for answer in answers.values():
        assert answer.headers["Cache-Control"].startswith("public, max-age=86400")
        assert answer.headers["Vary"] == "Accept-Encoding"
        assert not any(name in answer.headers for name in CACHE_DEFEATING)


def test_a_loader_the_browser_has_is_answered_304_without_a_body(client):
    first = client.get("/embed/v1/loader.js", headers={"Accept-Encoding": "gzip"})
    again = client.get("/embed/v1/loader.js", headers={
        "Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
    stale = client.get("/embed/v1/loader.js", headers={"If-None-Match": '"0123"'})

    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert stale.status_code == 200 and stale.data


def test_the_config_is_public_for_a_minute_and_varies_only_on_what_changes_it(
        app, client, widget):
    fixed = client.get(f"/embed/v1/config/{_token(app, widget.id, language='de')}",
                       headers={"Origin": PAGE_ORIGIN})
    auto = client.get(f"/embed/v1/config/{_token(app, widget.id, language='auto')}",
                      headers={"Origin": PAGE_ORIGIN, "Accept-Language": "fr"})

    assert fixed.status_code == auto.status_code == 200
    assert fixed.headers["Cache-Control"] == auto.headers["Cache-Control"] == "public, max-age=60"
    assert fixed.headers["Vary"] == "Origin, Accept-Encoding"
    assert auto.headers["Vary"] == "Origin, Accept-Language, Accept-Encoding"
    assert auto.get_json()["label"] != fixed.get_json()["label"]
    for answer in (fixed, auto):
        assert not any(name in answer.headers for name in CACHE_DEFEATING)


def test_a_page_view_reads_the_database_once_per_widget_while_its_snapshot_lasts(
        make_app, widget):
    app = make_app(CONFIG_CACHE_SECONDS=60)
    client = app.test_client()
    token = _token(app, widget.id)
    statements = _reads(app)

    first = client.get(f"/embed/v1/config/{token}", headers={"Origin": PAGE_ORIGIN})
    read_once = len(statements)
    others = [client.get(f"/embed/v1/config/{token}", headers={"Origin": origin})
              for origin in (PAGE_ORIGIN, PAGE_ORIGIN, "https://elsewhere.example")]

    assert first.status_code == 200 and read_once >= 1
    assert [answer.status_code for answer in others] == [200, 200, 403]
    assert others[2].get_json()["error"] == "origin_not_allowed"
    assert len(statements) == read_once


def test_an_edit_reaches_the_config_once_the_snapshot_expires(make_app, widget):
    cached = make_app(CONFIG_CACHE_SECONDS=60)
    fresh = make_app(CONFIG_CACHE_SECONDS=0)
    token = _token(cached, widget.id)
    url, origin = f"/embed/v1/config/{token}", {"Origin": PAGE_ORIGIN}

    before = cached.test_client().get(url, headers=origin)
    _token(cached, widget.id, paused=True)
    kept = cached.test_client().get(url, headers=origin)
    seen = fresh.test_client().get(url, headers=origin)

    assert before.status_code == kept.status_code == 200
    assert seen.status_code == 403 and seen.get_json()["error"] == "widget_paused"


def test_a_paused_widgets_kept_refusal_is_told_in_its_language(make_app, widget):
    app = make_app(CONFIG_CACHE_SECONDS=60)
    client = app.test_client()
    token = _token(app, widget.id, paused=True, language="de")

    answers = [client.get(f"/embed/v1/config/{token}",
                          headers={"Origin": PAGE_ORIGIN, "Accept-Language": "fr"})
               for _ in range(2)]

    assert [answer.status_code for answer in answers] == [403, 403]
    assert answers[0].get_json() == answers[1].get_json()
    assert answers[0].get_json()["message"] == "Rückrufe sind auf dieser Website pausiert."


def test_a_forged_token_is_refused_before_any_database_read(make_app):
    app = make_app(CONFIG_CACHE_SECONDS=60)
    statements = _reads(app)

    answer = app.test_client().get("/embed/v1/config/forged.token.text",
                                   headers={"Origin": PAGE_ORIGIN})

    assert answer.status_code in (403, 404) and answer.get_json()["error"]
    assert statements == []


def test_the_config_reads_the_same_in_every_encoding_and_language_it_is_asked_in(
        make_app, widget):
    app = make_app(CONFIG_CACHE_SECONDS=60)
    client = app.test_client()
    token = _token(app, widget.id, language="auto")
    url = f"/embed/v1/config/{token}"

    def config(coding: str, language: str) -> dict:
        answer = client.get(url, headers={"Origin": PAGE_ORIGIN, "Accept-Encoding": coding,
                                          "Accept-Language": language})
        body = {"br": brotli.decompress, "gzip": gzip.decompress}.get(
            coding, lambda data: data)(answer.data)
        return json.loads(body)

    english = [config(coding, "en") for coding in ("br", "gzip", "identity")]
    german = [config(coding, "de") for coding in ("identity", "gzip", "br")]

    assert english[0] == english[1] == english[2] and english[0]["label"] == "Call me back"
    assert german[0] == german[1] == german[2] and german[0]["label"] != "Call me back"


def test_refusals_answered_from_a_snapshot_are_counted_for_the_site_owner(make_app, widget):
    app = make_app(CONFIG_CACHE_SECONDS=60)
    client = app.test_client()
    token = _token(app, widget.id)

    answers = [client.get(f"/embed/v1/config/{token}",
                          headers={"Origin": "https://elsewhere.example"}) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    with app.app_context():
        counted = db.session.scalars(select(RefusalCount.count).where(
            RefusalCount.widget_id == widget.id, RefusalCount.reason == "origin")).all()
    assert counted == [3]


def test_a_config_flask_has_made_is_answered_the_same_from_memory_and_counted(
        make_app, widget):
    """The second view of a page is answered before Flask (no request id), byte for byte
    and header for header as the first; a page not on the whitelist still goes to Flask
    and is refused."""
    app = make_app(CONFIG_CACHE_SECONDS=60)
    client = app.test_client()
    path = f"/embed/v1/config/{_token(app, widget.id, language='en')}"
    headers = {"Origin": PAGE_ORIGIN, "Accept-Encoding": "br"}
    by_argument = {"query_string": {"origin": PAGE_ORIGIN},
                   "headers": {"Accept-Encoding": "gzip"}}
    before = client.get("/metrics").text

    first, second = client.get(path, headers=headers), client.get(path, headers=headers)
    first_argued, second_argued = client.get(path, **by_argument), client.get(path, **by_argument)
    elsewhere = client.get(path, headers={"Origin": "https://elsewhere.example"})
    after = client.get("/metrics").text

    assert "X-Request-ID" in first.headers and "X-Request-ID" not in second.headers
    assert second.status_code == 200 and second.data == first.data
    assert dict(second.headers) == {
        name: value for name, value in first.headers.items() if name != "X-Request-ID"}
    assert "X-Request-ID" not in second_argued.headers
    assert second_argued.data == first_argued.data
    assert second_argued.headers["Content-Encoding"] == "gzip"
    assert elsewhere.status_code == 403 and "X-Request-ID" in elsewhere.headers
    answered = [metric_value(text, "widget_server_http_requests_total",
                             endpoint="embed.widget_config", status="200")
                for text in (before, after)]
    assert answered[1] - answered[0] == 4


def test_a_widget_in_the_visitors_language_is_always_answered_by_flask(make_app, widget):
    app = make_app(CONFIG_CACHE_SECONDS=60)
    client = app.test_client()
    path = f"/embed/v1/config/{_token(app, widget.id, language='auto')}"

    answers = [client.get(path, headers={"Origin": PAGE_ORIGIN, "Accept-Language": language})
               for language in ("de", "de", "fr")]

    assert all("X-Request-ID" in answer.headers for answer in answers)
    assert answers[0].data == answers[1].data != answers[2].data  # German, then French
