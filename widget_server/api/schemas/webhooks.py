"""Webhook endpoints and their deliveries. The signing secret is answered once only."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from widget_server.api.schemas.common import (
    UNSENT,
    Answer,
    Body,
    Choice,
    Count,
    Id,
    Page,
    PageQuery,
    Text,
    Timestamp,
)
from widget_server.webhooks import EVENT_TYPES, TEST_EVENT

Events = Annotated[list[Annotated[str, Choice(EVENT_TYPES)]], Field(
    min_length=1, max_length=2 * len(EVENT_TYPES),
    description="The call events sent to this endpoint.")]
Url = Annotated[str, Text(500), Field(
    description="https (http in development) to a public host, without a query: where the "
                "events are POSTed.", examples=["https://crm.example/hooks/calls"])]


class WebhookQuery(PageQuery):
    account_id: Id | None = None


class WebhookCreate(Body):
    account_id: Id | None = Field(None, description="Default: the key's account. The endpoint "
                                                    "receives this account's calls only.")
    url: Url
    events: Events


class WebhookUpdate(Body):
    """Only the fields sent change; enabling a disabled endpoint starts it afresh."""

    url: Url = UNSENT
    events: Events = UNSENT
    enabled: bool = UNSENT


class Webhook(Answer):
    id: Id
    account_id: Id
    url: str
    events: list[str]
    enabled: bool
    disabled_at: Timestamp | None = Field(
        description="When it was disabled (by hand, or after failing for three days).")
    failing_since: Timestamp | None = Field(
        description="The first failed attempt since the last success.")
    created_at: Timestamp


class WebhookWithSecret(Webhook):
    secret: str = Field(description="The signing secret (Standard Webhooks, whsec_...): "
                                    "shown this once.", pattern="^whsec_")


class WebhookPage(Page):
    items: list[Webhook]


class WebhookDelivery(Answer):
    id: Id
    webhook_id: Id = Field(validation_alias="endpoint_id")
    call_id: Annotated[str | None, BeforeValidator(
        lambda call: call.public_id if call is not None else None)] = Field(
        validation_alias="call", description="The call's public id; null for a test event.")
    message_id: str = Field(description="The webhook-id header, the same on every attempt.")
    type: Annotated[str, Choice((*EVENT_TYPES, TEST_EVENT))]
    payload: dict[str, Any]
    status: Annotated[str, Choice(("pending", "delivered", "failed"))]
    attempts: Count
    next_attempt_at: Timestamp | None
    last_status_code: int | None
    last_error: str | None
    created_at: Timestamp
    last_attempt_at: Timestamp | None
    delivered_at: Timestamp | None


class WebhookDeliveryPage(Page):
    items: list[WebhookDelivery]
