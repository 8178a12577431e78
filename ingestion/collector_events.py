"""Pull `telemetry_events` from the collector into `raw.collector_events`.

Rows stream from the collector's COPY straight into the warehouse's COPY (no row-by-row work
in Python), land in a temp table, and are merged by source id. Each pull re-reads an overlap
window so that rows rewritten by the collector's cost worker (up to 24 h after insert, judged on
the client's `created_at`) and rows committed late below the id watermark are picked up again;
the merge only touches rows whose content changed, so a rerun changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from ingestion import load_log, redaction, watermarks
from ingestion.load_log import LoadCounts
from ingestion.warehouse_schema import ensure_raw_schema

SOURCE = "collector.telemetry_events"
# 24 h of cost-worker rewrites plus 2 h for client clocks that run behind.
DEFAULT_OVERLAP = timedelta(hours=26)

SOURCE_COLUMNS = (
    "id", "host_id", "session_id", "event_type", "agent_name", "hook_name", "mode",
    "execution_type", "decision", "decision_reason", "tool_name", "working_dir", "latency_ms",
    "model_tier", "model_name", "success", "error_count", "extra_data", "created_at",
    "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "reasoning_tokens",
    "cost", "client_version", "generation_id", "cost_fetch_retries",
)
# Columns the merge compares and overwrites (everything but the key).
_VALUE_COLUMNS = SOURCE_COLUMNS[1:]

_INCOMING_DDL = """
create temp table _incoming_events (
    id bigint, host_id text, session_id text, event_type text, agent_name text, hook_name text,
    mode text, execution_type text, decision text, decision_reason text, tool_name text,
    working_dir text, latency_ms integer, model_tier text, model_name text, success boolean,
    error_count integer, extra_data jsonb, created_at timestamptz, prompt_tokens integer,
    completion_tokens integer, total_tokens integer, cached_tokens integer,
    reasoning_tokens integer, cost numeric(12, 8), client_version text, generation_id text,
    cost_fetch_retries integer, decision_reason_redactions integer not null default 0
) on commit drop
"""

# A retried batch repeats an event under a new id; these fields identify the event itself.
_FINGERPRINT = """md5(concat_ws('|', i.host_id, i.session_id, i.agent_name, i.hook_name,
    i.tool_name, i.decision, extract(epoch from i.created_at)::text, i.latency_ms,
    i.prompt_tokens, i.completion_tokens, i.total_tokens))"""

_MERGE = f"""
with merged as (
    insert into raw.collector_events as t (
        source_id, {", ".join(_VALUE_COLUMNS)}, event_fingerprint,
        decision_reason_redactions, _run_id)
    select
        i.id, {", ".join("raw.unwrap_jsonb(i.extra_data)" if c == "extra_data" else "i." + c
                         for c in _VALUE_COLUMNS)},
        {_FINGERPRINT}, i.decision_reason_redactions, %(run_id)s
    from _incoming_events as i
    on conflict (source_id) do update set
        ({", ".join(_VALUE_COLUMNS)}, event_fingerprint, decision_reason_redactions, _run_id,
         _loaded_at)
        = ({", ".join("excluded." + c for c in _VALUE_COLUMNS)}, excluded.event_fingerprint,
           excluded.decision_reason_redactions, excluded._run_id, now())
    where ({", ".join("t." + c for c in _VALUE_COLUMNS)})
        is distinct from ({", ".join("excluded." + c for c in _VALUE_COLUMNS)})
    returning (xmax = 0) as inserted
)
select count(*) filter (where inserted), count(*) filter (where not inserted) from merged
"""

# Marks every copy but the first (lowest source id) of a fingerprint as a duplicate.
_MARK_DUPLICATES = """
with touched as (
    select distinct e.event_fingerprint
    from raw.collector_events as e
    inner join _incoming_events as i on i.id = e.source_id
),
firsts as (
    select e.event_fingerprint, min(e.source_id) as first_source_id
    from raw.collector_events as e
    inner join touched using (event_fingerprint)
    group by e.event_fingerprint
),
updated as (
    update raw.collector_events as e
    set duplicate_of_source_id = nullif(f.first_source_id, e.source_id)
    from firsts as f
    where e.event_fingerprint = f.event_fingerprint
        and e.duplicate_of_source_id is distinct from nullif(f.first_source_id, e.source_id)
    returning e.source_id
)
select count(*) from updated
"""

# Postgres regex mirroring redaction._TRIGGERS: only these rows go through Python.
_REDACTION_CANDIDATES = (
    "select id, decision_reason from _incoming_events where decision_reason ~ "
    r"'sk-|AKIA|ASIA|gh[pousr]_|github_pat_|xox|eyJ|://|@|PRIVATE KEY'"
)


def pull_events(
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    run_id: str,
    overlap: timedelta = DEFAULT_OVERLAP,
    now: datetime | None = None,
) -> LoadCounts:
    """Load new and recently rewritten collector events; returns what happened to each row."""
    ensure_raw_schema(warehouse)
    started_at = datetime.now(UTC)
    now = now or started_at
    counts = LoadCounts(source=SOURCE)
    with warehouse.transaction():
        watermarks.lock(warehouse, SOURCE)
        mark = watermarks.read(warehouse, SOURCE)
        warehouse.execute(_INCOMING_DDL)
        since = now - overlap
        select = (
            f"copy (select {', '.join(SOURCE_COLUMNS)} from telemetry_events "
            f"where id > {int(mark.high_id or 0)} or created_at > %s) to stdout"
        )
        cursor = source.cursor()
        with cursor.copy(select, (since,)) as out, warehouse.cursor().copy(
            f"copy _incoming_events ({', '.join(SOURCE_COLUMNS)}) from stdin"
        ) as into:
            for block in out:
                into.write(block)
        source.commit()  # end the source's read transaction; nothing there is written

        counts.rows_read = warehouse.execute("select count(*) from _incoming_events").fetchone()[0]
        _redact_decision_reasons(warehouse)
        inserted, updated = warehouse.execute(_MERGE, {"run_id": run_id}).fetchone()
        counts.rows_inserted, counts.rows_updated = inserted, updated
        counts.rows_unchanged = counts.rows_read - inserted - updated
        warehouse.execute(_MARK_DUPLICATES)
        counts.rows_duplicate = warehouse.execute(
            """select count(*) from raw.collector_events as e
               inner join _incoming_events as i on i.id = e.source_id
               where e.duplicate_of_source_id is not null"""
        ).fetchone()[0]

        high_id, high_at = warehouse.execute(
            "select max(id), max(created_at) from _incoming_events"
        ).fetchone()
        if high_id is not None:
            watermarks.advance(warehouse, SOURCE, high_id, high_at)
        load_log.record(warehouse, run_id, counts, started_at)
    return counts


def _redact_decision_reasons(warehouse: psycopg.Connection) -> None:
    rows = warehouse.execute(_REDACTION_CANDIDATES).fetchall()
    changes = []
    for source_id, text in rows:
        redacted, found = redaction.redact(text)
        if found:
            changes.append((redacted, sum(found.values()), source_id))
    if changes:
        with warehouse.cursor() as cursor:
            cursor.executemany(
                """update _incoming_events
                   set decision_reason = %s, decision_reason_redactions = %s where id = %s""",
                changes,
            )
