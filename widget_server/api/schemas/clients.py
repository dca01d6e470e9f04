"""Clients: the accounts under the key's account, and their call allowances."""

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
)

KINDS = ("reseller", "client")
Name = Annotated[str, Text(120)]


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


class Client(Answer):
    id: Id
    name: str
    kind: str
    parent_id: Id | None
    daily_call_cap: Cap
    monthly_call_cap: Cap
    created_at: Timestamp


class ClientPage(Page):
    items: list[Client]
