"""An account's block list: numbers its widgets refuse to call back."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from widget_server.api.schemas.common import Answer, Body, Country, Id, Page, Text, Timestamp


class BlockedNumberCreate(Body):
    number: Annotated[str, Text(32)] = Field(
        description="Any valid number of any country: +country format, or national with country.",
        examples=["+12025550123", "(202) 555-0123"])
    country: Country | None = Field(None, description="Where a national number is read, "
                                                      "e.g. US.")


class BlockedNumber(Answer):
    id: Id
    account_id: Id
    e164: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{1,14}$")]
    created_at: Timestamp


class BlockedNumberPage(Page):
    items: list[BlockedNumber]
