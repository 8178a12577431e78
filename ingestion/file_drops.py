"""Load files dropped in LANDING_DIR: collector batch payloads (*.json) and metric/value events
(*.ndjson, *.jsonl). Each file is processed once per content hash, in one transaction with its
`raw.landed_files` record; a changed file replaces what its previous version loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ingestion import landing_parsers, load_log, quarantine, redaction, watermarks
from ingestion.copy_rows import copy_rows
from ingestion.load_log import LoadCounts
from ingestion.quarantine import Rejection, RowRejected
from ingestion.settings import PROJECT_ROOT
from ingestion.warehouse_schema import ensure_raw_schema

log = logging.getLogger(__name__)

BATCH_SOURCE = "landing.collector_batches"
METRIC_SOURCE = "landing.metric_events"
FORMATS = {".json": BATCH_SOURCE, ".ndjson": METRIC_SOURCE, ".jsonl": METRIC_SOURCE}

BATCH_COLUMNS = (
    "file_path", "event_index", "host_id", "session_id", "event_type", "agent_name", "hook_name",
    "mode", "execution_type", "decision", "decision_reason", "tool_name", "working_dir",
    "latency_ms", "model_tier", "model_name", "success", "error_count", "extra_data",
    "created_at", "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens",
    "reasoning_tokens", "cost", "client_version", "generation_id", "decision_reason_redactions",
    "_run_id",
)
METRIC_COLUMNS = (
    "event_id", "metric", "agent_id", "tenant_id", "session_id", "trace_id", "span_id",
    "model_id", "agent_version", "prompt_tokens", "completion_tokens", "latency_ms", "retries",
    "error_class", "error_code", "tool_calls", "occurred_at", "is_time_inferred", "file_path",
    "line_number", "_run_id",
)


def landing_dir() -> Path:
    return Path(os.environ.get("LANDING_DIR", PROJECT_ROOT / "landing"))


def max_line_bytes() -> int:
    """Lines (and batch files) larger than this go to quarantine (MAX_LINE_BYTES, 1 MiB)."""
    return int(os.environ.get("MAX_LINE_BYTES", str(1024 * 1024)))


def discover(directory: Path) -> list[tuple[Path, str]]:
    if not directory.exists():
        return []
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        source = FORMATS.get(path.suffix.lower())
        if source is None:
            log.info("ignoring %s: not .json, .ndjson or .jsonl", path)
            continue
        found.append((path, source))
    return found


def load_landing_dir(warehouse: psycopg.Connection, run_id: str, directory: Path | None = None,
                     now: datetime | None = None) -> dict[str, LoadCounts]:
    """Process every new or changed file; returns counts per source."""
    directory = directory or landing_dir()
    ensure_raw_schema(warehouse)
    totals = {BATCH_SOURCE: LoadCounts(BATCH_SOURCE), METRIC_SOURCE: LoadCounts(METRIC_SOURCE)}
    for path, source in discover(directory):
        counts = load_file(warehouse, path, source, str(path.relative_to(directory)), run_id,
                           now or datetime.now(UTC))
        if counts is not None:
            totals[source].add(counts)
    return totals


def load_file(warehouse, path: Path, source: str, key: str, run_id: str,
              now: datetime) -> LoadCounts | None:
    """Load one file unless this exact content was loaded before; None when skipped."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    started_at = datetime.now(UTC)
    with warehouse.transaction():
        watermarks.lock(warehouse, f"{source}:{key}")
        held = warehouse.execute(
            "select content_sha256 from raw.landed_files where file_path = %s", (key,)
        ).fetchone()
        if held and held[0] == digest:
            return None
        file_time = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        if source == BATCH_SOURCE:
            counts = _load_batch_file(warehouse, data, key, run_id, now)
        else:
            counts = _load_metric_file(warehouse, data, key, run_id, now, file_time)
        warehouse.execute(
            """
            insert into raw.landed_files (file_path, file_format, content_sha256, size_bytes,
                rows_read, rows_loaded, rows_quarantined, rows_skipped_duplicate, run_id)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (file_path) do update set
                file_format = excluded.file_format, content_sha256 = excluded.content_sha256,
                size_bytes = excluded.size_bytes, rows_read = excluded.rows_read,
                rows_loaded = excluded.rows_loaded, rows_quarantined = excluded.rows_quarantined,
                rows_skipped_duplicate = excluded.rows_skipped_duplicate,
                run_id = excluded.run_id, processed_at = now()
            """,
            (key, source, digest, len(data), counts.rows_read, counts.rows_loaded,
             counts.rows_quarantined, counts.rows_skipped_duplicate, run_id),
        )
        load_log.record(warehouse, run_id, counts, started_at)
    return counts


def _reject(rejections: list, key: str, exc: RowRejected, payload: bytes | str) -> None:
    rejections.append(Rejection(key, exc.reason_code, quarantine.row_hash(payload), exc.detail))


def _load_batch_file(warehouse, data: bytes, key: str, run_id: str, now: datetime) -> LoadCounts:
    counts = LoadCounts(BATCH_SOURCE)
    rejections: list[Rejection] = []
    rows = []
    redactions: Counter = Counter()
    try:
        if len(data) > max_line_bytes() * 100:
            raise RowRejected(quarantine.OVERSIZE, "batch file")
        # surrogateescape keeps invalid UTF-8 visible to the per-event text checks.
        payload = json.loads(data.decode("utf-8", "surrogateescape"))
        if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
            raise RowRejected(quarantine.WRONG_TYPE, 'expected {"events": [...]}')
    except (json.JSONDecodeError, RowRejected) as exc:
        reason = exc if isinstance(exc, RowRejected) else RowRejected(
            quarantine.MALFORMED_JSON, f"line {exc.lineno}: {exc.msg}")
        _reject(rejections, key, reason, data)
        payload = {"events": []}
        counts.rows_read = 1
    events = payload["events"]
    counts.rows_read += len(events)
    for index, event in enumerate(events):
        try:
            row = landing_parsers.collector_batch_event(event, now)
        except RowRejected as exc:
            _reject(rejections, f"{key}#{index}", exc,
                    json.dumps(event, sort_keys=True, ensure_ascii=True))
            continue
        reason, found = redaction.redact(row["decision_reason"] or "")
        redactions.update(found)
        row.update(file_path=key, event_index=index, _run_id=run_id,
                   decision_reason=reason if row["decision_reason"] is not None else None,
                   decision_reason_redactions=sum(found.values()),
                   extra_data=None if row["extra_data"] is None else json.dumps(row["extra_data"]))
        rows.append(row)
    warehouse.execute("delete from raw.landed_collector_events where file_path = %s", (key,))
    copy_rows(warehouse, "raw.landed_collector_events", BATCH_COLUMNS, rows)
    counts.rows_loaded = counts.rows_inserted = len(rows)
    counts.rows_quarantined = len(rejections)
    quarantine.record(warehouse, BATCH_SOURCE, run_id, rejections)
    load_log.record_redactions(warehouse, run_id, BATCH_SOURCE, redactions)
    return counts


def _load_metric_file(warehouse, data: bytes, key: str, run_id: str, now: datetime,
                      file_time: datetime) -> LoadCounts:
    counts = LoadCounts(METRIC_SOURCE)
    rejections: list[Rejection] = []
    rows = []
    cap = max_line_bytes()
    for line_number, raw_line in enumerate(data.split(b"\n"), start=1):
        if not raw_line.strip():
            continue
        counts.rows_read += 1
        source_key = f"{key}:{line_number}"
        try:
            if len(raw_line) > cap:
                raise RowRejected(quarantine.OVERSIZE, f"line over {cap} bytes")
            try:
                text = raw_line.decode("utf-8")
            except UnicodeDecodeError:
                raise RowRejected(quarantine.INVALID_UTF8, "line is not UTF-8") from None
            if "\x00" in text:
                raise RowRejected(quarantine.NUL_BYTE, "line")
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RowRejected(quarantine.MALFORMED_JSON, exc.msg) from None
            row = landing_parsers.metric_event(record, now, file_time)
        except RowRejected as exc:
            _reject(rejections, source_key, exc, raw_line)
            continue
        row.update(file_path=key, line_number=line_number, _run_id=run_id,
                   tool_calls=json.dumps(row["tool_calls"]))
        rows.append(row)
    warehouse.execute("delete from raw.landed_metric_events where file_path = %s", (key,))
    warehouse.execute(
        "create temp table _incoming_metrics (like raw.landed_metric_events including defaults) "
        "on commit drop")
    copy_rows(warehouse, "_incoming_metrics", METRIC_COLUMNS, rows)
    # eventId makes the load idempotent: the first line carrying an id wins.
    inserted = warehouse.execute(
        f"""
        insert into raw.landed_metric_events ({', '.join(METRIC_COLUMNS)})
        select distinct on (event_id) {', '.join(METRIC_COLUMNS)}
        from _incoming_metrics order by event_id, line_number
        on conflict (event_id) do nothing
        """
    ).rowcount
    counts.rows_loaded = counts.rows_inserted = inserted
    counts.rows_quarantined = len(rejections)
    counts.rows_skipped_duplicate = len(rows) - inserted
    quarantine.record(warehouse, METRIC_SOURCE, run_id, rejections)
    return counts
