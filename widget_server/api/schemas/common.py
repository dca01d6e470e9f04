"""Field types and base models shared by every resource of the API.

A type carries its bounds (so they reach the document) and, where the
generic sentence would be unclear, the sentence a caller gets when a value
does not fit (``says``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    WrapValidator,
)
from pydantic_core import CoreSchema, PydanticCustomError

from widget_server.reports import DAY_RANGE, FIRST_DAY, LAST_DAY, day_problem

INT_MAX = 2**31 - 1
PER_PAGE_DEFAULT, PER_PAGE_MAX, PAGE_MAX = 25, 100, 100_000
PUBLIC_ID_PATTERN = "^[A-Za-z0-9_-]{1,32}$"


def says(sentence: str) -> WrapValidator:
    """Answer any failure of the type it follows with ``sentence``, the caller's fix."""

    def check(value, handler):
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("invalid", sentence) from None

    return WrapValidator(check)


def _printable(value: str) -> str:
    if not all(ch.isprintable() or ch in "\n\t" for ch in value):
        raise PydanticCustomError("printable", "Use printable characters only.")
    return value


class _Spelled:
    """Annotated metadata standing for a type built at run time, which no type checker reads."""

    def __init__(self, type_: Any) -> None:
        self.type_ = type_

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        return handler.generate_schema(self.type_)


def Text(max_length: int) -> _Spelled:
    """Non-blank printable text of at most ``max_length`` characters, stripped.

    Spelled ``Annotated[str, Text(n)]``.
    """
    return _Spelled(Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                     max_length=max_length),
                              AfterValidator(_printable)])


def OptionalText(max_length: int) -> _Spelled:
    """Printable text of at most ``max_length`` characters, stripped; empty for none.

    Spelled ``Annotated[str, OptionalText(n)]``.
    """
    return _Spelled(Annotated[str, StringConstraints(strip_whitespace=True,
                                                     max_length=max_length),
                              AfterValidator(_printable)])


def Choice(values: Iterable[str]) -> _Spelled:
    """One of ``values``, listed in the sentence when another is sent.

    Spelled ``Annotated[str, Choice(values)]``.
    """
    values = tuple(values)
    return _Spelled(Annotated[Literal[values], says("Use one of: " + ", ".join(values) + ".")])


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


Id = Annotated[int, Field(ge=1, le=INT_MAX), says(f"Use a whole number from 1 to {INT_MAX}.")]
Count = Annotated[int, Field(ge=0, le=INT_MAX),
                  says(f"Use a whole number from 0 to {INT_MAX}.")]
Cap = Annotated[Annotated[int, Field(ge=0, le=INT_MAX)] | None,
                says(f"Use a whole number from 0 to {INT_MAX}, or null.")]
PublicId = Annotated[str, StringConstraints(pattern=PUBLIC_ID_PATTERN),
                     says("This value is not valid.")]
Country = Annotated[str, StringConstraints(pattern="^[A-Za-z]{2}$"),
                    says("Use a country code such as US or GB.")]
# Stored times are naive UTC; answered as RFC 3339 with a Z.
Timestamp = Annotated[datetime, AfterValidator(_as_utc)]


def _read_day(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) != 10:
            raise PydanticCustomError("day", "Use a date such as 2025-01-31.")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("day", "Use a date such as 2025-01-31.") from None
    return value


def _in_range(day: date | datetime) -> date | datetime:
    if day_problem(day):
        raise PydanticCustomError("day_range", DAY_RANGE)
    return day


# Report days are bounded (reports.FIRST_DAY..LAST_DAY); the pattern declares the
# years, so generated values stay inside and a value outside is a documented 422.
_DAY_SCHEMA = {"type": "string", "format": "date", "pattern": "^2[0-9]{3}-",
               "description": f"A UTC day from {FIRST_DAY} to {LAST_DAY}."}
Day = Annotated[date, BeforeValidator(_read_day), AfterValidator(_in_range),
                WithJsonSchema(_DAY_SCHEMA)]


def _read_moment(value: Any) -> Any:
    """A date (midnight UTC) or an ISO 8601 date-time, kept naive in UTC."""
    if not isinstance(value, str):
        return value
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time())
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    except ValueError:
        raise PydanticCustomError(
            "moment", "Use a date (2025-01-31) or a date-time (2025-01-31T09:00:00Z).") from None
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        return datetime.min


Moment = Annotated[datetime, BeforeValidator(_read_moment), AfterValidator(_in_range),
                   WithJsonSchema({"type": "string", "format": "date-time",
                                   "pattern": "^2[0-9]{3}-",
                                   "description": f"From {FIRST_DAY} to {LAST_DAY}."})]


# The default of a field a body may leave out: None stands for "not sent", and a null
# sent is still refused, as the field's type does not admit it.
UNSENT: Any = None


class Body(BaseModel):
    """A request body: JSON types as sent (no "5" for 5), no field the API does not know."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """A query string: texts read as their types, no parameter the API does not know."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(Query):
    """Every list pages: ``?page=`` from 1, ``?per_page=`` up to 100."""

    page: Annotated[int, Field(ge=1, le=PAGE_MAX),
                    says(f"Use a whole number from 1 to {PAGE_MAX}.")] = 1
    per_page: Annotated[int, Field(ge=1, le=PER_PAGE_MAX),
                        says(f"Use a whole number from 1 to {PER_PAGE_MAX}.")] = PER_PAGE_DEFAULT


class Answer(BaseModel):
    """An answer, read from the stored row's attributes; the document lists every field."""

    model_config = ConfigDict(from_attributes=True, extra="forbid",
                              json_schema_serialization_defaults_required=True)


class Page(Answer):
    """One page of a list; each resource names its own (``class CallPage(Page)``)."""

    items: list[Any]
    page: Annotated[int, Field(ge=1)]
    per_page: Annotated[int, Field(ge=1, le=PER_PAGE_MAX)]
    total: Count
    next: str | None = Field(description="The next page's address; null on the last.")


class Problem(Answer):
    """An error, RFC 9457: ``errors`` holds a sentence per field on 422."""

    # ``errors`` is left out when there are none.
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)
    type: str
    title: str
    status: Annotated[int, Field(ge=400, le=599)]
    detail: str
    errors: dict[str, str] | None = None
