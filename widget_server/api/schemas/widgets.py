"""Widgets and their domain whitelists; each answer carries the embed snippet."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from widget_server.api.schemas.common import (
    UNSENT,
    Answer,
    Body,
    Cap,
    Choice,
    Count,
    Id,
    OptionalText,
    Page,
    PageQuery,
    PublicId,
    Text,
    Timestamp,
    says,
)
from widget_server.services.widgets import (
    DISPLAY_NUMBERS,
    MAX_GLOB_LENGTH,
    MAX_NOTIFY_EMAILS,
    MAX_PATH_GLOBS,
    NOTIFY_EVENTS,
    OUTSIDE_HOURS,
    POSITIONS,
    PROMISE_LENGTH,
    PROMISE_RULE,
)

# Shapes and types only: what a value may be (a real number, a known country or time
# zone, readable opening hours) is services/widgets.py's rule, as for the admin and CLI.
Region = Annotated[str, StringConstraints(pattern="^[A-Z]{2}$"),
                   says("Use a country code such as US or GB.")]
Span = Annotated[list[str], Field(min_length=2, max_length=2)]
OpeningHours = Annotated[
    dict[str, list[Span]],
    says('Use {"mon": [["09:00", "17:00"]], ...}: days mon to sun, each with a list of '
         '[opening, closing] times.'),
    Field(description='Weekdays (mon to sun) to [opening, closing] local times, e.g. '
                      '{"mon": [["09:00", "17:00"]], "fri": [["22:00", "02:00"]]}: a closing '
                      'not after its opening runs overnight; "24:00" closes at midnight; a '
                      'day left out is closed; {} is always open.')]
Options = Annotated[dict[str, str | int | float | bool],
                    says("Use a JSON object of texts, numbers or booleans.")]
Domains = Annotated[list[Annotated[str, Text(260)]], Field(max_length=50)]
BusinessNumbers = Annotated[list[Annotated[str, Text(32)]],
                            Field(min_length=1, max_length=10,
                                  description="E.164, rung in this order.")]
PathGlobs = Annotated[list[Annotated[str, Text(MAX_GLOB_LENGTH)]], Field(
    max_length=MAX_PATH_GLOBS, description=(
        "Page paths, each starting with /; * stands for any characters, / included, "
        "e.g. /blog/*.")), says("Use a list of paths such as /blog/*.")]
SECONDS_TOP, SCROLL_TOP = (DISPLAY_NUMBERS["show_after_seconds"],
                           DISPLAY_NUMBERS["show_after_scroll"])
ShowAfterSeconds = Annotated[int, Field(ge=0, le=SECONDS_TOP),
                             says(f"Use a whole number from 0 to {SECONDS_TOP}.")]
ShowAfterScroll = Annotated[int, Field(ge=0, le=SCROLL_TOP),
                            says(f"Use a whole number from 0 to {SCROLL_TOP}.")]
NotifyEmails = Annotated[list[Annotated[str, Text(254)]], Field(
    max_length=MAX_NOTIFY_EMAILS, description="Who is mailed about this widget's calls.")]
NotifyEvents = Annotated[list[Annotated[str, Choice(NOTIFY_EVENTS)]], Field(
    max_length=len(NOTIFY_EVENTS), description=(
        "What they are mailed about: requested (a new request), scheduled (a call-back "
        "booked), missed (business not reached or no answer), failed, digest (each day's "
        "calls, after the widget's midnight)."))]


class WidgetQuery(PageQuery):
    account_id: Id | None = None
    paused: Annotated[str, Choice(("true", "false"))] | None = None


class WidgetSettings(Body):
    """Only the fields sent change."""

    name: Annotated[str, Text(120)] = UNSENT
    paused: bool = UNSENT
    business_numbers: BusinessNumbers = UNSENT
    home_country: Region = UNSENT
    allowed_countries: Annotated[list[Region], Field(max_length=50)] = UNSENT
    language: Annotated[str, StringConstraints(pattern="^([a-z]{2}(-[A-Z]{2})?|auto)$"),
                        says("Use a language code such as en or pt-BR, or auto.")] = UNSENT
    button_label: Annotated[str, Text(60)] = UNSENT
    button_colour: Annotated[str, StringConstraints(pattern="^#[0-9a-fA-F]{6}$"),
                             says("Use a colour such as #0b6e4f.")] = UNSENT
    button_position: Annotated[str, Choice(POSITIONS)] = UNSENT
    consent_text: Annotated[str, Text(500)] = UNSENT
    promise_text: Annotated[str, OptionalText(PROMISE_LENGTH), says(
        PROMISE_RULE)] = Field(
        UNSENT, description="One line under the form's heading, such as \"We call you back "
                            "within 30 seconds\"; empty: none.")
    time_zone: Annotated[str, Text(64)] = Field(UNSENT, description="IANA, e.g. Europe/London.")
    opening_hours: OpeningHours = UNSENT
    outside_hours: Annotated[str, Choice(OUTSIDE_HOURS)] = UNSENT
    cap_per_ip: Cap = Field(None, description=(
        "Calls a day from one visitor address, counted on this widget; null: the "
        "installation's default. Above the installation's ceiling (CEILING_PER_IP): 422."))
    cap_per_number: Cap = Field(None, description=(
        "Calls a day to one number, counted on this widget; null: the installation's "
        "default. Above the installation's ceiling (CEILING_PER_NUMBER): 422."))
    cap_per_widget: Cap = None
    redial_attempts: Count = Field(UNSENT, description=(
        "How often a call the business did not answer is rung again, 0 to 5 (0: never); "
        "when they are used up and the widget offers call-backs, one is booked for the "
        "next opening."))
    redial_interval_minutes: Count = Field(UNSENT, description=(
        "Minutes between redials, 1 to 1440, inside opening hours."))
    provider_account_id: Id | None = None
    provider_options: Options = UNSENT
    show_on_paths: PathGlobs = Field(UNSENT, description=(
        "The floating button shows only on these paths; empty: on every path."))
    hide_on_paths: PathGlobs = Field(UNSENT, description=(
        "The floating button never shows on these paths (before show_on_paths)."))
    show_after_seconds: ShowAfterSeconds = Field(
        UNSENT, description="Seconds on the page before the floating button shows.")
    show_after_scroll: ShowAfterScroll = Field(
        UNSENT, description="How far down the page (percent) the visitor has scrolled "
                            "before the floating button shows.")
    notify_emails: NotifyEmails = UNSENT
    notify_events: NotifyEvents = UNSENT


class WidgetUpdate(WidgetSettings):
    pass


class WidgetCreate(WidgetSettings):
    business_numbers: BusinessNumbers
    account_id: Id = Field(UNSENT, description="Default: the key's account.")
    domains: Domains = []


class DomainCreate(Body):
    pattern: Annotated[str, Text(260)] = Field(examples=["*.example.com"])


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
    promise_text: str
    time_zone: str
    opening_hours: Annotated[dict[str, Any], _EMPTY_IF_NONE]
    outside_hours: str
    cap_per_ip: Cap
    cap_per_number: Cap
    cap_per_widget: Cap
    redial_attempts: int
    redial_interval_minutes: int
    provider_account_id: Id | None
    provider_options: Annotated[dict[str, Any], _EMPTY_IF_NONE]
    show_on_paths: list[str]
    hide_on_paths: list[str]
    show_after_seconds: int
    show_after_scroll: int
    notify_emails: list[str]
    notify_events: list[str]
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
