"""Where things live. Read at call time, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

WAREHOUSE_DB = "warehouse"
COLLECTOR_DB = "collector"


def embedded_data_dir() -> Path:
    """Data directory of the embedded PostgreSQL server (gitignored)."""
    return Path(os.environ.get("EMBEDDED_PG_DIR", PROJECT_ROOT / ".warehouse" / "pgdata"))


def sample_claude_projects_dir() -> Path:
    """Where `atw generate` writes sample Claude Code session logs (gitignored)."""
    return PROJECT_ROOT / ".warehouse" / "sample-claude-projects"


def report_path() -> Path:
    """Where the HTML report is written (ATW_REPORT_PATH; gitignored by default)."""
    return Path(os.environ.get("ATW_REPORT_PATH",
                               PROJECT_ROOT / "reports" / "telemetry-report.html"))


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", PROJECT_ROOT / ".dagster_home"))


@dataclass(frozen=True)
class Urls:
    warehouse: str
    collector: str | None  # None: no collector is configured, its assets skip


def resolve_urls(create_collector: bool = False) -> Urls:
    """WAREHOUSE_URL / COLLECTOR_URL, defaulting to databases on the embedded server.

    Without COLLECTOR_URL, the collector is the embedded server's sample database (what
    `atw generate` writes) if it holds a collector's tables, otherwise there is none: a team
    with only Claude Code logs or file drops runs without one. The embedded server is only
    started when a default is actually needed, so pointing WAREHOUSE_URL at a real system
    never touches `.warehouse/`.
    """
    warehouse = os.environ.get("WAREHOUSE_URL") or None
    collector = os.environ.get("COLLECTOR_URL") or None
    if warehouse and (collector or not create_collector):
        return Urls(warehouse=warehouse, collector=collector)

    from ingestion.embedded_server import ensure_database, ensure_running, filled_collector

    base = ensure_running(embedded_data_dir())
    if not warehouse:
        warehouse = ensure_database(base, WAREHOUSE_DB)
    if not collector:
        collector = (ensure_database(base, COLLECTOR_DB) if create_collector
                     else filled_collector(base, COLLECTOR_DB))
    return Urls(warehouse=warehouse, collector=collector)


def landing_dir() -> Path:
    """LANDING_DIR, by default `landing/` in the project (where `atw generate` drops files)."""
    return Path(os.environ.get("LANDING_DIR", PROJECT_ROOT / "landing")).expanduser()


def claude_projects_dirs() -> list[Path]:
    """CLAUDE_PROJECTS_DIR: one or several directories (os.pathsep-separated); none by default."""
    value = os.environ.get("CLAUDE_PROJECTS_DIR", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def skipped_sources(urls: Urls) -> dict[str, str]:
    """Why each source that is not configured is skipped (one line each); configured sources
    are absent."""
    reasons = {}
    if urls.collector is None:
        reasons["collector"] = "no collector: set COLLECTOR_URL to read one"
    if not landing_dir().is_dir():
        reasons["landing"] = ("no landing folder: set LANDING_DIR to a folder of "
                              "collector batch (*.json) and metric (*.ndjson) files")
    if not claude_projects_dirs():
        reasons["claude_code"] = ("no Claude Code logs: set CLAUDE_PROJECTS_DIR "
                                  "(e.g. ~/.claude/projects)")
    return reasons
