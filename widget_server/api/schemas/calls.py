"""Calls: the list's filters, a call, and its events."""

from __future__ import annotations

from typing import Annotated, Any, Literal

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
    Text,
    Timestamp,
)
from widget_server.call_states import CallState
from widget_server.calls.lead import MAX_CAMPAIGN_VALUE_LENGTH

# Printable, as stored (calls/lead.py): PostgreSQL refuses a NUL in a text parameter.
CampaignValue = Annotated[str, Text(MAX_CAMPAIGN_VALUE_LENGTH)]


class CallQuery(PageQuery):
    widget_id: PublicId | None = None
    client_id: Id | None = Field(None, description=(
        "An account of the subtree: its calls and those of the accounts under it."))
    status: Annotated[str, Choice(tuple(CallState))] | None = None
    country: Country | None = Field(None, description="The visitor's country, e.g. US.")
    since: Day | None = Field(None, description="First UTC day, included (from 2000-01-01).")
    until: Day | None = Field(None, description="Last UTC day, included (up to 2999-12-31).")
    utm_source: CampaignValue | None = Field(None, description="The host page's utm_source.")
    utm_medium: CampaignValue | None = Field(None, description="The host page's utm_medium.")
    utm_campaign: CampaignValue | None = Field(None,
                                               description="The host page's utm_campaign.")


class Call(Answer):
    id: PublicId = Field(validation_alias="public_id")
    widget_id: PublicId = Field(validation_alias=AliasPath("widget", "public_id"))
    account_id: Id
    status: str
    reason: str | None
    visitor_number: str
    visitor_country: str
    page_origin: str
    page_url: str | None = Field(description="The host page, without its query.")
    campaign: dict[str, str] = Field(
        description="The host page's utm_* and gclid parameters, where it had them.")
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

    @computed_field  # type: ignore[prop-decorator]  # mypy reads no decorator over property
    @property
    def kind(self) -> Literal["state", "exchange"]:
        return "exchange" if "exchange" in self.detail else "state"


class CallDetail(Call):
    events: list[CallEvent]


class CallPage(Page):
    items: list[Call]
