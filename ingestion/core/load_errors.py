"""Errors of a load, told without the values they concern.

A database error's message quotes the value it choked on (`invalid input syntax for type
integer: "…"`), and a value may hold a secret. So a load that fails says what failed and where
(source, table, SQLSTATE, column), never the message; only connection errors keep theirs (they
name a host and a database, which the user must see to fix them).
"""

from __future__ import annotations

import re

import psycopg

_COLUMN = re.compile(r"\bcolumn ([a-z_][a-z0-9_]*)")


class LoadError(RuntimeError):
    """A load that failed as a whole; its message names what and where, never a value."""


def describe(error: BaseException) -> str:
    """SQLSTATE and column of a database error, or the class of any other: no value."""
    if isinstance(error, psycopg.OperationalError) and not error.sqlstate:
        return f"{type(error).__name__}: {error}".strip()
    if isinstance(error, psycopg.Error):
        context = (error.diag.context or "") if error.diag else ""
        column = _COLUMN.search(context)
        return (
            f"{type(error).__name__} (SQLSTATE {error.sqlstate or 'unknown'}"
            + (f", column {column.group(1)}" if column else "")
            + ")"
        )
    if isinstance(error, LoadError):
        return str(error)
    return type(error).__name__
