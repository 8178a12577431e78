"""Pull `telemetry_events` from the collector into `raw.collector_events`.

Two paths, one transaction:

- **New rows** (`id` above the watermark) stream from the collector's `COPY ... TO STDOUT`
  straight into the warehouse's `COPY ... FROM STDIN`: every row is written once, as the
  collector holds it, except that the collector's own query redacts secrets in
  `decision_reason` (so none crosses the wire). No row passes through Python. A concurrent
  query on the same snapshot finds the invalid rows, which then move to `raw.quarantine` in the
  same transaction, and counts the redactions.
- **The overlap window** re-reads rows with lower ids whose `created_at` is within `overlap` of
  now: rows the collector's cost worker may still rewrite (tokens and `cost`, up to 24 h after
  insert, judged on the client's `created_at`) and rows committed late below the watermark. They
  land in a temp table and are merged by source id, touching only rows whose content changed.

Rerunning a window changes nothing. Retried-batch copies stay in raw; staging fingerprints them
and counts each event once.
"""

from __future__ import annotations

import pickle
import re
import tempfile
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import psycopg.sql

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

# The collector redacts decision_reason in its own COPY query (redaction.sql_redact), so no
# secret crosses the wire or is written, and no row needs Python. `%` doubled: the query has
# bind parameters.
_REDACTED_REASON = redaction.sql_redact("t.decision_reason").replace("%", "%%")
_SUSPECT = ("t.decision_reason like any (array["
            + ", ".join(f"'{t}'" for t in redaction.SQL_TRIGGERS) + "])").replace("%", "%%")
_MARKER = re.compile(r"\[REDACTED:([a-z_]+)\]")
_CHUNK_BYTES = 256 * 1024
_SIDE_BATCH = 5_000


class _SideRows:
    """What the main stream cannot tell by itself: the invalid rows (to quarantine) and the
    redactions made (to count), read concurrently on a second connection sharing the main
    query's snapshot, and spooled to disk past 64 MiB so memory stays flat whatever their
    number."""

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
                            f"""select t.id, {reject_reason_sql('t')}, {reject_detail_sql('t')},
                                encode(sha256(convert_to(t::text, 'UTF8')), 'hex'),
                                case when {_SUSPECT} then {_REDACTED_REASON} end
                            from telemetry_events as t
                            where {where}
                                and (({reject_reason_sql('t')}) is not null or {_SUSPECT})""",
                            params)
                        while rows := cursor.fetchmany(_SIDE_BATCH):
                            pickle.dump(rows, self.spool)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the loading thread
            self.error = exc

    def outcome(self) -> tuple[list[Rejection], Counter]:
        """Rejections, and redactions per kind among the rows that load."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        rejections: list[Rejection] = []
        redactions: Counter = Counter()
        self.spool.seek(0)
        while True:
            try:
                batch = pickle.load(self.spool)
            except EOFError:
                return rejections, redactions
            for source_id, reason, detail, row_hash, redacted in batch:
                if reason is not None:
                    rejections.append(Rejection(str(source_id), reason, row_hash, detail))
                elif redacted:
                    redactions.update(_MARKER.findall(redacted))


def _stream(source, warehouse, snapshot: str, where: str, params: dict, target: str,
            run_id: str, redactions: Counter) -> tuple[int, int]:
    """COPY the collector rows matching `where` into `target`, then move the invalid ones to
    quarantine. Returns (rows read, rows quarantined)."""
    side = _SideRows(source, snapshot, where, params)
    columns = ", ".join(_REDACTED_REASON if c == "decision_reason" else "t." + c
                        for c in SOURCE_COLUMNS)
    select = f"copy (select {columns} from telemetry_events as t where {where}) to stdout"
    with warehouse.cursor() as cursor:
        with source.cursor().copy(select, params) as out, cursor.copy(
            f"copy {target} ({', '.join(RAW_COLUMNS)}) from stdin"
        ) as into:
            # The server sends a message per row; writing in large chunks saves Python work.
            chunk = bytearray()
            for block in out:
                chunk += block
                if len(chunk) >= _CHUNK_BYTES:
                    into.write(chunk)
                    chunk = bytearray()
            into.write(chunk)
        read = cursor.rowcount
    rejections, found = side.outcome()
    redactions.update(found)
    if rejections:
        warehouse.execute(
            psycopg.sql.SQL("delete from {} where source_id = any(%s)").format(
                psycopg.sql.SQL(target)),
            ([int(r.source_key) for r in rejections],))
        quarantine.record(warehouse, SOURCE, run_id, rejections)
    return read, len(rejections)


def pull_events(
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    run_id: str,
    overlap: timedelta = DEFAULT_OVERLAP,
    now: datetime | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> LoadCounts:
    """Load new and recently rewritten collector events; returns what happened to each row.

    `window` (start inclusive, end exclusive) re-reads every row created in it as well, merged
    by source id like the overlap: a backfill of those days, idempotent."""
    ensure_raw_schema(warehouse)
    started_at = datetime.now(UTC)
    now = now or started_at
    counts = LoadCounts(source=SOURCE)
    redactions: Counter = Counter()
    source.rollback()
    previous_isolation = source.isolation_level
    # One snapshot of the collector for every query of this pull.
    source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        with warehouse.transaction():
            watermarks.lock(warehouse, SOURCE)
            warehouse.execute("select set_config('atw.run_id', %s, true)", (run_id,))
            old_high = int(watermarks.read(warehouse, SOURCE).high_id or 0)
            snapshot = source.execute("select pg_export_snapshot()").fetchone()[0]
            start, end = window or (now, now)
            params = {"old_high": old_high, "since": now - overlap, "now": now,
                      "window_start": start, "window_end": end}

            # New rows: straight into raw.
            new_read, new_rejected = _stream(
                source, warehouse, snapshot, "t.id > %(old_high)s", params,
                "raw.collector_events", run_id, redactions)

            # The overlap window: merged by source id.
            warehouse.execute(_OVERLAP_DDL)
            overlap_read, overlap_rejected = _stream(
                source, warehouse, snapshot,
                "t.id <= %(old_high)s and (t.created_at > %(since)s or (t.created_at >= "
                "%(window_start)s and t.created_at < %(window_end)s))", params,
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
                # The id is the mark; the overlap is judged on the collector's clock.
                watermarks.advance(warehouse, SOURCE, high_id, None)
            load_log.record(warehouse, run_id, counts, started_at)
    finally:
        source.rollback()
        source.isolation_level = previous_isolation
    return counts
