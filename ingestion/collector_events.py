"""Pull `telemetry_events` from the collector into `raw.collector_events`.

Rows stream from the collector's COPY straight into the warehouse's COPY (no row-by-row work
in Python), land in a temp table, and are merged by source id. Each pull re-reads an overlap
window so that rows rewritten by the collector's cost worker (up to 24 h after insert, judged on
the client's `created_at`) and rows committed late below the id watermark are picked up again;
the merge only touches rows whose content changed, so a rerun changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg

from ingestion import load_log, redaction, vocabulary, watermarks
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
    cost_fetch_retries integer, decision_reason_redactions integer not null default 0,
    reject_reason text, reject_detail text
) on commit drop
"""

# First failing rule wins. Details name fields, never values.
_VALIDATE = """
update _incoming_events set (reject_reason, reject_detail) = (
    select reason, detail from (
        select 'missing_required_key' as reason, concat_ws(',',
            case when host_id is null then 'host_id' end,
            case when session_id is null then 'session_id' end,
            case when event_type is null then 'event_type' end,
            case when agent_name is null then 'agent_name' end,
            case when decision is null then 'decision' end,
            case when latency_ms is null then 'latency_ms' end,
            case when created_at is null then 'created_at' end) as detail, 1 as rank
        union all
        select 'unknown_enum', concat_ws(',',
            case when event_type <> all(%(event_types)s) then 'event_type' end,
            case when decision <> all(%(decisions)s) then 'decision' end,
            case when execution_type <> all(%(execution_types)s) then 'execution_type' end,
            case when mode <> all(%(modes)s) then 'mode' end,
            case when model_tier <> all(%(model_tiers)s) then 'model_tier' end), 2
        union all
        select 'negative_value', concat_ws(',',
            case when latency_ms < 0 then 'latency_ms' end,
            case when error_count < 0 then 'error_count' end,
            case when prompt_tokens < 0 then 'prompt_tokens' end,
            case when completion_tokens < 0 then 'completion_tokens' end,
            case when total_tokens < 0 then 'total_tokens' end,
            case when cached_tokens < 0 then 'cached_tokens' end,
            case when reasoning_tokens < 0 then 'reasoning_tokens' end,
            case when cost < 0 then 'cost' end), 3
        union all
        select 'future_timestamp',
            case when created_at > %(now)s::timestamptz + interval '24 hours'
                then 'created_at' else '' end, 4
    ) as rules
    where detail <> ''
    order by rank
    limit 1
)
"""

_QUARANTINE = """
insert into raw.quarantine as q (source, source_key, reason_code, row_hash, detail, run_id,
    last_run_id)
select %(source)s, i.id::text, i.reject_reason,
    encode(sha256(convert_to(i::text, 'UTF8')), 'hex'), i.reject_detail, %(run_id)s, %(run_id)s
from _incoming_events as i
where i.reject_reason is not null
on conflict (source, source_key, row_hash) do update set
    last_run_id = excluded.last_run_id, last_seen_at = now()
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
    where i.reject_reason is null
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
        warehouse.execute(_VALIDATE, {
            "now": now, "event_types": list(vocabulary.EVENT_TYPES),
            "decisions": list(vocabulary.DECISIONS),
            "execution_types": list(vocabulary.EXECUTION_TYPES),
            "modes": list(vocabulary.MODES), "model_tiers": list(vocabulary.MODEL_TIERS),
        })
        warehouse.execute(_QUARANTINE, {"source": SOURCE, "run_id": run_id})
        counts.rows_quarantined = warehouse.execute(
            "select count(*) from _incoming_events where reject_reason is not null").fetchone()[0]
        redactions = _redact_decision_reasons(warehouse)
        load_log.record_redactions(warehouse, run_id, SOURCE, redactions)
        inserted, updated = warehouse.execute(_MERGE, {"run_id": run_id}).fetchone()
        counts.rows_inserted, counts.rows_updated = inserted, updated
        counts.rows_loaded = inserted + updated
        counts.rows_skipped_duplicate = (
            counts.rows_read - counts.rows_quarantined - counts.rows_loaded)
        warehouse.execute(_MARK_DUPLICATES)
        counts.rows_flagged_duplicate = warehouse.execute(
            """select count(*) from raw.collector_events as e
               inner join _incoming_events as i on i.id = e.source_id
               where e.duplicate_of_source_id is not null and e._run_id = %s""", (run_id,)
        ).fetchone()[0]

        high_id, high_at = warehouse.execute(
            "select max(id), max(created_at) from _incoming_events"
        ).fetchone()
        if high_id is not None:
            watermarks.advance(warehouse, SOURCE, high_id, high_at)
        load_log.record(warehouse, run_id, counts, started_at)
    return counts


def _redact_decision_reasons(warehouse: psycopg.Connection) -> Counter:
    rows = warehouse.execute(_REDACTION_CANDIDATES).fetchall()
    changes = []
    total: Counter = Counter()
    for source_id, text in rows:
        redacted, found = redaction.redact(text)
        if found:
            total.update(found)
            changes.append((redacted, sum(found.values()), source_id))
    if changes:
        with warehouse.cursor() as cursor:
            cursor.executemany(
                """update _incoming_events
                   set decision_reason = %s, decision_reason_redactions = %s where id = %s""",
                changes,
            )
    return total
