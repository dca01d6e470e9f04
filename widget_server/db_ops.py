"""Atomic multi-row upserts that SQLite and PostgreSQL both support.

Core statements on the tables, not ORM inserts: the ORM's bulk path costs
more Python than the database spends on these few rows.
"""

from __future__ import annotations

from sqlalchemy import and_, case
from sqlalchemy.dialects import postgresql, sqlite

from widget_server.extensions import db


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model.__table__)


def _primary_key(model) -> list:
    return list(model.__table__.primary_key.columns)


def insert_ignore(model, rows: list[dict]) -> set[tuple]:
    """Insert each row unless its primary key exists; the keys of those inserted.

    One statement for all rows: of two requests racing with one key, one
    inserts it and the other gets no key back.
    """
    key = _primary_key(model)
    statement = _insert(model).values(rows).on_conflict_do_nothing().returning(*key)
    return {tuple(row) for row in db.session.execute(statement)}


def increment_below(model, keys: list[dict], caps: list[int]) -> set[tuple]:
    """Add one to ``model.count`` for every key whose count stays within its cap.

    One statement, ``INSERT .. VALUES (key1, 1), (key2, 1) .. ON CONFLICT DO
    UPDATE SET count = count + 1 WHERE count < CASE <key> THEN <cap> .. END
    RETURNING <key>``: no check can be separated from its count by a
    concurrent request. Returns the keys counted; a key missing was at its cap
    (the row is left as it was). Every cap must be at least 1, and the keys
    distinct. The rows are locked in the order given, so callers that list
    the same kinds of keys in the same order cannot deadlock on PostgreSQL.
    """
    columns = _primary_key(model)
    insert = _insert(model).values([{**key, "count": 1} for key in keys])
    excluded = insert.excluded
    limit = case(*[(and_(*[excluded[column.name] == key[column.name] for column in columns]),
                    cap) for key, cap in zip(keys, caps, strict=True)])
    statement = insert.on_conflict_do_update(
        index_elements=columns,
        set_={"count": model.__table__.c.count + 1},
        where=model.__table__.c.count < limit,
    ).returning(*columns)
    return {tuple(row) for row in db.session.execute(statement)}
