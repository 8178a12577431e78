"""Creates the raw schema the loaders write to. Idempotent."""

from __future__ import annotations

from importlib import resources

import psycopg

from ingestion.connections import usable_role

# Serialises DDL across concurrent loaders: `create ... if not exists` races otherwise.
_DDL_LOCK = 0x61747701
LOADER_ROLE = "atw_loader"


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    ddl = resources.files("ingestion").joinpath("sql/warehouse_raw.sql").read_text()
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        # Once `atw roles` has run, what the loaders create belongs to the loader role.
        if not usable_role(conn, LOADER_ROLE):
            conn.execute(ddl)
            return
        # `set local` outlives this block when the caller's transaction encloses it.
        previous = conn.execute("select current_setting('role')").fetchone()[0]
        conn.execute(f"set local role {LOADER_ROLE}")
        conn.execute(ddl)
        conn.execute("select set_config('role', %s, true)", (previous,))
