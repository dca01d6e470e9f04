"""A loopback SMTP server (aiosmtpd) that keeps what arrived, for the mail tests.

``FakeSmtpServer(...).start()`` listens on 127.0.0.1: plain with STARTTLS
offered when given ``tls`` (a server ``ssl.SSLContext``), or TLS from the
first byte with ``implicit_tls``. With ``login`` it asks for that user name
and password. ``refuse_next(n)`` answers the next ``n`` mails
``451`` (try again later), as a busy server does, or another answer given.
"""

from __future__ import annotations

import email
import email.policy
import ssl
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import free_port


class FakeSmtpServer:
    def __init__(self, *, tls: ssl.SSLContext | None = None, implicit_tls: bool = False,
                 login: tuple[str, str] | None = None):
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refusals_left, self.refusal = 0, ""
        self.started = False
        self.port = free_port()
        self.login = login
        options = {}
        if login:
            # A client that logs in is checked; a STARTTLS server also refuses one that does
            # not (aiosmtpd counts an implicit TLS connection as no TLS for this).
            starttls = tls is not None and not implicit_tls
            options.update(authenticator=self._authenticate, auth_required=starttls,
                           auth_require_tls=starttls)
        if tls is not None and implicit_tls:
            options["ssl_context"] = tls
        elif tls is not None:
            options.update(tls_context=tls, require_starttls=True)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=5, **options)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and self.login is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self.login)
        return AuthResult(success=ok)

    async def handle_DATA(self, server, session, envelope):
        if self.refusals_left:
            self.refusals_left -= 1
            return self.refusal
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"

    def refuse_next(self, count: int, answer: str = "451 4.3.0 Try again later") -> None:
        self.refusals_left, self.refusal = count, answer

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FakeSmtpServer:
        self.controller.start()
        self.started = True
        return self

    def stop(self) -> None:
        if self.started:
            self.controller.stop()
            self.started = False
