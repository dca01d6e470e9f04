"""Usage per account (what a reseller bills its clients by) and refused requests."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, AliasPath, Field, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError

from widget_server.abuse.refusals import REASONS
from widget_server.api.schemas.common import (
    Answer,
    Choice,
    Count,
    Day,
    Id,
    Moment,
    Page,
    PageQuery,
    PublicId,
    Query,
    Timestamp,
)
from widget_server.models import utcnow
from widget_server.reports import OUTCOMES, month_bounds

_COUNTS: dict[str, Any] = dict.fromkeys(OUTCOMES, (Count, ...))
ByOutcome = create_model("ByOutcome", __base__=Answer, **_COUNTS)


def _closed_month(value: str) -> str:
    try:
        month_bounds(value, utcnow())
    except ValueError as problem:
        raise PydanticCustomError("month", str(problem)) from None
    return value


Month = Annotated[str, AfterValidator(_closed_month),
                  WithJsonSchema({"type": "string", "pattern": "^2[0-9]{3}-(0[1-9]|1[0-2])$",
                                  "description": "YYYY-MM, a month that is over (UTC)."})]


class UsageQuery(Query):
    month: Month | None = Field(None, description=(
        "A closed month, YYYY-MM (UTC): its requests, for invoicing. The current month "
        "and later ones are refused."))
    since: Moment | None = Field(None, description=(
        "Without month: a date or date-time; default 30 days ago."))


class AccountUsage(Answer):
    """An account's visitors' requests, each counted once with its last attempt's outcome."""

    account_id: Id
    name: str
    kind: str
    parent_id: Id | None
    total: Count = Field(description="Requests of the account's own widgets.")
    by_outcome: ByOutcome
    answer_rate: float | None = Field(ge=0, le=1)
    answered_minutes: float = Field(ge=0, description=(
        "Durations the providers reported of the answered attempts, in minutes."))
    answered_with_duration: Count = Field(validation_alias="timed", description=(
        "Of the answered requests, how many had a duration reported."))
    subtree_total: Count = Field(description=(
        "Requests of this account and every account under it (a reseller's clients)."))
    subtree_by_outcome: ByOutcome
    subtree_answered_minutes: float = Field(ge=0)


class UsageTotal(Answer):
    """Every account of the caller's subtree together (the caller's subtree figures)."""

    total: Count = Field(validation_alias="subtree_total")
    by_outcome: ByOutcome = Field(validation_alias="subtree_by_outcome")
    answered_minutes: float = Field(ge=0, validation_alias="subtree_answered_minutes")
    answered_with_duration: Count = Field(validation_alias="subtree_timed")


class Usage(Answer):
    month: str | None
    since: Timestamp
    until: Timestamp | None = Field(description="The end, excluded; null: up to now.")
    outcomes: list[Annotated[str, Choice(OUTCOMES)]]
    accounts: list[AccountUsage]
    total: UsageTotal


class RefusalQuery(PageQuery):
    widget_id: PublicId | None = None
    client_id: Id | None = Field(None, description=(
        "An account of the subtree: its widgets' refusals and those under it."))
    since: Day | None = Field(None, description="First UTC day, included.")
    until: Day | None = Field(None, description="Last UTC day, included.")


class RefusalCount(Answer):
    day: date = Field(description="The UTC day.")
    widget_id: PublicId = Field(validation_alias=AliasPath("widget", "public_id"))
    account_id: Id = Field(validation_alias=AliasPath("widget", "account_id"))
    reason: Annotated[str, Choice(REASONS)]
    count: Count


class RefusalPage(Page):
    """Refused requests per widget, day and reason, newest day first; ``totals`` per
    reason over every page."""

    items: list[RefusalCount]
    totals: dict[str, int]
