"""Atomic multi-row upserts that SQLite and PostgreSQL both support.

Both databases accept the same text for these statements, so they are
written once, per table and row count, as SQL text with typed parameters:
SQLAlchemy caches the compiled form of a text statement, while it compiles a
multi-row ``insert().values([...])`` again on every execution, which cost
more than the database spent on the rows. One exception: on PostgreSQL
``increment_below`` takes its rows as one JSON parameter (see there).
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from functools import lru_cache
from io import TextIOWrapper

from sqlalchemy import JSON, bindparam, text
from sqlalchemy.dialects import postgresql

from widget_server.extensions import db


def _quoted(name: str) -> str:
    return f'"{name}"'


def _rows(columns, count: int, extra: str = "") -> tuple[str, list]:
    """``(:a_0, :b_0<extra>), (:a_1, :b_1<extra>) ..`` and the typed parameters it names."""
    rows, params = [], []
    for i in range(count):
        rows.append("(" + ", ".join(f":{column.name}_{i}" for column in columns) + extra + ")")
        params += [bindparam(f"{column.name}_{i}", type_=column.type) for column in columns]
    return ", ".join(rows), params


def row_values(rows: list[dict]) -> dict:
    """The parameters of ``rows`` for the statement of ``insert_ignore_sql``."""
    return {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}


def insert_ignore_sql(table, count: int) -> tuple[str, list]:
    """The text of an insert of ``count`` rows into ``table`` that skips keys already
    there and returns the keys it inserted, with its typed parameters (``<column>_<i>``)."""
    columns, key = list(table.columns), list(table.primary_key.columns)
    values, params = _rows(columns, count)
    return (
        f"INSERT INTO {_quoted(table.name)} ({', '.join(_quoted(c.name) for c in columns)}) "
        f"VALUES {values} ON CONFLICT DO NOTHING "
        f"RETURNING {', '.join(_quoted(c.name) for c in key)}"
    ), params


@lru_cache(maxsize=64)
def _insert_ignore(table, count: int):
    sql, params = insert_ignore_sql(table, count)
    return text(sql).bindparams(*params)


def insert_ignore(model, rows: list[dict]) -> set[tuple]:
    """Insert each row unless its primary key exists; the keys of those inserted.

    One statement for all rows: of two requests racing with one key, one
    inserts it and the other gets no key back. Each row gives every column.
    """
    statement = _insert_ignore(model.__table__, len(rows))
    return {tuple(row) for row in db.session.execute(statement, row_values(rows))}


@lru_cache(maxsize=64)
def _increment_below(table, count: int):
    key = list(table.primary_key.columns)
    names = ", ".join(_quoted(c.name) for c in key)
    values, params = _rows(key, count, extra=", 1")
    counter = f"{_quoted(table.name)}.{_quoted('count')}"
    limits = " ".join(
        "WHEN " + " AND ".join(f"excluded.{_quoted(c.name)} = :{c.name}_{i}" for c in key)
        + f" THEN :cap_{i}" for i in range(count))
    return text(
        f"INSERT INTO {_quoted(table.name)} ({names}, {_quoted('count')}) VALUES {values} "
        f"ON CONFLICT ({names}) DO UPDATE SET {_quoted('count')} = {counter} + 1 "
        f"WHERE {counter} < CASE {limits} END RETURNING {names}"
    ).bindparams(*params, *[bindparam(f"cap_{i}", type_=table.c.count.type)
                            for i in range(count)])


def increment_below_rows_sql(table) -> tuple[str, list]:
    """The text of ``increment_below`` on PostgreSQL, for any number of keys: the keys
    and their caps in one JSON parameter ``rows`` (``below_rows``), read with
    ``json_to_recordset`` in the order given. psycopg converts a statement of more
    than 50 parameters afresh on every execution, which cost half of a call
    request's write with four parameters a cap."""
    key = list(table.primary_key.columns)
    names = ", ".join(_quoted(c.name) for c in key)
    columns = ", ".join(f"{_quoted(c.name)} {c.type.compile(dialect=postgresql.dialect())}"
                        for c in key)
    given = f"json_to_recordset(:rows) AS given({columns}, {_quoted('cap')} integer)"
    same_key = " AND ".join(f"given.{_quoted(c.name)} = excluded.{_quoted(c.name)}"
                            for c in key)
    counter = f"{_quoted(table.name)}.{_quoted('count')}"
    return (
        f"INSERT INTO {_quoted(table.name)} ({names}, {_quoted('count')}) "
        f"SELECT {names}, 1 FROM {given} "
        f"ON CONFLICT ({names}) DO UPDATE SET {_quoted('count')} = {counter} + 1 "
        f"WHERE {counter} < (SELECT {_quoted('cap')} FROM {given} WHERE {same_key}) "
        f"RETURNING {names}"
    ), [bindparam("rows", type_=JSON)]


def below_rows(keys: list[dict], caps: list[int]) -> list[dict]:
    """The ``rows`` parameter of ``increment_below_rows_sql``."""
    if len(caps) != len(keys):
        raise ValueError("one cap per key")
    return [key | {"cap": cap} for key, cap in zip(keys, caps, strict=True)]


@lru_cache(maxsize=8)
def _increment_below_rows(table):
    sql, params = increment_below_rows_sql(table)
    return text(sql).bindparams(*params)


def increment_below(model, keys: list[dict], caps: list[int]) -> set[tuple]:
    """Add one to ``model.count`` for every key whose count stays within its cap.

    One statement, ``INSERT .. VALUES (key1, 1), (key2, 1) .. ON CONFLICT DO
    UPDATE SET count = count + 1 WHERE count < CASE <key> THEN <cap> .. END
    RETURNING <key>`` (on PostgreSQL the rows and caps come from one JSON
    parameter instead): no check can be separated from its count by a
    concurrent request. Returns the keys counted; a key missing was at its cap
    (the row is left as it was). Every cap must be at least 1, and the keys
    distinct. The rows are locked in the order given, so callers that list
    the same kinds of keys in the same order cannot deadlock on PostgreSQL.
    """
    rows = below_rows(keys, caps)
    if db.session.get_bind().dialect.name == "postgresql":
        statement, params = _increment_below_rows(model.__table__), {"rows": rows}
    else:
        statement = _increment_below(model.__table__, len(keys))
        params = row_values(keys) | {f"cap_{i}": cap for i, cap in enumerate(caps)}
    return {tuple(row) for row in db.session.execute(statement, params)}


_write_locks: dict[tuple[int, str], tuple[threading.Lock, TextIOWrapper]] = {}
_write_locks_guard = threading.Lock()


@contextmanager
def queued_writes():
    """On a SQLite file, make this block's writers wait in turn on a file lock.

    SQLite has one writer at a time, and a writer that finds it busy sleeps
    and polls (up to 100 ms a sleep), so under load some requests lose every
    race for seconds. A blocking ``flock`` (one per process, threads behind a
    mutex) wakes the next writer as soon as the last one is done. It only
    orders writers; the database still guarantees each transaction. Other
    databases need none of this: it does nothing there.
    """
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    key = (os.getpid(), url.database)  # a forked child opens its own descriptor
    with _write_locks_guard:
        if key not in _write_locks:
            # Kept open for the life of the process: the lock is taken on it.
            lock_file = open(url.database + ".write-lock", "a")  # noqa: SIM115
            _write_locks[key] = (threading.Lock(), lock_file)
        mutex, lock_file = _write_locks[key]
    with mutex:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
