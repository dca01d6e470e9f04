"""Calls: the list's filters, a call, and its events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasPath, Field, computed_field

from widget_server.api.schemas.common import (
    Answer,
    Choice,
    Country,
    Day,
    Id,
    Page,
    PageQuery,
    PublicId,
    Timestamp,
)
from widget_server.call_states import CallState


class CallQuery(PageQuery):
    widget_id: PublicId | None = None
    status: Choice(tuple(CallState)) | None = None
    country: Country | None = Field(None, description="The visitor's country, e.g. US.")
    since: Day | None = Field(None, description="First UTC day, included (from 2000-01-01).")
    until: Day | None = Field(None, description="Last UTC day, included (up to 2999-12-31).")


class Call(Answer):
    id: PublicId = Field(validation_alias="public_id")
    widget_id: PublicId = Field(validation_alias=AliasPath("widget", "public_id"))
    account_id: Id
    status: str
    reason: str | None
    visitor_number: str
    visitor_country: str
    page_origin: str
    provider_kind: str
    scheduled_for: Timestamp | None
    attempt: int = Field(description="1: the visitor's request; later: tried again.")
    attempt_reason: str | None = Field(description=(
        "Why this attempt was made: next_number, redial, callback (booked when the redials "
        "ran out) or call_now."))
    redial_of_id: PublicId | None = Field(
        validation_alias=AliasPath("redial_of", "public_id"), default=None,
        description="The visitor's request this attempt tries again.")
    business_number: str | None
    provider_report: dict[str, Any] | None
    created_at: Timestamp
    updated_at: Timestamp


class CallEvent(Answer):
    """A state change, or a provider exchange (redacted by the adapter before it was stored)."""

    at: Timestamp
    status: str
    reason: str | None
    detail: dict[str, Any]

    @computed_field
    @property
    def kind(self) -> Literal["state", "exchange"]:
        return "exchange" if "exchange" in self.detail else "state"


class CallDetail(Call):
    events: list[CallEvent]


class CallPage(Page):
    items: list[Call]
