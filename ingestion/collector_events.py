"""Pull `telemetry_events` from the collector into `raw.collector_events`.

Two paths, one transaction:

- **New rows** (`id` above the watermark) stream from the collector's `COPY ... TO STDOUT`
  straight into the warehouse's `COPY ... FROM STDIN`: every row is written once, as the
  collector holds it. The collector itself tells apart the few rows that cannot pass straight
  through (invalid ones, and ones whose `decision_reason` may hold a secret); those are read
  concurrently from the same snapshot, then quarantined or redacted before they are written.
- **The overlap window** re-reads rows with lower ids whose `created_at` is within `overlap` of
  now: rows the collector's cost worker may still rewrite (tokens and `cost`, up to 24 h after
  insert, judged on the client's `created_at`) and rows committed late below the watermark. They
  land in a temp table and are merged by source id, touching only rows whose content changed.

Rerunning a window changes nothing. Retried-batch copies stay in raw; staging fingerprints them
and counts each event once.
"""

from __future__ import annotations

import pickle
import tempfile
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import psycopg.sql
from psycopg.types.json import Jsonb

from ingestion import load_log, quarantine, redaction, vocabulary, watermarks
from ingestion.load_log import LoadCounts
from ingestion.quarantine import Rejection
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
# The same columns under their names in raw.collector_events.
RAW_COLUMNS = ("source_id",) + SOURCE_COLUMNS[1:]
_VALUE_COLUMNS = RAW_COLUMNS[1:]


def _enum_list(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# First failing rule wins; the detail names fields, never values. `{t}` is the table alias.
_RULES = (
    ("missing_required_key", ("host_id", "session_id", "event_type", "agent_name", "decision",
                              "latency_ms", "created_at"), "{t}.{c} is null"),
    ("unknown_enum", (("event_type", vocabulary.EVENT_TYPES), ("decision", vocabulary.DECISIONS),
                      ("execution_type", vocabulary.EXECUTION_TYPES), ("mode", vocabulary.MODES),
                      ("model_tier", vocabulary.MODEL_TIERS)), "{t}.{c} not in {values}"),
    ("negative_value", ("latency_ms", "error_count", "prompt_tokens", "completion_tokens",
                        "total_tokens", "cached_tokens", "reasoning_tokens", "cost"),
     "{t}.{c} < 0"),
    ("future_timestamp", ("created_at",), "{t}.{c} > %(now)s::timestamptz + interval '24 hours'"),
)


def _conditions(alias: str) -> list[tuple[str, list[tuple[str, str]]]]:
    rules = []
    for reason, columns, template in _RULES:
        checks = []
        for column in columns:
            if isinstance(column, tuple):
                column, values = column
                checks.append((column, template.format(t=alias, c=column,
                                                       values=_enum_list(values))))
            else:
                checks.append((column, template.format(t=alias, c=column)))
        rules.append((reason, checks))
    return rules


def reject_reason_sql(alias: str) -> str:
    """SQL: the reason a row must be quarantined, or null."""
    whens = [f"when {' or '.join(c for _, c in checks)} then '{reason}'"
             for reason, checks in _conditions(alias)]
    return "case " + " ".join(whens) + " end"


def reject_detail_sql(alias: str) -> str:
    whens = []
    for _, checks in _conditions(alias):
        fields = ", ".join(f"case when {c} then '{column}' end" for column, c in checks)
        whens.append(f"when {' or '.join(c for _, c in checks)} then concat_ws(',', {fields})")
    return "case " + " ".join(whens) + " end"


_OVERLAP_DDL = """
create temp table _overlap_events (
    source_id bigint, host_id text, session_id text, event_type text, agent_name text,
    hook_name text, mode text, execution_type text, decision text, decision_reason text,
    tool_name text, working_dir text, latency_ms integer, model_tier text, model_name text,
    success boolean, error_count integer, extra_data jsonb, created_at timestamptz,
    prompt_tokens integer, completion_tokens integer, total_tokens integer, cached_tokens integer,
    reasoning_tokens integer, cost numeric(12, 8), client_version text, generation_id text,
    cost_fetch_retries integer
) on commit drop;
"""

_MERGE_OVERLAP = f"""
with merged as (
    insert into raw.collector_events as t ({", ".join(RAW_COLUMNS)})
    select {", ".join("i." + c for c in RAW_COLUMNS)}
    from _overlap_events as i
    on conflict (source_id) do update set
        ({", ".join(_VALUE_COLUMNS)}, _run_id, _loaded_at)
        = ({", ".join("excluded." + c for c in _VALUE_COLUMNS)}, excluded._run_id, now())
    where ({", ".join("t." + c for c in _VALUE_COLUMNS)})
        is distinct from ({", ".join("excluded." + c for c in _VALUE_COLUMNS)})
    returning (xmax = 0) as inserted
)
select count(*) filter (where inserted), count(*) filter (where not inserted) from merged
"""

# What every secret the redactor knows begins with or contains (redaction._TRIGGERS).
_TRIGGER_PATTERN = r"sk-|AKIA|ASIA|gh[pousr]_|github_pat_|xox|eyJ|://|@|PRIVATE KEY"
_SUSPECT = f"coalesce(t.decision_reason ~ '{_TRIGGER_PATTERN}', false)"
_SIDE_BATCH = 5_000
_CHUNK_BYTES = 256 * 1024


class _SideRows:
    """The few rows that cannot pass straight through: invalid ones (for quarantine) and ones
    whose decision_reason may hold a secret (for redaction). Read concurrently with the main
    stream, on a second connection sharing its snapshot, and spooled to disk past 64 MiB so
    memory stays flat whatever their number."""

    def __init__(self, source: psycopg.Connection, snapshot: str, where: str, params: dict):
        self.spool = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._read, args=(source, snapshot, where, params), daemon=True)
        self._thread.start()

    def _read(self, source, snapshot, where, params) -> None:
        try:
            info = source.info
            parameters = {**info.get_parameters(), "options": "-c TimeZone=UTC"}
            with psycopg.connect(**parameters, password=info.password) as side:
                side.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                with side.transaction():
                    side.execute(psycopg.sql.SQL("set transaction snapshot {}").format(
                        psycopg.sql.Literal(snapshot)))
                    with side.cursor(name="atw_side_rows") as cursor:
                        cursor.execute(
                            f"""select {", ".join("t." + c for c in SOURCE_COLUMNS)},
                                {reject_reason_sql('t')}, {reject_detail_sql('t')},
                                encode(sha256(convert_to(t::text, 'UTF8')), 'hex')
                            from telemetry_events as t
                            where {where}
                                and (({reject_reason_sql('t')}) is not null or {_SUSPECT})""",
                            params)
                        while rows := cursor.fetchmany(_SIDE_BATCH):
                            pickle.dump(rows, self.spool)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the loading thread
            self.error = exc

    def batches(self):
        self._thread.join()
        if self.error is not None:
            raise self.error
        self.spool.seek(0)
        while True:
            try:
                yield pickle.load(self.spool)
            except EOFError:
                return


def _stream(source, warehouse, snapshot: str, where: str, params: dict, target: str,
            run_id: str, redactions: Counter) -> tuple[int, int]:
    """Load the collector rows matching `where` into `target`. Returns (read, quarantined).

    Valid rows with nothing to redact stream as COPY blocks, untouched by Python, while the
    side rows are read concurrently; those are then redacted or quarantined and written.
    """
    side = _SideRows(source, snapshot, where, params)
    columns = ", ".join("t." + c for c in SOURCE_COLUMNS)
    main = (f"copy (select {columns} from telemetry_events as t where {where} "
            f"and ({reject_reason_sql('t')}) is null and not {_SUSPECT}) to stdout")
    into_sql = f"copy {target} ({', '.join(RAW_COLUMNS)}) from stdin"
    with warehouse.cursor() as cursor:
        with source.cursor().copy(main, params) as out, cursor.copy(into_sql) as into:
            # The server sends a message per row; writing them in large chunks halves the
            # per-row work in Python.
            chunk = bytearray()
            for block in out:
                chunk += block
                if len(chunk) >= _CHUNK_BYTES:
                    into.write(chunk)
                    chunk = bytearray()
            into.write(chunk)
        read = cursor.rowcount

    rejections: list[Rejection] = []
    reason_at, extra_at = SOURCE_COLUMNS.index("decision_reason"), SOURCE_COLUMNS.index(
        "extra_data")
    with warehouse.cursor() as cursor, cursor.copy(into_sql) as into:
        for batch in side.batches():
            for row in batch:
                values, (reason, detail, row_hash) = list(row[:-3]), row[-3:]
                read += 1
                if reason is not None:
                    rejections.append(Rejection(str(values[0]), reason, row_hash, detail))
                    continue
                values[reason_at], found = redaction.redact(values[reason_at])
                redactions.update(found)
                if values[extra_at] is not None:
                    values[extra_at] = Jsonb(values[extra_at])
                into.write_row(values)
    quarantine.record(warehouse, SOURCE, run_id, rejections)
    return read, len(rejections)


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
    redactions: Counter = Counter()
    source.rollback()
    previous_isolation = source.isolation_level
    source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        with warehouse.transaction():
            watermarks.lock(warehouse, SOURCE)
            warehouse.execute("select set_config('atw.run_id', %s, true)", (run_id,))
            old_high = int(watermarks.read(warehouse, SOURCE).high_id or 0)
            # One snapshot of the collector for every query of this pull.
            snapshot = source.execute("select pg_export_snapshot()").fetchone()[0]
            params = {"old_high": old_high, "since": now - overlap, "now": now}

            # New rows: straight into raw.
            new_read, new_rejected = _stream(
                source, warehouse, snapshot, "t.id > %(old_high)s", params,
                "raw.collector_events", run_id, redactions)

            # The overlap window: merged by source id.
            warehouse.execute(_OVERLAP_DDL)
            overlap_read, overlap_rejected = _stream(
                source, warehouse, snapshot,
                "t.id <= %(old_high)s and t.created_at > %(since)s", params,
                "_overlap_events", run_id, redactions)
            high_id = source.execute(
                "select max(id) from telemetry_events where id > %s", (old_high,)).fetchone()[0]
            source.commit()  # end the read transaction; nothing is written to the collector
            inserted, updated = warehouse.execute(_MERGE_OVERLAP).fetchone()

            counts.rows_read = new_read + overlap_read
            counts.rows_quarantined = new_rejected + overlap_rejected
            counts.rows_inserted = new_read - new_rejected + inserted
            counts.rows_updated = updated
            counts.rows_loaded = counts.rows_inserted + counts.rows_updated
            counts.rows_skipped_duplicate = (
                counts.rows_read - counts.rows_quarantined - counts.rows_loaded)
            load_log.record_redactions(warehouse, run_id, SOURCE, redactions)
            if high_id is not None:
                high_at = warehouse.execute(
                    "select max(created_at) from raw.collector_events where source_id > %s "
                    "and _run_id = %s", (old_high, run_id)).fetchone()[0]
                watermarks.advance(warehouse, SOURCE, high_id, high_at)
            load_log.record(warehouse, run_id, counts, started_at)
    finally:
        source.rollback()
        source.isolation_level = previous_isolation
    return counts
