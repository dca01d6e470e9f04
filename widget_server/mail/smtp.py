"""Sending one mail over SMTP, as the ``SMTP_URL`` setting says, without leaking its password.

``smtp://user:pass@host:port`` upgrades to TLS with STARTTLS when the server
offers it; ``smtps://`` speaks TLS from the first byte. Certificates are
checked against the system's CAs, or ``SMTP_CA_FILE``. Errors come back as
``MailError`` whose sentence carries the server's code and words with the
URL's password masked, fit for the delivery log.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str
    host: str
    port: int
    user: str
    password: str

    def describe(self) -> str:
        """Where mail goes, for the admin: no user name, no password."""
        return f"{self.scheme}://{self.host}:{self.port}"


class MailError(Exception):
    """A mail not taken; ``permanent`` when sending it again cannot help (a 5xx answer)."""

    def __init__(self, sentence: str, *, permanent: bool = False):
        super().__init__(sentence)
        self.permanent = permanent


def smtp_target(url: str) -> SmtpTarget | None:
    """The server ``url`` names, None for an empty one; ValueError, without the URL, if bad."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("WIDGET_SERVER_SMTP_URL must read smtp://user:pass@host:port or "
                         "smtps://user:pass@host:port.")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError("WIDGET_SERVER_SMTP_URL has a port that is not a number.") from None
    return SmtpTarget(parts.scheme, parts.hostname, port, unquote(parts.username or ""),
                      unquote(parts.password or ""))


def _masked(text: str, target: SmtpTarget) -> str:
    """``text`` without the password; one of under 4 characters would garble every word."""
    if len(target.password) >= 4:
        text = text.replace(target.password, "[redacted]")
    return text[:480]


def send(message: EmailMessage, target: SmtpTarget, *, timeout: float, ca_file: str = "",
         local_hostname: str | None = None) -> None:
    """Hand ``message`` to the server, or raise ``MailError``."""
    context = ssl.create_default_context(cafile=ca_file or None)
    try:
        client: smtplib.SMTP
        if target.scheme == "smtps":
            client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout,
                                      context=context, local_hostname=local_hostname)
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=timeout,
                                  local_hostname=local_hostname)
        with client:
            client.ehlo()
            if target.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if target.user:
                client.login(target.user, target.password)
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, words = next(iter(error.recipients.values()))
        raise MailError(_masked(f"{code} {_text(words)}", target),
                        permanent=500 <= code < 600) from None
    except smtplib.SMTPResponseException as error:
        raise MailError(_masked(f"{error.smtp_code} {_text(error.smtp_error)}", target),
                        permanent=500 <= error.smtp_code < 600) from None
    except ssl.SSLError as error:
        raise MailError(_masked(f"TLS failed: {error.reason or error}", target)) from None
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(_masked(f"{type(error).__name__}: {error}", target)) from None


def _text(words: bytes | str) -> str:
    return words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
