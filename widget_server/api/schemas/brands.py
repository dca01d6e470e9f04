"""A reseller's brand: what its clients' people see in the admin and in mails."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from widget_server.api.schemas.common import Answer, Body, Id, Text, says

COLOUR = r"^#[0-9a-fA-F]{6}$"
Colour = Annotated[str, StringConstraints(pattern=COLOUR), says("Use a colour such as #0b6e4f.")]


class BrandSet(Body):
    """The whole brand but its logo: a field left out is cleared (the colour: the default)."""

    product_name: Annotated[str, Text(60)] = Field(
        description="What the clients read in the admin's title and header and in mails.",
        examples=["North Calls"])
    primary_colour: Colour | None = Field(None, description="Default #0b6e4f.")
    support_email: Annotated[str, Text(254)] | None = Field(
        None, description="Shown on every admin page; replies to mails go there.")
    host_name: Annotated[str, Text(253)] | None = Field(
        None, description="The admin answers on this host with this brand, to this "
                          "account's people only. Not the installation's own host; "
                          "a name another brand holds is a 409.",
        examples=["admin.north.example"])


class LogoUpload(Body):
    image: Annotated[str, StringConstraints(min_length=1)] = Field(
        description="The image's bytes in base64: PNG, JPEG or WebP (by content), at most "
                    "200 KB and 16 to 2048 pixels a side. SVG is refused: it can carry "
                    "scripts.")


class Brand(Answer):
    """The brand the account's people see: its own, or (``inherited``) the nearest one
    above it, or the installation's default."""

    account_id: Id
    inherited: bool
    product_name: str
    primary_colour: Annotated[str, StringConstraints(pattern=COLOUR)]
    text_colour: Annotated[str, StringConstraints(pattern=COLOUR)] = Field(
        description="Black or white: what reads on the primary colour.")
    support_email: str | None
    host_name: str | None
    logo_url: str | None = Field(description="Where the admin serves the logo; null without.")
    logo_width: int | None
    logo_height: int | None
