"""Users: the people who sign in to the admin, and their roles."""

from __future__ import annotations

from typing import Annotated

from widget_server.api.schemas.common import Answer, Body, Choice, Id, Page, PageQuery, Timestamp
from widget_server.services.users import ROLES


class UserQuery(PageQuery):
    account_id: Id | None = None


class UserUpdate(Body):
    role: Annotated[str, Choice(ROLES)]


class User(Answer):
    id: Id
    account_id: Id
    email: str
    role: str
    created_at: Timestamp


class UserPage(Page):
    items: list[User]
