"""What the config answer needs of a widget, kept a few seconds per process.

Every page view of every embedding site asks for its widget's config; the
answer changes only when the site owner edits the widget. A snapshot holds
what the answer reads (button, display rules, allowed domains, whether the
widget hides outside its hours now), or the refusal a paused, revoked or
removed widget gets, keyed on the token text: a hit skips the signature check
too, since that same text was checked when the snapshot was taken. So a page
view costs the database one read per widget and ``CONFIG_CACHE_SECONDS`` per
process, whatever the traffic; a forged token fails at its signature, before
any lookup. An edit reaches visitors within that many seconds, plus the 60 s
a browser or shared cache may keep the answer. 0 turns the snapshots off.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from cachetools import TTLCache
from flask import Flask, current_app, g
from werkzeug.http import parse_accept_header
from werkzeug.wsgi import get_current_url

from widget_server import metrics
from widget_server.abuse.refusals import note_widget
from widget_server.calls.hours import is_open
from widget_server.calls.service import allowed_domains, widget_for_token
from widget_server.embed.assets import preferred_coding
from widget_server.errors import Refusal
from widget_server.i18n import AUTO_LANGUAGE, use_widget_language
from widget_server.models import utcnow
from widget_server.security.origins import embedding_origin

# A config answer may be kept by a browser, a CDN or a caching proxy this long.
CONFIG_CACHE_CONTROL = "public, max-age=60"
# At most this many widgets' snapshots per process (a few hundred bytes each).
MAX_SNAPSHOTS = 20_000


@dataclass(frozen=True)
class WidgetSnapshot:
    widget_id: int
    language: str
    domains: tuple[str, ...]
    button_label: str
    button_colour: str
    button_position: str
    hidden: bool
    show_on_paths: tuple[str, ...]
    hide_on_paths: tuple[str, ...]
    show_after_seconds: int
    show_after_scroll: int
    # The config answers made from this snapshot, by (host URL, page origin, language),
    # each in every content coding: translated, serialised and compressed once.
    answers: dict[tuple[str, str, str], dict[str, bytes]] = field(default_factory=dict)
    # The same answers by (host URL, page origin) alone, for a widget whose language is
    # its own (not the visitor's): what ConfigServer answers before Flask.
    by_page: dict[tuple[str, str], dict[str, bytes]] = field(default_factory=dict)


# Distinct answers kept per snapshot: a widget on a few sites in a few languages.
MAX_ANSWERS = 64


@dataclass(frozen=True)
class RefusalSnapshot:
    # The widget a refusal is counted against (abuse/refusals.py), when the token named one.
    widget_id: int | None
    language: str | None
    code: str
    template: str
    status: int
    params: dict


def _take(token: str) -> WidgetSnapshot | RefusalSnapshot:
    try:
        widget = widget_for_token(token, "domains")
    except Refusal as refusal:
        # A known widget's refusal (paused, ...) is told in its language, as on a miss.
        return RefusalSnapshot(widget_id=g.get("refusal_widget_id"),
                               language=g.pop("widget_language", None), code=refusal.code,
                               template=refusal.template, status=refusal.status,
                               params=refusal.params)
    return WidgetSnapshot(
        widget_id=widget.id,
        language=widget.language,
        domains=tuple(allowed_domains(widget)),
        button_label=widget.button_label,
        button_colour=widget.button_colour,
        button_position=widget.button_position,
        hidden=widget.outside_hours == "hidden" and not is_open(widget, utcnow()),
        show_on_paths=tuple(widget.show_on_paths or ()),
        hide_on_paths=tuple(widget.hide_on_paths or ()),
        show_after_seconds=widget.show_after_seconds or 0,
        show_after_scroll=widget.show_after_scroll or 0,
    )


class Snapshots:
    """One app's snapshots, shared by its threads."""

    def __init__(self, seconds: float):
        self.cache: TTLCache | None = (TTLCache(MAX_SNAPSHOTS, seconds) if seconds > 0
                                       else None)
        self.lock = threading.Lock()

    def peek(self, token: str) -> WidgetSnapshot | RefusalSnapshot | None:
        """The snapshot kept for ``token``, if there is one: never a database read."""
        if self.cache is None:
            return None
        with self.lock:
            return self.cache.get(token)

    def get(self, token: str) -> WidgetSnapshot | RefusalSnapshot:
        if self.cache is None:
            return _take(token)
        with self.lock:
            found = self.cache.get(token)
        if found is None:
            found = _take(token)
            with self.lock:
                self.cache[token] = found
        return found


def widget_snapshot(token: str) -> WidgetSnapshot:
    """The snapshot of the widget ``token`` names, in its language; or its refusal."""
    snapshots = current_app.extensions.get("config_snapshots")
    if snapshots is None:
        snapshots = current_app.extensions["config_snapshots"] = Snapshots(
            current_app.config["CONFIG_CACHE_SECONDS"])
    found = snapshots.get(token)
    if found.widget_id is not None:
        note_widget(found.widget_id)
    if isinstance(found, RefusalSnapshot):
        if found.language:
            use_widget_language(found.language)
        raise Refusal(found.code, found.template, status=found.status, params=found.params)
    use_widget_language(found.language)
    return found


def config_headers(origin: str, coding: str, language: str) -> list[tuple[str, str]]:
    """The headers of a config answer for the page ``origin``, in content coding
    ``coding``, of a widget in ``language``: the view's and ConfigServer's alike."""
    headers = [("Access-Control-Allow-Origin", origin),
               # A widget set to auto answers in the visitor's browser language.
               ("Vary", "Origin, Accept-Language, Accept-Encoding"
                if language == AUTO_LANGUAGE else "Origin, Accept-Encoding"),
               ("Cache-Control", CONFIG_CACHE_CONTROL)]
    if coding != "identity":
        headers.append(("Content-Encoding", coding))
    return headers


CONFIG_PATH = "/embed/v1/config/"


class ConfigServer:
    """WSGI middleware answering a widget's config before Flask, when Flask made that answer.

    Every page view asks for its widget's config, and with the snapshot kept the
    answer is bytes already made; Flask's request context and hooks cost more
    than the answer (benchmarks/README.md). This answers a GET only when the
    snapshot is kept, the widget speaks its own language (not the visitor's),
    the asking page is on its whitelist, read as Flask reads it
    (``embedding_origin``), and Flask has answered that page on this host from
    the same snapshot; anything else (a first view, a refusal, a page not
    allowed) goes to Flask. It sits inside ProxyFix, so the host is the one
    Flask sees.
    """

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        answer = (self._answer(environ, path.removeprefix(CONFIG_PATH))
                  if environ.get("REQUEST_METHOD") == "GET" and path.startswith(CONFIG_PATH)
                  else None)
        if answer is None:
            return self.wsgi_app(environ, start_response)
        metrics.REQUESTS.labels("embed.widget_config", "GET", "200").inc()
        start_response("200 OK", answer[0])
        return [answer[1]]

    def _answer(self, environ, token: str) -> tuple[list[tuple[str, str]], bytes] | None:
        snapshots = self.app.extensions.get("config_snapshots")
        found = snapshots.peek(token) if snapshots is not None else None
        if not isinstance(found, WidgetSnapshot) or found.language == AUTO_LANGUAGE:
            return None
        origin = embedding_origin(
            found.domains, origin=environ.get("HTTP_ORIGIN"),
            origin_argument=parse_qs(environ.get("QUERY_STRING", "")).get("origin", [None])[0],
            referrer=environ.get("HTTP_REFERER"), allow_http=self.app.config["DEVELOPMENT"])
        bodies = found.by_page.get((get_current_url(environ, host_only=True), origin or ""))
        if origin is None or bodies is None:
            return None
        coding = preferred_coding(parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING")))
        return [("Content-Type", "application/json"),
                ("Content-Length", str(len(bodies[coding]))),
                *config_headers(origin, coding, found.language)], bodies[coding]
