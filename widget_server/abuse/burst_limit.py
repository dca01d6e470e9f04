"""The call request's burst limit, hit on Flask-Limiter's own strategy and storage.

Flask-Limiter's route decorator resolves a route's limits, walks its
exemption scopes and builds its context around every request. On the call
request, the public endpoint an attack floods, that walk cost twice what the
count itself did (issue 15, benchmarks/README.md). Here the same limits are
hit by the same strategy in the same storage under the keys the decorator
used, and a 429 hands Flask-Limiter the breached limit, so its headers and
Retry-After are the decorator's; only the walk is gone. It relies on what
``create_app`` fixes: no key prefix, no application or meta limits, no
in-memory fallback, stopping at the first breach.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from flask import abort, current_app, request
from flask_limiter import RequestLimit
from limits import RateLimitItem, parse_many

from widget_server.abuse.client_ip import client_ip_key
from widget_server.errors import UNAVAILABLE, Refusal
from widget_server.extensions import limiter


@lru_cache(maxsize=16)
def _limits(spec: str) -> tuple[RateLimitItem, ...]:
    """``spec``'s limits, in the order Flask-Limiter checks them: parsing costs more
    than a hit."""
    return tuple(sorted(parse_many(spec)))


def check_limit_settings(config: Mapping[str, object]) -> None:
    """Stop the start on a ``LIMIT_*`` setting that does not parse: Flask-Limiter
    would only log it at each request and leave that endpoint unlimited (the admin's
    sign-in among them), and the call request would answer 500."""
    for name, spec in config.items():
        if name.startswith("LIMIT_") and spec:  # empty: no limit, as Flask-Limiter reads it
            try:
                _limits(str(spec))
            except ValueError as error:
                raise ValueError(f"{name} is not a rate limit such as '10/minute;30/hour': "
                                 f"{error}") from None


def count_burst(setting: str) -> None:
    """Count this request against the limits of config ``setting`` for its client
    address: a 429 past one. The request is refused with a 503 when it could not be
    counted (the limiter's storage is down): a call is placed only when counted."""
    spec = current_app.config[setting]
    if not limiter.enabled or not spec:  # empty: no limit, as Flask-Limiter reads it
        return
    limits = _limits(spec)
    identifiers = [client_ip_key(), str(request.endpoint)]
    try:
        breached = next((item for item in limits
                         if not limiter.limiter.hit(item, *identifiers)), None)
    except Exception:  # any failure, as Flask-Limiter's swallowed errors were
        current_app.logger.exception("limiter storage unreachable: request refused")
        raise Refusal("service_unavailable", UNAVAILABLE, status=503) from None
    if breached is not None:
        current_app.logger.info("burst limit %s reached on %s", breached, identifiers[1])
        limiter.context.view_rate_limit = RequestLimit(
            limiter, breached, identifiers, breached=True, shared=False)
        abort(429)
