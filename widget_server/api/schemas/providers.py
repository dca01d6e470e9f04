"""Provider accounts. Credentials are write-only: taken on create and rotation, never shown."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from widget_server.api.schemas.common import (
    UNSENT,
    Answer,
    Body,
    Choice,
    Id,
    Page,
    PageQuery,
    Text,
    Timestamp,
    says,
)
from widget_server.providers import PROVIDERS

KINDS = tuple(sorted(PROVIDERS))


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul", "No NUL characters.")
    return value


Credentials = Annotated[
    dict[str, Annotated[str, StringConstraints(max_length=500), AfterValidator(_no_nul)]],
    says("Credential values are texts of at most 500 characters."),
    Field(description="Write-only: the provider's credential fields; never returned.")]
Options = Annotated[dict[str, str | int | float | bool],
                    says("Use a JSON object of texts, numbers or booleans.")]
BaseUrl = Annotated[Annotated[str, Text(500)] | None, Field(
    description="https (http in development) to a public host; null: the provider's own.")]


class ProviderAccountQuery(PageQuery):
    account_id: Id | None = None
    kind: Annotated[str, Choice(KINDS)] | None = None


class ProviderAccountCreate(Body):
    account_id: Id | None = Field(None, description="Default: the key's account.")
    name: Annotated[str, Text(120)]
    kind: Annotated[str, Choice(KINDS)]
    base_url: BaseUrl = None
    credentials: Credentials = Field({}, description=(
        "Write-only: the provider's credential fields; never returned. None for the "
        "simulator."))
    options: Options = Field({}, description=(
        "The kind's typed options (`widget-server provider kinds` lists them); every "
        "mistyped one is named at once (422, errors as options.<name>)."))


class ProviderAccountUpdate(Body):
    """Only the fields sent change; ``credentials`` replace the stored ones (a rotation)."""

    name: Annotated[str, Text(120)] = UNSENT
    base_url: BaseUrl = None
    credentials: Credentials = UNSENT
    options: Options = UNSENT


class ProviderAccount(Answer):
    id: Id
    account_id: Id
    name: str
    kind: str
    base_url: str | None
    options: Annotated[dict[str, Any], BeforeValidator(lambda options: options or {})]
    has_credentials: Annotated[bool, BeforeValidator(bool)] = Field(
        validation_alias="credentials_encrypted")
    created_at: Timestamp


class ProviderAccountPage(Page):
    items: list[ProviderAccount]
