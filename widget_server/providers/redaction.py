"""Credentials out of what we keep of a provider exchange: by name, and long values by value.

Where text has structure (a URL's query, form fields, JSON keys, headers) a
credential is found by its name and the whole value is replaced, so a PIN
of ``p`` garbles nothing and a short PIN leaves no masked digits to read it
from. In free text (a provider's error sentence, a path) only values of at
least ``MIN_FREE_TEXT`` characters are replaced: a shorter one would match
ordinary text and its masking would tell what it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import overload
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"
MIN_FREE_TEXT = 8
# Names that carry a credential whichever provider sends them.
CREDENTIAL_NAMES = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api_key",
    "apikey", "api-key", "password", "passwd", "pin", "secret", "token", "access_token",
})


class Redactor:
    """Redacts the credentials of one adapter: every credential field, secret or not."""

    def __init__(self, names: Iterable[str], values: Iterable[str]):
        self.names = CREDENTIAL_NAMES | {name.lower() for name in names}
        forms = {form for value in values if len(value) >= MIN_FREE_TEXT
                 for form in (value, quote(value, safe=""), quote_plus(value))}
        self.forms = sorted(forms, key=len, reverse=True)

    def text(self, text: str) -> str:
        """Free text: long credential values replaced wherever they appear."""
        for form in self.forms:
            text = text.replace(form, REDACTED)
        return text

    @overload
    def value(self, value: dict) -> dict: ...
    @overload
    def value(self, value: object) -> object: ...
    def value(self, value: object) -> object:
        """A decoded structure (JSON, form, headers): credential names hide their values."""
        if isinstance(value, dict):
            return {key: REDACTED if str(key).lower() in self.names else self.value(item)
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return self.text(value) if isinstance(value, str) else value

    def url(self, url: str) -> str:
        """A URL: query parameters by name, the rest as free text."""
        parts = urlsplit(url)
        query = urlencode([(k, REDACTED if k.lower() in self.names else self.text(v))
                           for k, v in parse_qsl(parts.query, keep_blank_values=True)],
                          safe="[]")
        return urlunsplit(parts._replace(path=self.text(parts.path), query=query,
                                         netloc=self.text(parts.netloc)))

    def answer(self, text: str) -> str:
        """A provider's answer: JSON by key where it parses, else free text."""
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                decoded = json.loads(stripped)
            except ValueError:
                pass
            else:
                return json.dumps(self.value(decoded), ensure_ascii=False)
        return self.text(text)
