"""The one error the services raise; each interface turns it into its own answer."""

from __future__ import annotations


class ServiceError(Exception):
    """An operation refused, with a sentence for the person who asked and the field at fault.

    ``kind`` says what happens next: ``invalid`` (fix the field), ``conflict``
    (it exists already), ``forbidden`` (not with this role) or ``not_found``.
    The command line shows the message, the API answers problem+json
    (422/409/403/404), the admin puts it next to ``field``.
    """

    def __init__(self, message: str, field: str | None = None, kind: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.kind = kind
