"""Usage per account: what a reseller bills its clients by."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, create_model

from widget_server.api.schemas.common import Answer, Choice, Count, Id, Moment, Query, Timestamp
from widget_server.reports import OUTCOMES

_COUNTS: dict[str, Any] = dict.fromkeys(OUTCOMES, (Count, ...))
ByOutcome = create_model("ByOutcome", __base__=Answer, **_COUNTS)


class UsageQuery(Query):
    since: Moment | None = Field(None, description="A date or date-time; default 30 days ago.")


class AccountUsage(Answer):
    account_id: Id
    name: str
    kind: str
    parent_id: Id | None
    total: Count
    by_outcome: ByOutcome
    answer_rate: float | None = Field(ge=0, le=1)


class Usage(Answer):
    since: Timestamp
    outcomes: list[Annotated[str, Choice(OUTCOMES)]]
    accounts: list[AccountUsage]
