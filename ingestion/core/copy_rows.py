"""COPY a batch of row dicts into a table: the one bulk write the loaders share.

The record contracts make every accepted value fit its column, so the COPY is not expected to
fail. Should it fail anyway, it is undone (to a savepoint) and the rows are written one at a
time: a row the database still refuses is quarantined with the SQLSTATE and the column, the
others load. The database's message is never passed on: it quotes the value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg
from psycopg import sql

from ingestion.core import quarantine
from ingestion.core.load_errors import LoadError, describe
from ingestion.core.quarantine import Rejection


def _copy(conn, table: str, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """`table` and `columns` are the loaders' own constants, never user input."""
    with conn.cursor().copy(
        sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
    ) as copy:
        for row in rows:
            copy.write_row(tuple(row[c] for c in columns))


def copy_rows(
    conn,
    table: str,
    columns: Sequence[str],
    rows: Sequence[dict],
    key_of: Callable[[dict], str] | None = None,
) -> list[Rejection]:
    """Write `rows`; returns the rejections of rows the database refused (each keyed by
    `key_of`), having written every other row."""
    failure = None
    try:
        with conn.transaction():
            _copy(conn, table, columns, rows)
        return []
    except (psycopg.Error, ValueError, TypeError, OverflowError) as error:
        failure = describe(error)
    if key_of is None:
        # Raised outside the handler, so that no traceback carries the database's message.
        raise LoadError(f"{table}: {failure}")
    rejections = []
    for row in rows:
        try:
            with conn.transaction():
                _copy(conn, table, columns, [row])
        except (psycopg.Error, ValueError, TypeError, OverflowError) as error:
            key = key_of(row)
            rejections.append(
                Rejection(key, quarantine.LOAD_ERROR, quarantine.row_hash(key), describe(error))
            )
    return rejections
