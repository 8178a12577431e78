"""The Dagster instance's `dagster.yaml`: storage, run queue and concurrency, from settings.

ATW_DAGSTER_STORAGE=sqlite (default) keeps runs, events and schedules in SQLite files under
DAGSTER_HOME (the project's `.dagster_home/`). ATW_DAGSTER_STORAGE=postgres keeps them in a
PostgreSQL database of their own: ATW_DAGSTER_PG_URL, or by default the database `dagster` on
the embedded server, beside (never inside) the warehouse.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from filelock import FileLock, Timeout

from ingestion.core import settings

MARKER = "# Written by `atw` from ATW_DAGSTER_STORAGE; edit the settings, not this file.\n"
DAGSTER_DB = "dagster"

# One run of the project's jobs writes the warehouse at a time, so two runs never load or
# rebuild the same partition at once (a range run carries no `dagster/partition` tag, so the
# limit is on the jobs' own tag); queued runs start within a second of the one before ending
# (the default, 5 s, is micro-batch lag).
_RUN_QUEUE = """run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 4
    dequeue_interval_seconds: 1
    tag_concurrency_limits:
      - key: atw/writes
        value: warehouse
        limit: 1
"""


def storage_kind() -> str:
    kind = settings.get("ATW_DAGSTER_STORAGE").strip().lower()
    if kind not in ("sqlite", "postgres"):
        raise SystemExit(f"ATW_DAGSTER_STORAGE must be sqlite or postgres, not {kind!r}")
    return kind


# The password of ATW_DAGSTER_PG_URL reaches Dagster through this variable, which dagster.yaml
# names: no password is ever written to a file.
PASSWORD_VARIABLE = "ATW_DAGSTER_PG_PASSWORD"


def _postgres_url() -> str:
    url = settings.get("ATW_DAGSTER_PG_URL")
    if not url:
        from warehouse.embedded_server import ensure_database, ensure_running

        base = ensure_running(settings.embedded_data_dir())
        url = ensure_database(base, DAGSTER_DB)
    return url


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def postgres_storage(url: str) -> str:
    """dagster.yaml's `postgres_db` block for a libpq URL: its parts, with the password read
    from PASSWORD_VARIABLE at run time; dagster-postgres needs psycopg2 (SQLAlchemy 2.1 would
    pick psycopg 3 for a bare `postgresql://`, and dagster's NOTIFY with a bound parameter fails
    there). A socket folder (`?host=/path`) becomes a connection parameter."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    params = {k: v for k, v in query.items() if k in ("host", "sslmode", "options")}
    lines = [
        "storage:",
        "  postgres:",
        "    postgres_db:",
        "      scheme: postgresql+psycopg2",
        f"      username: {_quoted(unquote(parts.username or 'postgres'))}",
        f"      password: {{env: {PASSWORD_VARIABLE}}}",
        f"      hostname: {_quoted(parts.hostname or 'localhost')}",
        f"      port: {parts.port or 5432}",
        f"      db_name: {_quoted(unquote(parts.path.lstrip('/')) or DAGSTER_DB)}",
    ]
    if params:
        lines.append("      params:")
        lines += [f"        {key}: {_quoted(value)}" for key, value in params.items()]
    return "\n".join(lines) + "\n"


def export_password() -> None:
    """Put the storage URL's password where dagster.yaml looks for it (this process and the
    ones it starts, `dagster dev` included); set it yourself to run `dagster` directly."""
    if storage_kind() != "postgres":
        return
    password = urlsplit(_postgres_url()).password
    if password is not None:
        os.environ[PASSWORD_VARIABLE] = unquote(password)
    else:
        os.environ.setdefault(PASSWORD_VARIABLE, "")


def render(home: Path) -> str:
    if storage_kind() == "postgres":
        storage = postgres_storage(_postgres_url())
    else:
        storage = f'storage:\n  sqlite:\n    base_dir: "{home / "storage"}"\n'
    return MARKER + "telemetry:\n  enabled: false\n" + storage + _RUN_QUEUE


def prepare_dagster_home() -> Path:
    """Create DAGSTER_HOME and (re)write its dagster.yaml (unless someone wrote their own), then
    create or migrate the instance's storage, one process at a time: two `atw run` started
    together on a new DAGSTER_HOME would otherwise both create it and corrupt it."""
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    lock = FileLock(home / ".atw-instance.lock")
    try:
        lock.acquire(timeout=2)
    except Timeout:
        print(f"waiting for another atw process to finish setting up {home} ...", file=sys.stderr)
        lock.acquire()
    try:
        export_password()  # may create the storage database: under the lock too
        config = home / "dagster.yaml"
        if not config.exists() or config.read_text().startswith(MARKER):
            _write_private(config, render(home))
        _create_storage()
    finally:
        lock.release()
    return home


def _write_private(path: Path, text: str) -> None:
    """Readable by its owner only; replaced in one step, so no reader sees half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    partial.chmod(0o600)
    partial.replace(path)


def _create_storage() -> None:
    """Open the instance once, which creates (or migrates) its storage."""
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        instance.get_runs(limit=1)
