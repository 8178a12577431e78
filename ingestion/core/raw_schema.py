"""Creates the raw schema the loaders write to. Idempotent."""

from __future__ import annotations

from importlib import resources

import psycopg

from ingestion.core.connections import LOADER_ROLE, acting_as

# Serialises DDL across concurrent loaders: `create ... if not exists` races otherwise.
_DDL_LOCK = 0x61747701


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    ddl = resources.files("ingestion.core").joinpath("sql/raw_schema.sql").read_text()
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        # Once `atw roles` has run, what the loaders create belongs to the loader role.
        with acting_as(conn, LOADER_ROLE):
            conn.execute(ddl)
