"""Pull `session_transcripts` from the collector: one row per message, redacted and token-counted.

The collector upserts a transcript by replacing its whole array and moving `updated_at`, so a
transcript is re-pulled when `updated_at` moves past what the warehouse holds, and its messages
are replaced as a whole. Transcripts stream through a server-side cursor in batches; each batch
commits together with the watermark it advances.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg

from ingestion.collector import contract
from ingestion.core import load_log, quarantine, redaction, settings, tokenizer, watermarks
from ingestion.core.contract_fields import check, load_context, parse_json
from ingestion.core.copy_rows import copy_rows
from ingestion.core.load_log import LoadCounts
from ingestion.core.quarantine import RowRejected
from ingestion.core.raw_schema import ensure_raw_schema

SOURCE = "collector.session_transcripts"
MESSAGES_SOURCE = "collector.session_transcripts.messages"
# Covers transactions that commit after a later `updated_at` was already pulled.
DEFAULT_OVERLAP = timedelta(minutes=10)

MESSAGE_COLUMNS = (
    "session_id",
    "message_index",
    "role",
    "content",
    "content_chars",
    "token_count",
    "is_token_estimate",
    "token_encoding",
    "redaction_count",
    "_run_id",
)


def parse_transcript(text: str | None) -> list:
    """The messages of a transcript's `transcript_data` (double-encoded: a JSON string holding
    the array), or RowRejected."""
    transcript = parse_json(text) if text is not None else None
    if isinstance(transcript, str):
        transcript = parse_json(transcript)
    if not isinstance(transcript, list):
        raise RowRejected(quarantine.WRONG_TYPE, "transcript_data is not an array")
    return transcript


def pull_transcripts(
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    run_id: str,
    overlap: timedelta = DEFAULT_OVERLAP,
    encoding: str | None = None,
    batch_size: int | None = None,
) -> tuple[LoadCounts, LoadCounts]:
    """Load new and re-upserted transcripts. Returns (transcript counts, message counts)."""
    encoding = encoding or tokenizer.encoding_name()
    tokenizer.load_encoding(encoding)  # fail before reading anything if it cannot load
    batch_size = batch_size or settings.integer("ATW_TRANSCRIPT_BATCH_SIZE", 1)
    ensure_raw_schema(warehouse)
    started_at = datetime.now(UTC)
    counts = LoadCounts(source=SOURCE)
    message_counts = LoadCounts(source=MESSAGES_SOURCE)
    with warehouse.transaction():
        watermarks.lock(warehouse, SOURCE)
        mark = watermarks.read(warehouse, SOURCE)
    since = (mark.high_at - overlap) if mark.high_at else datetime(1970, 1, 1, tzinfo=UTC)

    with source.transaction(), source.cursor(name="atw_transcripts") as cursor:
        collector_now = source.execute("select now()").fetchone()[0]
        cursor.itersize = batch_size
        cursor.execute(
            """
            select id, host_id, session_id, transcript_data::text, message_counts::text,
                created_at::text, updated_at::text
            from session_transcripts
            where updated_at >= %s
            order by updated_at, id
            """,
            (since,),
        )
        while batch := cursor.fetchmany(batch_size):
            batch_counts, batch_message_counts = _load_batch(
                warehouse, batch, run_id, encoding, collector_now
            )
            counts.add(batch_counts)
            message_counts.add(batch_message_counts)
    if not counts.rows_read:
        # Nothing new: the load is still on record, as every load is.
        with warehouse.transaction():
            load_log.record(warehouse, run_id, counts, started_at)
            load_log.record(warehouse, run_id, message_counts, started_at)
    return counts, message_counts


def _load_batch(warehouse, batch, run_id: str, encoding: str, collector_now: datetime):
    counts = LoadCounts(source=SOURCE, rows_read=len(batch))
    message_counts = LoadCounts(source=MESSAGES_SOURCE)
    started_at = datetime.now(UTC)
    with warehouse.transaction():
        watermarks.lock(warehouse, SOURCE)
        context = load_context(warehouse)
        ids = {
            row[0]: redaction.redact_identifier(str(row[2] or ""), context.fingerprint_key)[0]
            for row in batch
        }
        held = dict(
            warehouse.execute(
                "select session_id, updated_at from raw.collector_session_transcripts "
                "where session_id = any(%s)",
                (list(ids.values()),),
            ).fetchall()
        )
        # Times come as text: a year 10000 or `infinity` is the contract's to reject, and
        # would fail the whole batch as a native value.
        fresh = [row for row in batch if held.get(ids[row[0]]) != _moment(row[6])]
        counts.rows_skipped_duplicate = len(batch) - len(fresh)

        headers, messages, rejections, message_rejections = [], [], [], []
        redactions: Counter = Counter()
        for source_id, host_id, session_id, data, counts_text, created_at, updated_at in fresh:
            try:
                header = check(
                    contract.TranscriptHeader,
                    {
                        "host_id": host_id,
                        "session_id": session_id,
                        "message_counts": parse_json(counts_text) if counts_text else None,
                        "created_at": created_at,
                        "updated_at": updated_at,
                    },
                    context,
                )
                redactions.update(context.redactions)
                transcript = parse_transcript(data)
            except Exception as error:  # noqa: BLE001 - one bad transcript never stops a batch
                rejections.append(quarantine.rejection(str(source_id), error, data or ""))
                continue
            message_counts.rows_read += len(transcript)
            for position, message in enumerate(transcript):
                try:
                    valid = check(contract.TranscriptMessage, message, context)
                except Exception as error:  # noqa: BLE001 - one bad message never stops it
                    message_rejections.append(
                        quarantine.rejection(
                            f"{header.session_id}:{position}", error, _payload(message)
                        )
                    )
                    continue
                redactions.update(context.redactions)
                index = position if valid.index is None else valid.index
                messages.append(
                    [
                        header.session_id,
                        index,
                        valid.role,
                        valid.content,
                        len(valid.content),
                        sum(context.redactions.values()),
                    ]
                )
            headers.append(
                (
                    header.session_id,
                    source_id,
                    header.host_id,
                    header.message_counts,
                    len(transcript),
                    header.created_at,
                    header.updated_at,
                    run_id,
                )
            )
        counts.rows_quarantined = len(rejections)
        counts.rows_updated = sum(1 for h in headers if h[0] in held)
        counts.rows_inserted = len(headers) - counts.rows_updated
        counts.rows_loaded = len(headers)

        # Two messages claiming one index: the first wins, the rest are duplicates.
        seen: set = set()
        unique_messages = []
        for message in messages:
            key = (message[0], message[1])
            if key in seen:
                message_counts.rows_skipped_duplicate += 1
                continue
            seen.add(key)
            unique_messages.append(message)

        token_counts = tokenizer.count_tokens_each([m[3] for m in unique_messages], encoding)
        rows = []
        for message, tokens in zip(unique_messages, token_counts, strict=True):
            session, index, role, content, chars, redaction_count = message
            if tokens is None:
                key = f"{session}:{index}"
                message_rejections.append(
                    quarantine.Rejection(
                        key, quarantine.UNEXPECTED_ERROR, quarantine.row_hash(key), "token count"
                    )
                )
                continue
            rows.append(
                dict(
                    zip(
                        MESSAGE_COLUMNS,
                        (
                            session,
                            index,
                            role,
                            content,
                            chars,
                            tokens,
                            True,
                            encoding,
                            redaction_count,
                            run_id,
                        ),
                        strict=True,
                    )
                )
            )
        sessions = [h[0] for h in headers]
        warehouse.execute(
            "delete from raw.collector_transcript_messages where session_id = any(%s)",
            (sessions,),
        )
        message_rejections += copy_rows(
            warehouse,
            "raw.collector_transcript_messages",
            MESSAGE_COLUMNS,
            rows,
            key_of=lambda row: f"{row['session_id']}:{row['message_index']}",
        )
        message_counts.rows_quarantined = len(message_rejections)
        message_counts.rows_loaded = message_counts.rows_inserted = (
            message_counts.rows_read
            - message_counts.rows_quarantined
            - message_counts.rows_skipped_duplicate
        )
        with warehouse.cursor() as cursor:
            cursor.executemany(
                """
                insert into raw.collector_session_transcripts as t (session_id, source_id,
                    host_id, message_counts, message_count, created_at, updated_at, _run_id)
                values (%s, %s, %s, %s::jsonb, %s, %s, %s, %s)
                on conflict (session_id) do update set
                    source_id = excluded.source_id, host_id = excluded.host_id,
                    message_counts = excluded.message_counts,
                    message_count = excluded.message_count, created_at = excluded.created_at,
                    updated_at = excluded.updated_at, _run_id = excluded._run_id,
                    _loaded_at = now()
                """,
                headers,
            )
        quarantine.record(warehouse, SOURCE, run_id, rejections)
        quarantine.record(warehouse, MESSAGES_SOURCE, run_id, message_rejections)
        load_log.record_redactions(warehouse, run_id, MESSAGES_SOURCE, redactions)
        # The collector stamps updated_at itself; should a row claim a later time, the mark
        # still never passes the collector's own clock, so no later upsert is missed.
        moments = [m for m in (_moment(row[6]) for row in batch) if m is not None]
        high_at = min(max(moments), collector_now) if moments else None
        watermarks.advance(warehouse, SOURCE, max(row[0] for row in batch), high_at)
        # Each batch commits its rows, so it records its load in the same transaction: a load
        # cut short (or retried) leaves no row that no load_log row accounts for.
        load_log.record(warehouse, run_id, counts, started_at)
        load_log.record(warehouse, run_id, message_counts, started_at)
    return counts, message_counts


def _moment(text: str | None) -> datetime | None:
    """A timestamptz printed by PostgreSQL, or None where Python's calendar ends."""
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _payload(message) -> str:
    try:
        return json.dumps(message, sort_keys=True, ensure_ascii=True, default=repr)
    except (ValueError, RecursionError):
        return repr(type(message))
