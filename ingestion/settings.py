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
    collector: str


def resolve_urls() -> Urls:
    """WAREHOUSE_URL / COLLECTOR_URL, defaulting to databases on the embedded server.

    The embedded server is only started when a default is actually needed, so pointing both
    variables at real systems never touches `.warehouse/`.
    """
    warehouse = os.environ.get("WAREHOUSE_URL")
    collector = os.environ.get("COLLECTOR_URL")
    if warehouse and collector:
        return Urls(warehouse=warehouse, collector=collector)

    from ingestion.embedded_server import ensure_database, ensure_running

    base = ensure_running(embedded_data_dir())
    if not warehouse:
        warehouse = ensure_database(base, WAREHOUSE_DB)
    if not collector:
        collector = ensure_database(base, COLLECTOR_DB)
    return Urls(warehouse=warehouse, collector=collector)
