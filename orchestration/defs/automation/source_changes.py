"""What changed in the sources since the last look: cheap probes for the micro-batch sensor.

A probe never reads payloads: the collector's highest event id and newest transcript update,
and the size and modification time of every file the file loaders would read.
"""

from __future__ import annotations

from pathlib import Path

from ingestion.agent_cli.sources import CLIS
from ingestion.agent_cli.sources import discover as discover_agent_cli
from ingestion.claude_code import loader as claude_code
from ingestion.core import settings
from ingestion.core.connections import connect
from ingestion.file_drops import loader as file_drops

COLLECTOR_EVENTS = "raw/collector_events"
COLLECTOR_TRANSCRIPTS = "raw/collector_session_transcripts"
LANDING_FILES = "raw/landed_collector_events"
CLAUDE_CODE = "raw/claude_code_lines"
AGENT_CLI = "raw/agent_cli_usage"


def _files(paths) -> dict[str, list[int]]:
    state = {}
    for path in paths:
        try:
            stat = Path(path).stat()
        except FileNotFoundError:  # removed between listing and stat: next probe sees it
            continue
        state[str(path)] = [stat.st_size, stat.st_mtime_ns]
    return state


def probe(collector_url: str | None) -> dict:
    """The sources' state, as JSON-serializable values (a sensor cursor)."""
    high_id = transcripts_at = None
    if collector_url is not None:  # no collector configured: nothing new there
        with connect(collector_url) as conn:
            # A collector without its tables yet (a fresh install) has nothing new.
            if not conn.execute(
                "select to_regclass('session_transcripts') is null "
                "or to_regclass('telemetry_events') is null"
            ).fetchone()[0]:
                high_id, transcripts_at = conn.execute(
                    "select (select max(id) from telemetry_events), "
                    "(select max(updated_at)::text from session_transcripts)"
                ).fetchone()
    return _files_state(high_id, transcripts_at)


def _files_state(high_id, transcripts_at) -> dict:
    return {
        COLLECTOR_EVENTS: high_id,
        COLLECTOR_TRANSCRIPTS: transcripts_at,
        LANDING_FILES: _files(p for p, _ in file_drops.discover(settings.landing_dir())),
        CLAUDE_CODE: _files(
            path for root in settings.claude_projects_dirs() for path in claude_code.log_paths(root)
        ),
        AGENT_CLI: _files(
            found.log.path
            for cli in CLIS
            for found in discover_agent_cli(cli, cli.roots(), b"probe")
        ),
    }


def changed(previous: dict, current: dict) -> list[str]:
    """Asset keys (as `raw/<table>` strings) whose source has new or grown data."""
    found = []
    for key, now in current.items():
        before = previous.get(key)
        if isinstance(now, dict):
            if any(before is None or before.get(path) != state for path, state in now.items()):
                found.append(key)
        elif now is not None and now != before:
            found.append(key)
    return found
