"""Pull `telemetry_events` from the collector into `raw.collector_events`.

Two paths, one transaction:

- **New rows** (`id` above the watermark) stream from the collector's `COPY ... TO STDOUT`
  straight into the warehouse's `COPY ... FROM STDIN`: every row is written once, as the
  collector holds it. Only rows whose `decision_reason` may hold a secret (the collector
  evaluates the trigger pattern) pass through Python, to be redacted before they are written.
  Invalid rows are then moved to `raw.quarantine`.
- **The overlap window** re-reads rows with lower ids whose `created_at` is within `overlap` of
  now: rows the collector's cost worker may still rewrite (tokens and `cost`, up to 24 h after
  insert, judged on the client's `created_at`) and rows committed late below the watermark. They
  land in a temp table and are merged by source id, touching only rows whose content changed.

Rerunning a window changes nothing. Retried-batch copies stay in raw; staging fingerprints them
and counts each event once.
"""

from __future__ import annotations

import re
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
# The same columns under their names in raw.collector_events.
RAW_COLUMNS = ("source_id",) + SOURCE_COLUMNS[1:]
_VALUE_COLUMNS = RAW_COLUMNS[1:]
_REASON_FIELD = SOURCE_COLUMNS.index("decision_reason")


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


_QUARANTINE_NEW = f"""
with rejected as (
    delete from raw.collector_events as e
    where e.source_id > %(old_high)s and e._run_id = %(run_id)s
        and ({reject_reason_sql('e')}) is not null
    returning e.*
)
insert into raw.quarantine as q (source, source_key, reason_code, row_hash, detail, run_id,
    last_run_id)
select %(source)s, r.source_id::text, {reject_reason_sql('r')},
    encode(sha256(convert_to(row({", ".join("r." + c for c in RAW_COLUMNS)})::text, 'UTF8')),
           'hex'),
    {reject_detail_sql('r')}, %(run_id)s, %(run_id)s
from rejected as r
on conflict (source, source_key, row_hash) do update set
    last_run_id = excluded.last_run_id, last_seen_at = now()
returning 1
"""

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

_QUARANTINE_OVERLAP = f"""
insert into raw.quarantine as q (source, source_key, reason_code, row_hash, detail, run_id,
    last_run_id)
select %(source)s, i.source_id::text, {reject_reason_sql('i')},
    encode(sha256(convert_to(i::text, 'UTF8')), 'hex'), {reject_detail_sql('i')},
    %(run_id)s, %(run_id)s
from _overlap_events as i
where ({reject_reason_sql('i')}) is not null
on conflict (source, source_key, row_hash) do update set
    last_run_id = excluded.last_run_id, last_seen_at = now()
returning 1
"""

_MERGE_OVERLAP = f"""
with merged as (
    insert into raw.collector_events as t ({", ".join(RAW_COLUMNS)})
    select {", ".join("i." + c for c in RAW_COLUMNS)}
    from _overlap_events as i
    where ({reject_reason_sql('i')}) is null
    on conflict (source_id) do update set
        ({", ".join(_VALUE_COLUMNS)}, _run_id, _loaded_at)
        = ({", ".join("excluded." + c for c in _VALUE_COLUMNS)}, excluded._run_id, now())
    where ({", ".join("t." + c for c in _VALUE_COLUMNS)})
        is distinct from ({", ".join("excluded." + c for c in _VALUE_COLUMNS)})
    returning (xmax = 0) as inserted
)
select count(*) filter (where inserted), count(*) filter (where not inserted) from merged
"""

# What every secret the redactor knows begins with or contains (redaction._TRIGGERS). The
# collector evaluates it, so rows without a trigger stream through without touching Python.
_TRIGGER_PATTERN = r"sk-|AKIA|ASIA|gh[pousr]_|github_pat_|xox|eyJ|://|@|PRIVATE KEY"
_TRIGGERS = re.compile(_TRIGGER_PATTERN.encode())
_COPY_UNESCAPE = re.compile(rb"\\(.)")
_COPY_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"b": b"\b", b"f": b"\f", b"v": b"\v",
                 b"\\": b"\\"}


def _unescape(field: bytes) -> str:
    return _COPY_UNESCAPE.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)),
                              field).decode("utf-8")


def _escape(text: str) -> bytes:
    return (text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t").encode("utf-8"))


class RedactingCopyStream:
    """Rewrites `decision_reason` in COPY text rows; blocks without a trigger pass untouched."""

    def __init__(self, field_index: int):
        self.field_index = field_index
        self.pending = b""
        self.redactions: Counter = Counter()

    def feed(self, block: bytes) -> bytes:
        data = self.pending + bytes(block)
        cut = data.rfind(b"\n") + 1
        self.pending, data = data[cut:], data[:cut]
        if not _TRIGGERS.search(data):
            return data
        return b"".join(self._row(line) for line in data.splitlines(keepends=True))

    def finish(self) -> bytes:
        rest, self.pending = self.pending, b""
        return self._row(rest) if rest else b""

    def _row(self, line: bytes) -> bytes:
        if not _TRIGGERS.search(line):
            return line
        fields = line.rstrip(b"\n").split(b"\t")
        value = fields[self.field_index]
        if value == b"\\N":
            return line
        redacted, found = redaction.redact(_unescape(value))
        if not found:
            return line
        self.redactions.update(found)
        fields[self.field_index] = _escape(redacted)
        return b"\t".join(fields) + (b"\n" if line.endswith(b"\n") else b"")


def _stream(source, warehouse, where: str, params: tuple, target: str,
            stream: RedactingCopyStream) -> int:
    """COPY the collector rows matching `where` into `target`; returns how many were written.

    Two passes: rows whose decision_reason may hold a secret go through the redactor, the
    rest pass through as COPY blocks.
    """
    written = 0
    columns = ", ".join(SOURCE_COLUMNS)
    for suspect in (False, True):
        trigger = f"coalesce(decision_reason ~ '{_TRIGGER_PATTERN}', false)"
        select = (f"copy (select {columns} from telemetry_events where {where} and "
                  f"{'' if suspect else 'not '}{trigger}) to stdout")
        with warehouse.cursor() as cursor:
            with source.cursor().copy(select, params) as out, cursor.copy(
                f"copy {target} ({', '.join(RAW_COLUMNS)}) from stdin"
            ) as into:
                if suspect:
                    for block in out:
                        into.write(stream.feed(block))
                    into.write(stream.finish())
                else:
                    for block in out:
                        into.write(block)
            written += cursor.rowcount
    return written


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
        warehouse.execute("select set_config('atw.run_id', %s, true)", (run_id,))
        old_high = int(watermarks.read(warehouse, SOURCE).high_id or 0)
        stream = RedactingCopyStream(_REASON_FIELD)

        # New rows: straight into raw.
        copied = _stream(source, warehouse, "id > %s", (old_high,), "raw.collector_events",
                         stream)
        params = {"old_high": old_high, "source": SOURCE, "run_id": run_id, "now": now}
        rejected_new = warehouse.execute(_QUARANTINE_NEW, params).rowcount

        # The overlap window: merged by source id.
        warehouse.execute(_OVERLAP_DDL)
        overlap_rows = _stream(source, warehouse, "id <= %s and created_at > %s",
                               (old_high, now - overlap), "_overlap_events", stream)
        source.commit()  # end the source's read transaction; nothing there is written
        rejected_overlap = warehouse.execute(_QUARANTINE_OVERLAP, params).rowcount
        inserted, updated = warehouse.execute(_MERGE_OVERLAP, params).fetchone()

        counts.rows_read = copied + overlap_rows
        counts.rows_quarantined = rejected_new + rejected_overlap
        counts.rows_inserted = copied - rejected_new + inserted
        counts.rows_updated = updated
        counts.rows_loaded = counts.rows_inserted + counts.rows_updated
        counts.rows_skipped_duplicate = (
            counts.rows_read - counts.rows_quarantined - counts.rows_loaded)
        load_log.record_redactions(warehouse, run_id, SOURCE, stream.redactions)

        high_id, high_at = warehouse.execute(
            "select max(source_id), max(created_at) from raw.collector_events "
            "where source_id > %s and _run_id = %s", (old_high, run_id)).fetchone()
        quarantined_high = warehouse.execute(
            "select max(source_key::bigint) from raw.quarantine where source = %s "
            "and last_run_id = %s", (SOURCE, run_id)).fetchone()[0]
        high_id = max(x for x in (high_id, quarantined_high, old_high) if x is not None)
        if high_id > old_high:
            watermarks.advance(warehouse, SOURCE, high_id, high_at)
        load_log.record(warehouse, run_id, counts, started_at)
    return counts
