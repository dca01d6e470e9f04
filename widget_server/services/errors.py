"""The one error a service operation raises: what went wrong, on which field, and of what kind.

The command line turns it into a ``ClickException``, the API into
problem+json (``invalid`` 422, ``conflict`` 409, ``forbidden`` 403,
``not_found`` 404), the admin into the named field's error.
"""

from __future__ import annotations

KINDS = ("invalid", "conflict", "forbidden", "not_found")


class ServiceError(Exception):
    """A refused operation; ``field`` names the input at fault, where one is."""

    def __init__(self, message: str, field: str | None = None, kind: str = "invalid"):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        super().__init__(message)
        self.message = message
        self.field = field
        self.kind = kind

    @property
    def errors(self) -> dict[str, str]:
        """Each field at fault -> its sentence (one here; ``InvalidFields`` holds several)."""
        return {self.field or "": self.message}


class InvalidFields(ServiceError):
    """Several invalid fields, all reported at once rather than one group at a time."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(f"{name}: {message}" if name else message
                                  for name, message in errors.items()),
                         field=next(iter(errors)) or None)
        self._errors = dict(errors)

    @property
    def errors(self) -> dict[str, str]:
        return dict(self._errors)
