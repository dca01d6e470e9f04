"""Response headers for the pages people sign in to and for the management API.

Neither the admin nor the API is ever meant to be framed: both refuse with
``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'`` (clickjacking).
The admin's policy allows its own scripts, styles and images only (no inline
script or style: the templates use none). Referrers stay on this origin (a
reset link's token is in its path; Flask-WTF's HTTPS CSRF check needs the
same-origin Referer). HSTS is sent outside development. The embed frame sets
its own headers and is left alone.
"""

from __future__ import annotations

from flask import Flask, current_app, request

ADMIN_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
             "base-uri 'none'; object-src 'none'")
# JSON only: nothing in it may load, run or frame anything.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=31536000"


def _policy_for(path: str) -> tuple[str, str] | None:
    """(CSP, Referrer-Policy) for admin and API addresses, None elsewhere."""
    if path == "/admin" or path.startswith(("/admin/", "/static/")):
        return ADMIN_CSP, "same-origin"
    if path.startswith("/api/"):
        return API_CSP, "no-referrer"
    return None


def init_app(app: Flask) -> None:
    @app.after_request
    def protective_headers(response):
        # By path, not blueprint: error pages for unmatched addresses have none.
        policy = _policy_for(request.path)
        if policy is None:
            return response
        csp, referrer_policy = policy
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", referrer_policy)
        if not current_app.config["DEVELOPMENT"]:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
