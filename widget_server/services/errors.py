"""The one error the services raise; each interface turns it into its own answer."""

from __future__ import annotations

from collections.abc import Mapping

KINDS = ("invalid", "conflict", "forbidden", "not_found", "limited")


class ServiceError(Exception):
    """An operation refused, with a sentence for the person who asked and the field at fault.

    ``kind`` says what happens next: ``invalid`` (fix the field), ``conflict``
    (it exists already), ``forbidden`` (not with this role), ``not_found`` or
    ``limited`` (a cap is reached: try later). The command line shows the
    message, the API answers problem+json (422/409/403/404/429), the admin
    puts it next to ``field``. Several invalid fields of one save come together
    as an ``ExceptionGroup`` of these (``invalid_fields``), so every interface
    shows them all at once.

    A sentence with values is written with ``%(name)s`` placeholders and
    ``params`` (never an f-string): ``message`` is the English sentence the API
    and the command line show, and the admin translates ``template`` (its
    catalogue holds it) and fills in ``params``.
    """

    def __init__(self, message: str, field: str | None = None, kind: str = "invalid",
                 params: Mapping[str, object] | None = None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        self.template = message
        self.params = dict(params or {})
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        self.field = field
        self.kind = kind


def refusals(error: ServiceError | ExceptionGroup) -> list[ServiceError]:
    """The refusals ``error`` holds; a group holding anything else is a fault: re-raised."""
    errors = list(error.exceptions) if isinstance(error, ExceptionGroup) else [error]
    refused = [each for each in errors if isinstance(each, ServiceError)]
    if len(refused) < len(errors):
        raise error
    return refused


def invalid_fields(errors: dict[str, str]) -> ExceptionGroup[ServiceError]:
    """Each field at fault with its sentence, as one group to raise."""
    return ExceptionGroup("Some fields are not valid.",
                          [ServiceError(message, name or None) for name, message in errors.items()])
