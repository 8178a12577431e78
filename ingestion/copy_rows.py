"""COPY a batch of row dicts into a table: the one bulk write the file loaders share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def copy_rows(conn, table: str, columns: Sequence[str], rows: Iterable[dict]) -> None:
    """`table` and `columns` are the loaders' own constants, never user input."""
    with conn.cursor().copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
        for row in rows:
            copy.write_row(tuple(row[c] for c in columns))
