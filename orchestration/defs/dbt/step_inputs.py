"""Whether a dbt step's inputs changed since its last complete build, so a routine run with
nothing new does not start dbt for it.

A dbt step's models are functions of the raw tables they read (the dbt sources upstream of
them), of the dbt project and its vars, of the connection, and of the UTC day (models that
read `now()`). When none of these changed since the step last built its whole selection, dbt
would write the same rows again: the step records its assets as unchanged instead of running
(four dbt start-ups and every model's and test's queries, half a minute at 1 M events). The
raw tables are compared the way the incremental models read them: rows stamped at or after the
write horizon the last build took (`_loaded_at`, `raw.changed_days`, ...), so a load that
committed during that build counts as new. A source with no rule here is never unchanged.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from psycopg import sql

from ingestion.core.settings import DBT_PROJECT_DIR

# Per dbt source (schema.table): what was written since the horizon %(since)s, as rows that
# say so. Updates bump `_loaded_at`; updates and deletes of the event tables log their days in
# raw.changed_days (a source of the calls fact, so it is here too).
WRITTEN_SINCE = {
    "raw.collector_events": "select 1 from raw.collector_events where _loaded_at >= %(since)s",
    "raw.landed_collector_events": (
        "select 1 from raw.landed_collector_events where _loaded_at >= %(since)s"
    ),
    "raw.landed_metric_events": (
        "select 1 from raw.landed_metric_events where _loaded_at >= %(since)s"
    ),
    "raw.claude_code_lines": "select 1 from raw.claude_code_lines where _loaded_at >= %(since)s",
    "raw.collector_session_transcripts": (
        "select 1 from raw.collector_session_transcripts where _loaded_at >= %(since)s"
    ),
    "raw.collector_transcript_messages": (
        "select 1 from raw.collector_transcript_messages where _loaded_at >= %(since)s"
    ),
    # A file of an agent CLI read again replaces its rows, removals included: its file row
    # is stamped whenever it is read.
    "raw.agent_cli_usage": ("select 1 from raw.agent_cli_files where processed_at >= %(since)s"),
    "raw.agent_cli_tool_events": (
        "select 1 from raw.agent_cli_files where processed_at >= %(since)s"
    ),
    "raw.changed_days": "select 1 from raw.changed_days where changed_at >= %(since)s",
    "raw.claude_code_removed_lines": (
        "select 1 from raw.claude_code_removed_lines where removed_at >= %(since)s"
    ),
    # Replaced as a whole per model name (ingestion/prices/catalogue.py), only when it differs.
    "raw.model_price_catalogue": (
        "select 1 from raw.model_price_catalogue where resolved_at >= %(since)s"
    ),
}
# Read inside macros that run only at execution (`rebuild_days`, the retention horizon, the
# incremental sessions and anomalies, the Claude Code staging tables' pre-hooks), so dbt's
# graph does not list them as any model's source: every step counts them.
READ_BY_MACROS = {
    "raw.changed_days",
    "raw.retention_runs",
    "raw.downsample_runs",
    "raw.claude_code_removed_lines",
}
# Logs of which dbt reads one value: part of the fingerprint. Each run logs a retention run, but
# the models read only the latest cutoff (macros/retention.sql).
READ_VALUES = {
    "raw.retention_runs": "select max(cutoff)::text from raw.retention_runs",
    "raw.downsample_runs": "select max(cutoff)::text from raw.downsample_runs",
}

_PROJECT_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")


_MANIFEST: dict = {}


def _manifest() -> dict:
    """dbt's manifest, read again only when the file changed."""
    path = DBT_PROJECT_DIR / "target" / "manifest.json"
    stamp = path.stat().st_mtime_ns
    if _MANIFEST.get("stamp") != stamp:
        _MANIFEST.update(stamp=stamp, manifest=json.loads(path.read_text()))
    return _MANIFEST["manifest"]


def _ancestors(unique_ids: set[str], manifest: dict) -> set[str]:
    """Every node upstream of the given ones, not counting them."""
    parents = manifest["parent_map"]
    seen: set[str] = set()
    pending = [parent for node in unique_ids for parent in parents.get(node, [])]
    while pending:
        node = pending.pop()
        if node in seen or node in unique_ids:
            continue
        seen.add(node)
        pending.extend(parents.get(node, []))
    return seen


def upstream_sources(unique_ids: set[str], manifest: dict | None = None) -> set[str]:
    """The dbt sources (schema.table) that the given nodes read, directly or through other
    models."""
    manifest = manifest or _manifest()
    return READ_BY_MACROS | {
        f"{manifest['sources'][node]['schema']}.{manifest['sources'][node]['name']}"
        for node in _ancestors(unique_ids, manifest)
        if node.startswith("source.")
    }


def upstream_models(unique_ids: set[str], manifest: dict | None = None) -> set[str]:
    """The models upstream of the given nodes that are not among them (their names)."""
    manifest = manifest or _manifest()
    return {
        manifest["nodes"][node]["alias"]
        for node in _ancestors(unique_ids, manifest)
        if node.startswith("model.") and node in manifest["nodes"]
    }


def relations(unique_ids: set[str], manifest: dict | None = None) -> list[str]:
    """The tables and views the given models and seeds build (schema.identifier)."""
    manifest = manifest or _manifest()
    nodes = [manifest["nodes"][node] for node in sorted(unique_ids) if node in manifest["nodes"]]
    return [
        f"{node['schema']}.{node['alias']}"
        for node in nodes
        if node["resource_type"] in ("model", "seed")
    ]


def project_digest(folder: Path = DBT_PROJECT_DIR) -> str:
    """A digest of every file of the dbt project that shapes what it builds."""
    digest = hashlib.sha256()
    files = [folder / "dbt_project.yml"]
    for name in _PROJECT_FOLDERS:
        if (folder / name).is_dir():
            files += sorted(p for p in (folder / name).rglob("*") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(
    conn, identity: dict, sources: set[str], upstream: set[str], earlier_steps: tuple[str, ...]
) -> str:
    """What the step's result depends on besides the rows of its sources: the project, the
    `identity` (the connection, vars and arguments dbt gets), the UTC day (the database's, as
    the models read it), the values read from logs, the build watermarks of the incremental
    models it reads from other steps (`upstream`), which move when those build, in a run or by
    hand, and the records of the steps before it (`earlier_steps`): a table an earlier step
    rebuilt after a load this step's last build did not see."""
    values = {
        table: conn.execute(query).fetchone()[0]
        for table, query in sorted(READ_VALUES.items())
        if table in sources
    }
    watermarks = []
    if (
        upstream
        and conn.execute("select to_regclass('intermediate.build_watermarks')").fetchone()[0]
    ):
        watermarks = conn.execute(
            "select model_name, updated_at::text from intermediate.build_watermarks "
            "where model_name = any(%s) order by 1",
            (sorted(upstream),),
        ).fetchall()
    earlier = conn.execute(
        "select step_name, horizon::text, fingerprint from ops.dbt_step_builds "
        "where step_name = any(%s) order by 1",
        (list(earlier_steps),),
    ).fetchall()
    state = {
        "project": project_digest(),
        "identity": identity,
        "day": conn.execute("select (now() at time zone 'UTC')::date::text").fetchone()[0],
        "logs": values,
        "watermarks": watermarks,
        "earlier steps": earlier,
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def unchanged_reason(
    conn, step: str, sources: set[str], built: list[str], fingerprint_now: str
) -> tuple[bool, str]:
    """Whether the step need not run, and why (one line): it built its whole selection
    before, with the same fingerprint, every relation it builds exists, and no source it reads
    has a row written since the horizon that build took."""
    unknown = sources - set(WRITTEN_SINCE) - set(READ_VALUES)
    if unknown:
        return False, f"runs: no rule says what was written to {', '.join(sorted(unknown))}"
    last = conn.execute(
        "select horizon, fingerprint from ops.dbt_step_builds where step_name = %s", (step,)
    ).fetchone()
    if last is None:
        return False, "runs: no complete build of it is recorded"
    if last[1] != fingerprint_now:
        return False, "runs: the project, its vars, the connection, the day or a log changed"
    for relation in built:
        if conn.execute("select to_regclass(%s)", (relation,)).fetchone()[0] is None:
            return False, f"runs: {relation} is missing"
    for table in sorted(sources & set(WRITTEN_SINCE)):
        query = sql.SQL("select exists ({})").format(sql.SQL(WRITTEN_SINCE[table]))
        if conn.execute(query, {"since": last[0]}).fetchone()[0]:
            return False, f"runs: {table} has rows written since its last complete build"
    return True, (
        f"not run: nothing it reads was written since its last complete build "
        f"(horizon {last[0].isoformat()})"
    )


def record(conn, step: str, horizon: datetime, fingerprint_now: str) -> None:
    conn.execute(
        "insert into ops.dbt_step_builds (step_name, horizon, fingerprint) values (%s, %s, %s) "
        "on conflict (step_name) do update set horizon = excluded.horizon, "
        "fingerprint = excluded.fingerprint, built_at = now()",
        (step, horizon, fingerprint_now),
    )


def forget(conn, step: str) -> None:
    """A build of part of the step, or a failed one: the next run builds it whole."""
    conn.execute("delete from ops.dbt_step_builds where step_name = %s", (step,))
