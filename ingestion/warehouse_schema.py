"""Creates the raw schema the loaders write to. Idempotent."""

from __future__ import annotations

from importlib import resources

import psycopg

# Serialises DDL across concurrent loaders: `create ... if not exists` races otherwise.
_DDL_LOCK = 0x61747701


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    ddl = resources.files("ingestion").joinpath("sql/warehouse_raw.sql").read_text()
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        conn.execute(ddl)
