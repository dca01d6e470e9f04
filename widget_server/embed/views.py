"""Public endpoints of the widget, each behind a burst limit and answering JSON refusals."""

from __future__ import annotations

import json

import phonenumbers
from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from widget_server import metrics
from widget_server.abuse.burst_limit import count_burst
from widget_server.abuse.captcha import AltchaVerifier, captcha_verifier
from widget_server.abuse.client_ip import client_ip_key
from widget_server.abuse.refusals import count_refusal
from widget_server.calls.hours import callback_slots, is_open, slot_label
from widget_server.calls.redial import attempts_of
from widget_server.calls.service import (
    CallRequestForm,
    allowed_domains,
    request_call,
    widget_for_token,
)
from widget_server.calls.status import public_status
from widget_server.colours import text_colour
from widget_server.embed.assets import SERVED, best_coding, encodings
from widget_server.embed.snapshots import (
    MAX_ANSWERS,
    WidgetSnapshot,
    config_headers,
    widget_snapshot,
)
from widget_server.embed.texts import FRAME_TEXTS, LOADER_TEXTS, frame_texts, phone_hint
from widget_server.errors import Refusal, error_response
from widget_server.extensions import db, limiter
from widget_server.i18n import AUTO_LANGUAGE, text_direction, translate, use_widget_language
from widget_server.models import CallRequest, utcnow
from widget_server.security import tokens
from widget_server.security.origins import (
    embedding_origin,
    frame_ancestors,
    origin_allowed,
    origin_of,
)

blueprint = Blueprint("embed", __name__, url_prefix="/embed/v1")


def _limit(key: str):
    return limiter.limit(lambda: current_app.config[key])


# The static files every page view asks for are answered from memory before Flask
# (assets.AssetServer); their URLs are only built here. The config has no burst limit
# either: it is answered from a snapshot (snapshots.py) for less than counting the request
# would cost, and a CDN or caching proxy may answer it anyway. The filter runs before
# Flask-Limiter resolves any limit.
for _path, (_name, _endpoint) in SERVED.items():
    blueprint.add_url_rule(_path.removeprefix("/embed/v1"), _endpoint.removeprefix("embed."),
                           build_only=True)

PAGE_VIEWS = frozenset({"embed.widget_config"})
# Left out of Flask-Limiter's walk: the page views, and the call request, which
# counts its own burst limit.
_NOT_WALKED = PAGE_VIEWS | {"embed.create_call"}


@limiter.request_filter
def _not_walked() -> bool:
    return request.endpoint in _NOT_WALKED


def _embedding_origin(domains) -> str | None:
    """The page asking for the widget, when it is on the whitelist."""
    return embedding_origin(domains, origin=request.headers.get("Origin"),
                            origin_argument=request.args.get("origin"),
                            referrer=request.referrer,
                            allow_http=current_app.config["DEVELOPMENT"])


@blueprint.get("/config/<token>")
def widget_config(token: str):
    """The widget's config, or its refusal readable by the page that asked.

    A refusal carries that page's origin in Access-Control-Allow-Origin (never
    credentials): the loader can then read our sentence and write it to the
    console, where the site owner looks, instead of a bare CORS error. It tells
    that page nothing the widget's snippet on it does not already name.
    """
    try:
        return _config_answer(token)
    except Refusal as refusal:
        count_refusal(refusal.code)
        response = error_response(refusal.code, refusal.template, refusal.status,
                                  refusal.retry_after, params=refusal.params)
        origin = origin_of(request.headers.get("Origin"))
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin, Accept-Language"
        response.headers["Cache-Control"] = "no-store"
        return response


def _config_answer(token: str) -> Response:
    """What the loader draws: the button's text, colour and place, the frame's URL and
    the sentences it shows while the frame loads or when it cannot;
    ``hidden`` outside opening hours when the widget then offers nothing; the floating
    button's display rules, which the loader applies to the page it runs on.

    Answered from a snapshot of the widget (snapshots.py), with no burst limit
    (PAGE_VIEWS); public for a minute, so a CDN or caching proxy may keep it
    (docs/nginx.conf)."""
    widget = widget_snapshot(token)
    origin = _embedding_origin(widget.domains)
    if origin is None:
        raise Refusal("origin_not_allowed", "This widget is not allowed on this site.",
                      status=403)
    key = (request.host_url, origin, str(get_locale()))
    bodies = widget.answers.get(key)
    if bodies is None:
        bodies = encodings(json.dumps(_config(widget, token, origin)).encode())
        if len(widget.answers) < MAX_ANSWERS:
            widget.answers[key] = bodies
            if widget.language != AUTO_LANGUAGE:  # ConfigServer answers it from now on
                widget.by_page[key[:2]] = bodies
    coding = best_coding(request)
    return Response(bodies[coding], mimetype="application/json",
                    headers=config_headers(origin, coding, widget.language))


def _config(widget: WidgetSnapshot, token: str, origin: str) -> dict:
    return dict(
        label=translate(widget.button_label),
        colour=widget.button_colour,
        text_colour=text_colour(widget.button_colour),
        position=widget.button_position,
        language=widget.language,
        dir=text_direction(),
        hidden=widget.hidden,
        frame_url=url_for("embed.frame", token=token, origin=origin, _external=True),
        show_on_paths=widget.show_on_paths,
        hide_on_paths=widget.hide_on_paths,
        show_after_seconds=widget.show_after_seconds,
        show_after_scroll=widget.show_after_scroll,
        **{key: translate(text) for key, text in LOADER_TEXTS.items()},
    )


def _refused_top_level(code: str) -> Response:
    """The page a visitor sees when the frame is opened outside a site: one sentence."""
    metrics.REFUSALS.labels(code).inc()
    count_refusal(code)
    html = render_template("embed/refused.html", code=code, sentence=frame_texts()["not_framed"])
    response = Response(html, status=403, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/frame/<token>")
@_limit("LIMIT_FRAME")
def frame(token: str):
    """The call-back form, for an iframe on a whitelisted page only.

    A browser that sends Fetch Metadata says what loads the frame: anything but an
    iframe (a link or a script on some other site opening it top-level) is refused
    here; frame.js refuses the rest (a top-level load in a browser without the
    header, an ancestor that is not whitelisted).
    """
    widget = widget_for_token(token, "domains")
    if request.headers.get("Sec-Fetch-Dest", "iframe") != "iframe":
        return _refused_top_level("frame_not_embedded")
    entries = allowed_domains(widget)
    page_origin = request.args.get("origin", "")
    if not origin_allowed(page_origin, entries, allow_http=current_app.config["DEVELOPMENT"]):
        raise Refusal("origin_not_allowed", "This widget is not allowed on this site.",
                      status=403)
    html = render_template(
        "embed/frame.html",
        widget=widget,
        t=frame_texts(),
        phone_hint=phone_hint(widget.home_country),
        text_colour=text_colour(widget.button_colour),
        token=token,
        nonce=tokens.form_nonce(widget),
        page_origin=page_origin,
        # frame.js checks every ancestor of the frame against these, as the CSP does.
        whitelist={"schemes": ["https", "http"] if current_app.config["DEVELOPMENT"]
                   else ["https"], "entries": entries},
        # Closed, with call-backs offered: the times the visitor may choose.
        slots=[] if widget.outside_hours != "callback" or is_open(widget, utcnow()) else [
            (slot.isoformat().replace("+00:00", "Z"), slot_label(widget, slot))
            for slot in callback_slots(widget, utcnow())],
        captcha=captcha_verifier().frame_settings(),
        # The country select turns a national number into +<code><number>.
        calling_codes={country: phonenumbers.country_code_for_region(country)
                       for country in widget.countries},
    )
    response = Response(html, mimetype="text/html")
    captcha_origin = "https://*.hcaptcha.com https://challenges.cloudflare.com"
    response.headers["Content-Security-Policy"] = "; ".join([
        frame_ancestors(entries, allow_http=current_app.config["DEVELOPMENT"]),
        "default-src 'self'",
        f"script-src 'self' {captcha_origin}",
        f"frame-src {captcha_origin}",
        f"style-src 'self' 'unsafe-inline' {captcha_origin}",
        f"connect-src 'self' {captcha_origin}",
        "base-uri 'none'",
        "form-action 'self'",
    ])
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/nonce/<token>")
@_limit("LIMIT_FRAME")
def fresh_nonce(token: str):
    """A new form nonce for the frame, which asks for it itself (Sec-Fetch-Site:
    same-origin) when its own is refused or spent, and keeps what the visitor typed."""
    widget = widget_for_token(token)
    if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        raise Refusal("not_same_origin", FRAME_TEXTS["not_framed"], status=403)
    response = jsonify(nonce=tokens.form_nonce(widget))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/captcha/challenge")
@_limit("LIMIT_CHALLENGE")
def altcha_challenge():
    verifier = captcha_verifier()
    if not isinstance(verifier, AltchaVerifier):
        raise Refusal("not_found", "There is nothing at this address.", status=404)
    response = jsonify(verifier.challenge())
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/calls")
def create_call():
    # Counted here, not by a decorator (abuse/burst_limit.py); refused with a 503 when
    # it cannot be counted. No X-RateLimit headers on an answer under the limit: the
    # frame does not read them, and they would cost two more reads of the window
    # from Redis. A 429 keeps them and Retry-After.
    count_burst("LIMIT_CALL_POST")
    if not request.is_json:
        raise Refusal("unsupported_media_type", "Send the request as application/json.",
                      status=415)
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        # json.loads raises this, not ValueError, on deeply nested arrays.
        body = None
    own_origin = request.host_url.rstrip("/")
    request_origin = request.headers.get("Origin") or origin_of(request.referrer)
    call = request_call(CallRequestForm.from_json(body), request_origin=request_origin,
                        own_origin=own_origin, client_ip=client_ip_key(),
                        remote_addr=request.remote_addr or "",
                        request_id=g.get("request_id"))
    response = jsonify(
        call_id=call.public_id,
        status=call.status,
        status_url=url_for("embed.call_status", public_id=call.public_id),
        call_token=tokens.call_token(call),
    )
    response.status_code = 202
    return response


# Built once: the frame polls the status every second or two.
_CALL_WITH_WIDGET = select(CallRequest).where(
    CallRequest.public_id == bindparam("public_id")).options(joinedload(CallRequest.widget))


@blueprint.get("/calls/<public_id>")
@_limit("LIMIT_CALL_STATUS")
def call_status(public_id: str):
    """Status for the frame that placed the call: it alone holds the call token."""
    call = None
    if tokens.call_token_matches(request.headers.get("X-Call-Token"), public_id):
        call = db.session.scalar(_CALL_WITH_WIDGET, {"public_id": public_id})
    if call is None:
        raise Refusal("call_not_found", "There is no such call.", status=404)
    use_widget_language(call.widget.language)
    response = jsonify(public_status(call, attempts_of(call)[-1]))
    response.headers["Cache-Control"] = "no-store"
    return response
