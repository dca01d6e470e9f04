"""Cookie sessions for the people who sign in, and none on the public paths.

The visitor's path (``embed``) and the provider callbacks (``hooks``) carry
their own proofs and must set no cookie. They get Flask's null session: it
reads as empty, refuses writes, is never saved, and never adds ``Vary:
Cookie`` (which Flask-Login's read of the session after every request would
otherwise add, so that no shared cache - a CDN, nginx - could keep the loader
or a widget's config). It also spares each page view the cookie's decoding.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

# Where the embed and hooks blueprints answer: the session opens before routing.
PUBLIC_PATHS = ("/embed/", "/hooks/")


class SignedInOnlySessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(PUBLIC_PATHS):
            return self.make_null_session(app)
        return super().open_session(app, request)
