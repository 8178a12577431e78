"""The Dagster instance's `dagster.yaml`: storage, run queue and concurrency, from settings.

ATW_DAGSTER_STORAGE=sqlite (default) keeps runs, events and schedules in SQLite files under
DAGSTER_HOME (the project's `.dagster_home/`). ATW_DAGSTER_STORAGE=postgres keeps them in a
PostgreSQL database of their own: ATW_DAGSTER_PG_URL, or by default the database `dagster` on
the embedded server, beside (never inside) the warehouse.
"""

from __future__ import annotations

import os
from pathlib import Path

from ingestion import settings

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
    kind = os.environ.get("ATW_DAGSTER_STORAGE", "sqlite").strip().lower()
    if kind not in ("sqlite", "postgres"):
        raise SystemExit(f"ATW_DAGSTER_STORAGE must be sqlite or postgres, not {kind!r}")
    return kind


def postgres_storage_url() -> str:
    """A SQLAlchemy URL for dagster-postgres, which needs psycopg2: SQLAlchemy 2.1 would pick
    psycopg 3 for a bare `postgresql://`, and dagster's NOTIFY with a bound parameter fails
    there."""
    url = os.environ.get("ATW_DAGSTER_PG_URL")
    if not url:
        from ingestion.embedded_server import ensure_database, ensure_running

        base = ensure_running(settings.embedded_data_dir())
        url = ensure_database(base, DAGSTER_DB)
    _, _, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}"


def render(home: Path) -> str:
    if storage_kind() == "postgres":
        storage = ("storage:\n  postgres:\n    postgres_url:\n"
                   f"      \"{postgres_storage_url()}\"\n")
    else:
        storage = f"storage:\n  sqlite:\n    base_dir: \"{home / 'storage'}\"\n"
    return MARKER + "telemetry:\n  enabled: false\n" + storage + _RUN_QUEUE


def prepare_dagster_home() -> Path:
    """Create DAGSTER_HOME and (re)write its dagster.yaml, unless someone wrote their own."""
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text().startswith(MARKER):
        config.write_text(render(home))
    os.environ["DAGSTER_HOME"] = str(home)
    return home
