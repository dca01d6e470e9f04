"""Clients: the accounts under the key's account, their allowances and limits."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from widget_server.api.schemas.common import (
    UNSENT,
    Answer,
    Body,
    Cap,
    Choice,
    Id,
    Page,
    PageQuery,
    Text,
    Timestamp,
    says,
)
from widget_server.services.accounts import MAX_WIDGETS_TOP

KINDS = ("reseller", "client")
Name = Annotated[str, Text(120)]
MaxWidgets = Annotated[Annotated[int, Field(ge=0, le=MAX_WIDGETS_TOP)] | None,
                       says(f"Use a whole number from 0 to {MAX_WIDGETS_TOP}, or null for no "
                            "limit.")]


class ClientQuery(PageQuery):
    kind: Annotated[str, Choice(KINDS)] | None = None
    parent_id: Id | None = None


class ClientCreate(Body):
    name: Name
    kind: Annotated[str, Choice(KINDS)] = "client"
    parent_id: Id | None = Field(None, description="Default: the key's account.")
    daily_call_cap: Cap = None
    monthly_call_cap: Cap = None


class ClientUpdate(Body):
    """Only the fields sent change."""

    name: Name = UNSENT
    daily_call_cap: Cap = None
    monthly_call_cap: Cap = None
    may_add_providers: bool = Field(UNSENT, description=(
        "Whether the client may add provider accounts of its own."))
    max_widgets: MaxWidgets = Field(None, description=(
        "How many live widgets the client may have; null: no limit."))


class Client(Answer):
    id: Id
    name: str
    kind: str
    parent_id: Id | None
    daily_call_cap: Cap
    monthly_call_cap: Cap
    may_add_providers: bool
    max_widgets: MaxWidgets
    suspended_at: Timestamp | None = Field(description=(
        "When its parent suspended it: its widgets refuse visitors, its users and keys are "
        "refused. Null: not suspended."))
    created_at: Timestamp


class ClientPage(Page):
    items: list[Client]
