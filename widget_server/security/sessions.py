"""Cookie sessions for the people who sign in, and none on the public paths.

Flask-Login reads the session after every request, which makes Flask add
``Vary: Cookie`` to every answer: a shared cache (a CDN, nginx) then keeps one
copy of the loader and of each widget's config per visitor cookie jar, that
is none. The visitor's path (``embed``) and the provider callbacks (``hooks``)
carry their own proofs and must set no cookie anyway, so their answers are
never given a session cookie or a ``Vary: Cookie``, whatever read the session.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

PUBLIC_BLUEPRINTS = frozenset({"embed", "hooks"})


class SignedInOnlySessionInterface(SecureCookieSessionInterface):
    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.blueprint in PUBLIC_BLUEPRINTS:
            return
        super().save_session(app, session, response)
