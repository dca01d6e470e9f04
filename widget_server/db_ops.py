"""The two atomic statements that SQLite and PostgreSQL both support as upserts."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from widget_server.extensions import db


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def insert_ignore(model, values: dict) -> bool:
    """Insert a row unless its primary key exists; whether it was inserted."""
    first_key = model.__table__.primary_key.columns[0]
    statement = _insert(model).values(**values).on_conflict_do_nothing().returning(first_key)
    return db.session.execute(statement).first() is not None


def increment_below(model, key: dict, cap: int) -> int | None:
    """Add one to ``model.count`` for ``key`` if it stays within ``cap``.

    One statement, ``INSERT .. ON CONFLICT DO UPDATE .. WHERE count < cap
    RETURNING count``: the check and the count cannot be separated by a
    concurrent request. Returns the new count, or None when the cap is reached.
    """
    if cap <= 0:
        return None
    insert = _insert(model).values(**key, count=1)
    statement = insert.on_conflict_do_update(
        index_elements=list(key),
        set_={"count": model.count + 1},
        where=model.count < cap,
    ).returning(model.count)
    return db.session.execute(statement).scalar_one_or_none()
