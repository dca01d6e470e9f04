"""The write that admits a call request: all of it, or nothing.

The request's single-use ids are spent, the call and its first event stored
and every cap counted, in one transaction. On PostgreSQL that is one
statement of data-modifying CTEs, three round trips with the transaction's
BEGIN and COMMIT where it was six: the write was the largest share of an
admission's CPU left (issue 15, benchmarks/README.md). SQLite has no
data-modifying CTEs; there the same statements run one after the other.
Either way the insert of the ids and the guarded upsert of the caps decide,
and a refusal rolls the whole transaction back.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Connection, bindparam, insert, text

from widget_server.abuse.caps import (
    Cap,
    caps_to_count,
    count_within_caps,
    counter_keys,
    refuse_unless_counted,
)
from widget_server.calls.events import add_event
from widget_server.db_ops import (
    below_rows,
    increment_below_rows_sql,
    insert_ignore_sql,
    row_values,
)
from widget_server.extensions import db
from widget_server.models import (
    CALL_EVENTS,
    CALL_REQUESTS,
    USAGE_COUNTERS,
    USED_TOKENS,
    new_public_id,
    utcnow,
)
from widget_server.security.single_use import (
    SingleUse,
    consume_all,
    refuse_unless_recorded,
    used_rows,
)

_INSERT_CALL = insert(CALL_REQUESTS).returning(CALL_REQUESTS.c.id, CALL_REQUESTS.c.public_id)
# What a call request stores of a call; the other columns keep their defaults.
CALL_COLUMNS = ("public_id", "widget_id", "account_id", "visitor_number", "visitor_country",
                "client_ip", "page_origin", "page_url", "campaign", "provider_kind", "status",
                "reason", "request_id", "scheduled_for", "business_number", "created_at",
                "updated_at")


def admit(uses: list[SingleUse], caps: list[Cap], call: dict,
          event_detail: dict) -> tuple[int, str]:
    """Spend ``uses``, store ``call`` (every column of ``CALL_COLUMNS`` but its times and
    public id) with its first event, which takes the call's status and reason and
    ``event_detail``, and count it against ``caps``, and commit; the call's id and
    public id. Raises the refusal of the first use spent already, else of the first cap
    reached, having written nothing. On PostgreSQL the transaction is a connection's
    own; on SQLite it is the session's, so call it with nothing pending there."""
    now = utcnow()
    call = call | {"public_id": new_public_id(), "created_at": now, "updated_at": now}
    if db.engine.dialect.name == "postgresql":
        # A connection of its own: the statement is Core, and the session's
        # transaction bookkeeping cost more than its BEGIN and COMMIT.
        with db.engine.begin() as connection:
            return _admit_in_one_statement(connection, uses, caps, call, event_detail)
    try:
        consume_all(uses)
        call_id, public_id = db.session.execute(_INSERT_CALL, call).one()
        add_event(call_id, call["status"], call["reason"], event_detail, at=now)
        count_within_caps(caps)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return call_id, public_id


def _admit_in_one_statement(connection: Connection, uses: list[SingleUse], caps: list[Cap],
                            call: dict, event_detail: dict) -> tuple[int, str]:
    countable = caps_to_count(caps)
    params = (row_values(used_rows(uses))
              | {"rows": below_rows(counter_keys(countable), [cap.limit for cap in countable])}
              | {f"call_{name}": call[name] for name in CALL_COLUMNS}
              | {"event_detail": event_detail})
    row = connection.execute(_one_statement(len(uses), bool(countable)), params).one()
    call_id, public_id, recorded, counted = row
    refuse_unless_recorded(uses, {tuple(key) for key in recorded or ()})
    refuse_unless_counted(caps, {tuple(key) for key in counted or ()})
    return call_id, public_id


@lru_cache(maxsize=8)
def _one_statement(use_count: int, counts_caps: bool):
    """``WITH used AS (insert the ids), counted AS (count the caps), new_call AS
    (insert the call), new_event AS (insert its event) SELECT`` the call's ids and the
    keys of the ids recorded and the caps counted. Every part runs to its end whether
    or not the SELECT reads it; the keys tell the caller what to refuse."""
    used, params = insert_ignore_sql(USED_TOKENS, use_count)
    parts = [f"used AS ({used})"]
    counted_keys = "NULL"
    if counts_caps:
        counted, cap_params = increment_below_rows_sql(USAGE_COUNTERS)
        parts.append(f"counted AS ({counted})")
        params += cap_params
        counted_keys = ('(SELECT json_agg(json_build_array("scope", "key", "period")) '
                        "FROM counted)")
    parts.append(
        f"new_call AS (INSERT INTO {CALL_REQUESTS.name} ("
        + ", ".join(f'"{name}"' for name in CALL_COLUMNS) + ") VALUES ("
        + ", ".join(f":call_{name}" for name in CALL_COLUMNS) + ') RETURNING "id", "public_id")')
    # The event is the call's first step: its time, status and reason are the call's.
    parts.append(
        f'new_event AS (INSERT INTO {CALL_EVENTS.name} ("call_id", "at", "status", "reason", '
        '"detail") SELECT "id", :call_created_at, :call_status, :call_reason, :event_detail '
        "FROM new_call)")
    params += [bindparam(f"call_{name}", type_=CALL_REQUESTS.c[name].type) for name in CALL_COLUMNS]
    params.append(bindparam("event_detail", type_=CALL_EVENTS.c.detail.type))
    return text(
        "WITH " + ", ".join(parts)
        + ' SELECT new_call."id", new_call."public_id", '
        + '(SELECT json_agg(json_build_array("kind", "token_id")) FROM used), '
        + f"{counted_keys} FROM new_call"
    ).bindparams(*params)
