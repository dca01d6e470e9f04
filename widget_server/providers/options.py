"""The credentials and options an adapter declares, once: type, range or choices, unit, help.

Each adapter lists its ``credential_fields`` and ``option_fields`` as
``Field`` values. That one declaration drives the command line (``provider
kinds``, ``provider add --option``), the admin forms, the API's JSON Schema
(``options_schema``) and the check on save (``parse_values``), which reports
every bad value at once. Values are stored parsed, and reach the adapter
parsed: an ``int`` option is an ``int``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# Option values a JSON body or a form may carry.
Value = str | int | float | bool


@dataclass(frozen=True)
class Field:
    """One credential or option. ``label`` names it in forms; ``help`` says the rest."""

    name: str
    label: str
    help: str = ""
    # str, int, float or bool: the type the value is stored and handed over as.
    type: type = str
    required: bool = True
    # Credentials only: shown as a password input, never echoed.
    secret: bool = False
    # Texts: the accepted spellings (matched in any case), the first the default.
    choices: tuple[str, ...] = ()
    # Numbers: the inclusive range, and what they count ("seconds").
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    # Texts: at most this long, and matching ``pattern`` (described by ``help``).
    max_length: int = 500
    pattern: str = ""
    # What an empty value means, for the help text and the schema.
    default: Value | None = None

    def describe(self) -> str:
        """The help sentence forms and ``provider kinds`` show: kind, range, default."""
        parts = [self.help] if self.help else []
        if self.choices:
            parts.append("one of " + ", ".join(self.choices))
        elif self.type in (int, float):
            parts.append(_range_words(self))
        elif self.type is bool:
            parts.append("true or false")
        if self.default is not None:
            parts.append(f"default {self.default}")
        return "; ".join(parts)

    def parse(self, raw: object) -> Value | None:
        """``raw`` as this field's type, None when empty; ``ValueError`` saying what is wrong."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if self.type is bool:
            return _boolean(raw, self.name)
        if self.type in (int, float):
            return self._number(raw)
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise ValueError(f"{self.name} must be text.")
        text = str(raw).strip()
        if self.choices:
            for choice in self.choices:
                if text.lower() == choice.lower():
                    return choice
            raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}; "
                             f"{text[:40]!r} is not.")
        if len(text) > self.max_length or any(ord(c) < 32 for c in text):
            raise ValueError(f"{self.name} must be at most {self.max_length} characters of "
                             "printable text.")
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise ValueError(f"{self.name} must be {self.help}; {text[:40]!r} is not.")
        return text

    def _number(self, raw: object) -> int | float:
        wrong = ValueError(f"{self.name} must be {_range_words(self)}; {str(raw)[:40]!r} is not.")
        if isinstance(raw, bool):
            raise wrong
        try:
            value = self.type(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            raise wrong from None
        if self.type is int and isinstance(raw, float) and raw != value:
            raise wrong
        if value != value or (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum):
            raise wrong
        return value

    def schema(self) -> dict:
        """This field as JSON Schema (2020-12, as OpenAPI 3.1 takes it)."""
        described = {"title": self.label, "description": self.describe()}
        if self.type is bool:
            return {**described, "type": "boolean"}
        if self.type in (int, float):
            schema: dict[str, Any] = {**described,
                                      "type": "integer" if self.type is int else "number"}
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
            if self.unit:
                schema["x-unit"] = self.unit
            return schema
        if self.choices:
            return {**described, "type": "string", "enum": list(self.choices)}
        schema = {**described, "type": "string", "maxLength": self.max_length}
        if self.pattern:
            schema["pattern"] = f"^(?:{self.pattern})$"
        if self.secret:
            schema["writeOnly"] = True
        return schema


@dataclass(frozen=True)
class CustomFields:
    """Free-named options an adapter passes on as they are (Voicenter's ``var_*``)."""

    prefix: str
    max_count: int
    label: str
    name_pattern: str
    value: Field

    def owns(self, name: str) -> bool:
        return name.startswith(self.prefix)


def parse_values(fields: tuple[Field, ...], values: dict, *, what: str = "option",
                 custom: CustomFields | None = None, partial: bool = False
                 ) -> tuple[dict, dict[str, str]]:
    """(the values parsed, empty ones left out; each bad one's name -> a sentence).

    Every problem is reported, not the first: unknown names, missing required
    values (unless ``partial``: a widget's own options lie over its provider
    account's), and values of the wrong type, range or form.
    """
    known = {spec.name: spec for spec in fields}
    parsed: dict = {}
    errors: dict[str, str] = {}
    for name, raw in values.items():
        spec = known.get(name)
        if spec is None and custom is not None and custom.owns(name):
            if not re.fullmatch(custom.name_pattern, name):
                errors[name] = (f"{name} is not a valid custom field name: use "
                                f"{custom.prefix} followed by letters, digits or underscores.")
                continue
            spec = Field(name, name, custom.value.help, max_length=custom.value.max_length)
        if spec is None:
            errors[name] = (f"{name} is not a {what} of this provider; it takes "
                            f"{', '.join(known) or 'none'}.")
            continue
        try:
            value = spec.parse(raw)
        except ValueError as error:
            errors[name] = str(error)
            continue
        if value is not None:
            parsed[name] = value
    if not partial:
        for spec in fields:
            if spec.required and spec.name not in parsed and spec.name not in errors:
                errors[spec.name] = f"{spec.name} is required: {spec.label}."
    if custom is not None:
        count = sum(1 for name in parsed if custom.owns(name))
        if count > custom.max_count:
            errors.setdefault(custom.prefix, f"At most {custom.max_count} {custom.prefix}* "
                              f"custom fields are taken; {count} are set.")
    return parsed, errors


def values_schema(fields: tuple[Field, ...], custom: CustomFields | None = None) -> dict:
    """The JSON Schema of an object of these fields."""
    schema: dict = {
        "type": "object",
        "properties": {spec.name: spec.schema() for spec in fields},
        "additionalProperties": False,
    }
    required = [spec.name for spec in fields if spec.required]
    if required:
        schema["required"] = required
    if custom is not None:
        schema["patternProperties"] = {f"^(?:{custom.name_pattern})$": custom.value.schema()}
        schema["maxProperties"] = len(fields) + custom.max_count
    return schema


def _range_words(spec: Field) -> str:
    noun = "a whole number" if spec.type is int else "a number"
    unit = f" of {spec.unit}" if spec.unit else ""
    if spec.minimum is not None and spec.maximum is not None:
        return f"{noun}{unit} from {_plain(spec.minimum)} to {_plain(spec.maximum)}"
    if spec.minimum is not None:
        return f"{noun}{unit} of at least {_plain(spec.minimum)}"
    return f"{noun}{unit}"


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _boolean(raw: object, name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false; {str(raw)[:40]!r} is not.")
