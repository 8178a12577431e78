"""Load files dropped in ATW_LANDING_DIR: collector batch payloads (*.json) and metric/value events
(*.ndjson, *.jsonl). Each file is processed once per content hash, in one transaction with its
`raw.landed_files` record; a changed file replaces what its previous version loaded.

Every record is validated by its contract (`contract.BatchEvent`, `contract.MetricEvent`),
which also redacts it. Whatever goes wrong with one record quarantines that record; a file
that cannot be read at all gets one quarantine row; neither stops the other files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from ingestion.core import (
    load_log,
    partitions,
    quarantine,
    reconciliation,
    redaction,
    settings,
    watermarks,
)
from ingestion.core.contract_fields import (
    MAX_FUTURE,
    LoadContext,
    check,
    is_clean,
    load_context,
    parse_json,
)
from ingestion.core.copy_rows import copy_rows
from ingestion.core.load_log import LoadCounts
from ingestion.core.quarantine import Rejection, RowRejected
from ingestion.core.raw_schema import ensure_raw_schema
from ingestion.file_drops import contract

log = logging.getLogger(__name__)

BATCH_SOURCE = "landing.collector_batches"
METRIC_SOURCE = "landing.metric_events"
FORMATS = {".json": BATCH_SOURCE, ".ndjson": METRIC_SOURCE, ".jsonl": METRIC_SOURCE}
BOM = b"\xef\xbb\xbf"

BATCH_COLUMNS = (
    "file_path",
    "event_index",
    "host_id",
    "session_id",
    "event_type",
    "agent_name",
    "hook_name",
    "mode",
    "execution_type",
    "decision",
    "decision_reason",
    "tool_name",
    "working_dir",
    "latency_ms",
    "model_tier",
    "model_name",
    "success",
    "error_count",
    "extra_data",
    "created_at",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cost",
    "client_version",
    "generation_id",
    "decision_reason_redactions",
    "_run_id",
)
METRIC_COLUMNS = (
    "event_id",
    "metric",
    "agent_id",
    "tenant_id",
    "session_id",
    "trace_id",
    "span_id",
    "model_id",
    "agent_version",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "retries",
    "error_class",
    "error_code",
    "tool_calls",
    "occurred_at",
    "is_time_inferred",
    "file_path",
    "line_number",
    "_run_id",
)


def max_line_bytes() -> int:
    """Lines (and batch files) larger than this go to quarantine (ATW_MAX_LINE_BYTES, 1 MiB)."""
    return settings.integer("ATW_MAX_LINE_BYTES", 1)


def discover(directory: Path) -> list[tuple[Path, str]]:
    """Every entry named *.json, *.ndjson or *.jsonl below `directory`, files or not (an entry
    that is not a readable file is quarantined as such). Symbolic links to folders are not
    followed, so a link loop cannot stall the load."""
    if not directory.exists():
        return []
    found = []
    for folder, subfolders, files in os.walk(directory, onerror=_unlistable):
        for entry in sorted(files + subfolders):
            source = FORMATS.get(Path(entry).suffix.lower())
            if source is not None:
                found.append((Path(folder) / entry, source))
    return sorted(found)


def _unlistable(error: OSError) -> None:
    log.warning(
        "cannot list a folder under ATW_LANDING_DIR (%s); its files are skipped",
        type(error).__name__,
    )


def max_file_bytes() -> int:
    """Files larger than this are not read (ATW_MAX_FILE_BYTES, 1 GiB): one quarantine row."""
    return settings.integer("ATW_MAX_FILE_BYTES", 1)


def path_key(path: str) -> str:
    """A path as text the database can hold: bytes of a file name that are not UTF-8 (Linux
    allows them) become U+FFFD."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_file(path: Path) -> tuple[bytes | None, float | None, str | None]:
    """(content, modification time, None), or (None, None, why) for an entry that is not a
    regular file (a folder, a FIFO that would block, a device), is too large, vanished or may
    not be read. The why is an exception's class or a fixed phrase, never a value."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            return None, None, "not a regular file"
        if status.st_size > max_file_bytes():
            return None, None, "larger than ATW_MAX_FILE_BYTES"
        return path.read_bytes(), status.st_mtime, None
    except (OSError, MemoryError) as error:
        return None, None, type(error).__name__


def strip_bom(data: bytes) -> bytes:
    """Text editors on Windows start UTF-8 files with a byte-order mark: it is not data."""
    return data[len(BOM) :] if data.startswith(BOM) else data


RAW_TABLES = {
    BATCH_SOURCE: "raw.landed_collector_events",
    METRIC_SOURCE: "raw.landed_metric_events",
}


def load_landing_dir(
    warehouse: psycopg.Connection,
    run_id: str,
    directory: Path | None = None,
    now: datetime | None = None,
    reconcile_all: bool = False,
) -> dict[str, LoadCounts]:
    """Process every new or changed file; returns counts per source. Then reconcile the files
    this load processed (with `reconcile_all`, every file ever loaded) with raw."""
    directory = directory or settings.landing_dir()
    ensure_raw_schema(warehouse)
    key_material = warehouse.execute("select key from raw.redaction_key").fetchone()[0].encode()
    warehouse.commit()
    totals = {BATCH_SOURCE: LoadCounts(BATCH_SOURCE), METRIC_SOURCE: LoadCounts(METRIC_SOURCE)}
    processed = []
    for path, source in discover(directory):
        # Keys are paths: redacted like any other identifier.
        key, _ = redaction.redact_identifier(
            path_key(str(path.relative_to(directory))), key_material
        )
        counts = load_file(warehouse, path, source, key, run_id, now)
        if counts is not None:
            totals[source].add(counts)
            processed.append(key)
    with warehouse.transaction():
        reconciliation.landed_files(
            warehouse, run_id, None if reconcile_all else processed, RAW_TABLES
        )
    return totals


def load_file(
    warehouse, path: Path, source: str, key: str, run_id: str, now: datetime | None = None
) -> LoadCounts | None:
    """Load one file unless this exact content was loaded before; None when skipped."""
    data, modified, why = read_file(path)
    started_at = datetime.now(UTC)
    if data is None:
        return unreadable(warehouse, source, key, run_id, why, started_at)
    digest = hashlib.sha256(data).hexdigest()
    with warehouse.transaction():
        watermarks.lock(warehouse, f"{source}:{key}")
        held = warehouse.execute(
            "select content_sha256 from raw.landed_files where file_path = %s", (key,)
        ).fetchone()
        if held and held[0] == digest:
            return None
        context = load_context(warehouse)
        if now is not None:
            context.now = now
        data = strip_bom(data)
        if source == BATCH_SOURCE:
            counts = _load_batch_file(warehouse, data, key, run_id, context)
        else:
            counts = _load_metric_file(
                warehouse, data, key, run_id, context, _file_time(modified, context)
            )
        warehouse.execute(
            """
            insert into raw.landed_files (file_path, file_format, content_sha256, size_bytes,
                rows_read, rows_loaded, rows_quarantined, rows_skipped_duplicate, run_id)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (file_path) do update set
                file_format = excluded.file_format, content_sha256 = excluded.content_sha256,
                size_bytes = excluded.size_bytes, rows_read = excluded.rows_read,
                rows_loaded = excluded.rows_loaded, rows_quarantined = excluded.rows_quarantined,
                rows_skipped_duplicate = excluded.rows_skipped_duplicate, rows_purged = 0,
                run_id = excluded.run_id, processed_at = now()
            """,
            (
                key,
                source,
                digest,
                len(data),
                counts.rows_read,
                counts.rows_loaded,
                counts.rows_quarantined,
                counts.rows_skipped_duplicate,
                run_id,
            ),
        )
        load_log.record(warehouse, run_id, counts, started_at)
    return counts


def unreadable(
    warehouse, source: str, key: str, run_id: str, why: str, started_at: datetime
) -> LoadCounts:
    """A folder named like a file, a file that vanished, may not be read or is too large: one
    quarantine row (again on every run while it stays so); the rest of the folder loads."""
    counts = LoadCounts(source, rows_read=1, rows_quarantined=1)
    with warehouse.transaction():
        quarantine.record(
            warehouse,
            source,
            run_id,
            [Rejection(key, quarantine.UNREADABLE_FILE, quarantine.row_hash(key), why)],
        )
        load_log.record(warehouse, run_id, counts, started_at)
    return counts


def _file_time(modified: float, context: LoadContext) -> datetime:
    """When a metric line without a time of its own happened: the file's modification time, or
    the load's when that is outside the accepted window (a file unpacked from an old archive,
    a clock ahead)."""
    moment = datetime.fromtimestamp(modified, tz=UTC)
    if context.floor <= moment <= context.now + MAX_FUTURE:
        return moment
    return context.now


def _payload(record) -> str:
    """A record's text for its quarantine hash, whatever it holds."""
    try:
        return json.dumps(record, sort_keys=True, ensure_ascii=True, default=repr)
    except (ValueError, RecursionError):
        return repr(type(record))


def batch_row(event: contract.BatchEvent) -> dict:
    row = event.model_dump()
    row["decision_reason_redactions"] = (row["decision_reason"] or "").count(redaction.MARKER)
    return row


def _load_batch_file(
    warehouse, data: bytes, key: str, run_id: str, context: LoadContext
) -> LoadCounts:
    counts = LoadCounts(BATCH_SOURCE)
    rejections: list[Rejection] = []
    rows = []
    redactions: Counter = Counter()
    try:
        if len(data) > max_line_bytes() * 100:
            raise RowRejected(quarantine.OVERSIZE, "batch file")
        # surrogateescape keeps invalid UTF-8 visible to the per-event text checks.
        text = data.decode("utf-8", "surrogateescape")
        payload = json.loads(text)
        if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
            raise RowRejected(quarantine.WRONG_TYPE, 'expected {"events": [...]}')
        events = payload["events"]
        clean = is_clean(text)
    except json.JSONDecodeError as error:
        rejections.append(
            Rejection(
                key,
                quarantine.MALFORMED_JSON,
                quarantine.row_hash(data),
                f"line {error.lineno} column {error.colno}",
            )
        )
        events, counts.rows_read = [], 1
    except Exception as error:  # noqa: BLE001 - any failure of the file is its quarantine row
        rejections.append(quarantine.rejection(key, _as_malformed(error), data))
        events, counts.rows_read = [], 1
    counts.rows_read += len(events)
    for index, event in enumerate(events):
        event_key = f"{key}#{index}"
        try:
            record = check(contract.BatchEvent, event, context, clean=clean)
            row = batch_row(record)
        except Exception as error:  # noqa: BLE001 - one bad event never stops the file
            rejections.append(quarantine.rejection(event_key, error, _payload(event)))
            continue
        redactions.update(context.redactions)
        row.update(file_path=key, event_index=index, _run_id=run_id)
        rows.append(row)
    warehouse.execute("delete from raw.landed_collector_events where file_path = %s", (key,))
    partitions.add_months(
        warehouse, "raw.landed_collector_events", (row["created_at"] for row in rows)
    )
    refused = copy_rows(
        warehouse,
        "raw.landed_collector_events",
        BATCH_COLUMNS,
        rows,
        key_of=lambda row: f"{row['file_path']}#{row['event_index']}",
    )
    rejections += refused
    partitions.add_months(warehouse, "raw.landed_collector_events")
    counts.rows_loaded = counts.rows_inserted = len(rows) - len(refused)
    counts.rows_quarantined = len(rejections)
    quarantine.record(warehouse, BATCH_SOURCE, run_id, rejections)
    load_log.record_redactions(warehouse, run_id, BATCH_SOURCE, redactions)
    return counts


def _as_malformed(error: BaseException) -> BaseException:
    """A whole file that is not JSON: malformed unless the reason is more specific."""
    if isinstance(error, RowRejected | RecursionError | UnicodeError):
        return error
    return RowRejected(quarantine.MALFORMED_JSON, type(error).__name__)


def metric_row(event: contract.MetricEvent, file_time: datetime) -> dict:
    value = event.value
    occurred_at = event.timestamp or value.occurred_at
    usage = value.token_usage
    return {
        "event_id": value.event_id,
        "metric": event.metric,
        "agent_id": value.agent_id,
        # Seed 001: tenantId is omitted or equals agentId when an agent is its own tenant.
        "tenant_id": value.tenant_id or value.agent_id,
        "session_id": value.session_id,
        "trace_id": value.trace_id,
        "span_id": value.span_id,
        "model_id": value.model_id,
        "agent_version": value.version,
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
        "latency_ms": value.latency_ms,
        "retries": value.retries,
        "error_class": value.error_class,
        "error_code": value.error_code,
        "tool_calls": json.dumps(
            [
                {"name": call.name, "status": call.status, "latencyMs": call.latency_ms}
                for call in value.tool_calls or []
            ]
        ),
        "occurred_at": occurred_at or file_time,
        "is_time_inferred": occurred_at is None,
    }


def _load_metric_file(
    warehouse, data: bytes, key: str, run_id: str, context: LoadContext, file_time: datetime
) -> LoadCounts:
    counts = LoadCounts(METRIC_SOURCE)
    rejections: list[Rejection] = []
    rows = []
    redactions: Counter = Counter()
    cap = max_line_bytes()
    for line_number, raw_line in enumerate(data.split(b"\n"), start=1):
        if not raw_line.strip():
            continue
        counts.rows_read += 1
        source_key = f"{key}:{line_number}"
        try:
            row = _metric_line(raw_line, cap, context, file_time)
        except Exception as error:  # noqa: BLE001 - one bad line never stops the file
            rejections.append(quarantine.rejection(source_key, error, raw_line))
            continue
        redactions.update(context.redactions)
        row.update(file_path=key, line_number=line_number, _run_id=run_id)
        rows.append(row)
    warehouse.execute("delete from raw.landed_metric_events where file_path = %s", (key,))
    warehouse.execute(
        "create temp table _incoming_metrics (like raw.landed_metric_events including defaults) "
        "on commit drop"
    )
    rejections += copy_rows(
        warehouse,
        "_incoming_metrics",
        METRIC_COLUMNS,
        rows,
        key_of=lambda row: f"{row['file_path']}:{row['line_number']}",
    )
    # eventId makes the load idempotent: the first line carrying an id wins. The key holds the
    # time as well (the table is partitioned by it), so an id already held at another time is
    # looked up; the partitions' lock, taken first, keeps concurrent loads from both adding it.
    partitions.add_months(
        warehouse, "raw.landed_metric_events", (row["occurred_at"] for row in rows)
    )
    inserted = warehouse.execute(
        sql.SQL("""
        insert into raw.landed_metric_events ({columns})
        select {columns}
        from (
            select distinct on (event_id) *
            from _incoming_metrics order by event_id, line_number
        ) as i
        where not exists (
            select 1 from raw.landed_metric_events as held where held.event_id = i.event_id
        )
        """).format(columns=sql.SQL(", ").join(map(sql.Identifier, METRIC_COLUMNS)))
    ).rowcount
    partitions.add_months(warehouse, "raw.landed_metric_events")
    counts.rows_loaded = counts.rows_inserted = inserted
    counts.rows_quarantined = len(rejections)
    counts.rows_skipped_duplicate = counts.rows_read - counts.rows_quarantined - inserted
    quarantine.record(warehouse, METRIC_SOURCE, run_id, rejections)
    load_log.record_redactions(warehouse, run_id, METRIC_SOURCE, redactions)
    return counts


def _metric_line(raw_line: bytes, cap: int, context: LoadContext, file_time: datetime) -> dict:
    if len(raw_line) > cap:
        raise RowRejected(quarantine.OVERSIZE, f"line over {cap} bytes")
    try:
        text = raw_line.decode("utf-8")
    except UnicodeDecodeError:
        raise RowRejected(quarantine.INVALID_UTF8, "line is not UTF-8") from None
    return metric_row(
        check(contract.MetricEvent, parse_json(text), context, clean=is_clean(text)), file_time
    )
