"""Widgets and their domain whitelists; each answer carries the embed snippet."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Annotated, Any

import phonenumbers
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from widget_server.abuse.phone import normalise_business_number
from widget_server.api.schemas.common import (
    Answer,
    Body,
    Cap,
    Choice,
    Id,
    Page,
    PageQuery,
    PublicId,
    Text,
    Timestamp,
    says,
)
from widget_server.security.origins import normalise_domain

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POSITIONS = ("bottom-right", "bottom-left")
OUTSIDE_HOURS = ("hidden", "callback")


def _refuse(error: ValueError) -> PydanticCustomError:
    return PydanticCustomError("invalid", str(error))


def _business_number(raw: str) -> str:
    try:
        return normalise_business_number(raw)
    except ValueError as error:
        raise _refuse(error) from None


def _domain(raw: str) -> str:
    try:
        return normalise_domain(raw)
    except ValueError as error:  # DomainError, or a URL that does not parse
        raise _refuse(error) from None


def _region(code: str) -> str:
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise PydanticCustomError("region", f"{code!r} is not a country code such as US or GB.")
    return code


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _time_zone(name: str) -> str:
    if name not in _time_zones():
        raise PydanticCustomError("time_zone", "Use an IANA time zone such as Europe/London.")
    return name


def _ordered(hours: dict) -> dict:
    if not all(start < end for spans in hours.values() for start, end in spans):
        raise PydanticCustomError("hours", "")
    return hours


Region = Annotated[str, StringConstraints(pattern="^[A-Z]{2}$"), AfterValidator(_region)]
Clock = Annotated[str, StringConstraints(pattern="^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Span = Annotated[list[Clock], Field(min_length=2, max_length=2)]
OpeningHours = Annotated[
    dict[Choice(DAYS), Annotated[list[Span], Field(max_length=6)]], AfterValidator(_ordered),
    says('Use {"mon": [["09:00", "17:00"]], ...} with days mon to sun and each opening '
         "before its closing.")]
Options = Annotated[dict[str, str | int | float | bool],
                    says("Use a JSON object of texts, numbers or booleans.")]
Domains = Annotated[list[Annotated[Text(260), AfterValidator(_domain)]], Field(max_length=50)]


class WidgetQuery(PageQuery):
    account_id: Id | None = None
    paused: Choice(("true", "false")) | None = None


class WidgetSettings(Body):
    """Only the fields sent change."""

    name: Text(120) = None
    paused: bool = None
    business_numbers: Annotated[
        list[Annotated[Text(32), AfterValidator(_business_number)]],
        Field(min_length=1, max_length=10, description="E.164, rung in this order.")] = None
    home_country: Region = None
    allowed_countries: Annotated[list[Region], Field(max_length=50)] = None
    language: Annotated[str, StringConstraints(pattern="^[a-z]{2}(-[A-Z]{2})?$"),
                        says("Use a language code such as en or pt-BR.")] = None
    button_label: Text(60) = None
    button_colour: Annotated[str, StringConstraints(pattern="^#[0-9a-fA-F]{6}$"),
                             says("Use a colour such as #0b6e4f.")] = None
    button_position: Choice(POSITIONS) = None
    consent_text: Text(500) = None
    time_zone: Annotated[Text(64), AfterValidator(_time_zone)] = Field(
        None, description="IANA, e.g. Europe/London.")
    opening_hours: OpeningHours = None
    outside_hours: Choice(OUTSIDE_HOURS) = None
    cap_per_ip: Cap = Field(None, description=(
        "Calls a day from one visitor address, counted on this widget; null: the "
        "installation's default. Above the installation's ceiling (CEILING_PER_IP): 422."))
    cap_per_number: Cap = Field(None, description=(
        "Calls a day to one number, counted on this widget; null: the installation's "
        "default. Above the installation's ceiling (CEILING_PER_NUMBER): 422."))
    cap_per_widget: Cap = None
    provider_account_id: Id | None = None
    provider_options: Options = None


class WidgetUpdate(WidgetSettings):
    pass


class WidgetCreate(WidgetSettings):
    business_numbers: Annotated[
        list[Annotated[Text(32), AfterValidator(_business_number)]],
        Field(min_length=1, max_length=10, description="E.164, rung in this order.")]
    account_id: Id = Field(None, description="Default: the key's account.")
    domains: Domains = []


class DomainCreate(Body):
    pattern: Annotated[Text(260), AfterValidator(_domain)] = Field(
        examples=["*.example.com"])


class Domain(Answer):
    id: Id
    pattern: str


class DomainPage(Page):
    items: list[Domain]


_EMPTY_IF_NONE = BeforeValidator(lambda value: value or {})


class Widget(Answer):
    id: PublicId = Field(validation_alias="public_id")
    account_id: Id
    name: str
    paused: bool
    business_numbers: list[str]
    home_country: str
    allowed_countries: list[str]
    language: str
    button_label: str
    button_colour: str
    button_position: str
    consent_text: str
    time_zone: str
    opening_hours: Annotated[dict[str, Any], _EMPTY_IF_NONE]
    outside_hours: str
    cap_per_ip: Cap
    cap_per_number: Cap
    cap_per_widget: Cap
    provider_account_id: Id | None
    provider_options: Annotated[dict[str, Any], _EMPTY_IF_NONE]
    domains: list[Domain]
    embed_snippet: str = ""
    created_at: Timestamp

    @model_validator(mode="wrap")
    @classmethod
    def _with_snippet(cls, row: Any, handler, info: ValidationInfo) -> Widget:
        """The snippet needs the request's host: the view passes ``snippet`` as context."""
        widget = handler(row)
        if info.context and not isinstance(row, dict):
            widget.embed_snippet = info.context["snippet"](row)
        return widget


class WidgetPage(Page):
    items: list[Widget]
