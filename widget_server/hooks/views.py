"""Callbacks from providers about a call (called.in reports how a call ended).

The URL carries a signed call token, so a forged URL finds nothing; the
adapter checks the provider's own proof (002's ``secret``); and each call
takes one callback, so a replayed one is refused. A call that has already
ended (a final state, e.g. closed as ``outcome_unknown`` after waiting too
long for its callback) keeps its report: a late callback is refused, 409.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from widget_server.calls.placing import call_for_hook_token, take_callback
from widget_server.calls.queue import enqueue_publish
from widget_server.errors import Refusal
from widget_server.extensions import db, limiter
from widget_server.providers.base import ProviderError
from widget_server.security.single_use import SingleUse

blueprint = Blueprint("hooks", __name__, url_prefix="/hooks")
CALLBACK_TTL = 7 * 24 * 3600


@blueprint.route("/<kind>/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LIMIT_HOOKS"])
def provider_callback(kind: str, token: str):
    call = call_for_hook_token(token)
    if call is None or call.provider_kind != kind:
        raise Refusal("hook_not_found", "There is no such call.", status=404)
    params = {**request.args.to_dict(), **request.form.to_dict()}
    try:
        SingleUse("callback", call.public_id, CALLBACK_TTL,
                  Refusal("hook_replayed", "This call was already reported.",
                          status=409)).consume()
        if not take_callback(call, params):
            raise Refusal("hook_call_ended", "This call has ended; its report stands.",
                          status=409)
    except ProviderError as error:
        db.session.rollback()
        current_app.logger.warning("call %s: callback refused: %s", call.public_id,
                                   error.reason)
        raise Refusal("hook_refused", "This callback was not accepted.", status=403) from None
    except Refusal:
        db.session.rollback()
        raise
    enqueue_publish(call.id)
    return jsonify(status="ok")
