"""Pull `session_transcripts` from the collector: one row per message, redacted and token-counted.

The collector upserts a transcript by replacing its whole array and moving `updated_at`, so a
transcript is re-pulled when `updated_at` moves past what the warehouse holds, and its messages
are replaced as a whole. Transcripts stream through a server-side cursor in batches; each batch
commits together with the watermark it advances.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg

from ingestion import load_log, quarantine, redaction, tokenizer, vocabulary, watermarks
from ingestion.load_log import LoadCounts
from ingestion.quarantine import RowRejected
from ingestion.warehouse_schema import ensure_raw_schema

SOURCE = "collector.session_transcripts"
MESSAGES_SOURCE = "collector.session_transcripts.messages"
# Covers transactions that commit after a later `updated_at` was already pulled.
DEFAULT_OVERLAP = timedelta(minutes=10)
BATCH_SIZE = 200

MESSAGE_COLUMNS = (
    "session_id", "message_index", "role", "content", "content_chars", "token_count",
    "is_token_estimate", "token_encoding", "redaction_count", "_run_id",
)


def max_message_chars() -> int:
    """Messages longer than this go to quarantine (MAX_MESSAGE_CHARS, default 1,000,000)."""
    return int(os.environ.get("MAX_MESSAGE_CHARS", "1000000"))


def unwrap_json(text: str | None):
    """Parse a jsonb value; a JSON string holding JSON (double-encoded) is parsed again."""
    if text is None:
        return None
    value = json.loads(text)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_transcript(text: str | None) -> list:
    try:
        transcript = json.loads(text) if text is not None else None
        if isinstance(transcript, str):  # double-encoded: the string must hold JSON
            transcript = json.loads(transcript)
    except json.JSONDecodeError as exc:
        raise RowRejected(quarantine.MALFORMED_JSON, f"transcript_data: {exc.msg}") from None
    if not isinstance(transcript, list):
        raise RowRejected(quarantine.WRONG_TYPE,
                          f"transcript_data is a {type(transcript).__name__}, not an array")
    return transcript


def validate_message(message, position: int, cap: int) -> tuple[int, str, str]:
    """(index, role, content) of one message, or RowRejected."""
    if not isinstance(message, dict):
        raise RowRejected(quarantine.WRONG_TYPE, f"message is a {type(message).__name__}")
    missing = [k for k in ("role", "content") if k not in message]
    if missing:
        raise RowRejected(quarantine.MISSING_REQUIRED_KEY, ",".join(missing))
    role, content = message["role"], message["content"]
    if role not in vocabulary.MESSAGE_ROLES:
        raise RowRejected(quarantine.UNKNOWN_ENUM, "role")
    if not isinstance(content, str):
        raise RowRejected(quarantine.WRONG_TYPE, "content is not a string")
    if "\x00" in content:
        raise RowRejected(quarantine.NUL_BYTE, "content")
    try:
        content.encode("utf-8")
    except UnicodeEncodeError:
        raise RowRejected(quarantine.INVALID_UTF8, "content has unpaired surrogates") from None
    if len(content) > cap:
        raise RowRejected(quarantine.OVERSIZE, f"content over {cap} characters")
    index = message.get("index", position)
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise RowRejected(quarantine.WRONG_TYPE, "index")
    return index, role, content


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
    batch_size = batch_size or int(os.environ.get("TRANSCRIPT_BATCH_SIZE", BATCH_SIZE))
    ensure_raw_schema(warehouse)
    started_at = datetime.now(UTC)
    counts = LoadCounts(source=SOURCE)
    message_counts = LoadCounts(source=MESSAGES_SOURCE)
    with warehouse.transaction():
        watermarks.lock(warehouse, SOURCE)
        mark = watermarks.read(warehouse, SOURCE)
    since = (mark.high_at - overlap) if mark.high_at else datetime(1970, 1, 1, tzinfo=UTC)

    with source.transaction(), source.cursor(name="atw_transcripts") as cursor:
        cursor.itersize = batch_size
        cursor.execute(
            """
            select id, host_id, session_id, transcript_data::text, message_counts::text,
                created_at, updated_at
            from session_transcripts
            where updated_at >= %s
            order by updated_at, id
            """,
            (since,),
        )
        while batch := cursor.fetchmany(batch_size):
            batch_counts, batch_message_counts = _load_batch(warehouse, batch, run_id, encoding)
            counts.add(batch_counts)
            message_counts.add(batch_message_counts)
    if not counts.rows_read:
        # Nothing new: the load is still on record, as every load is.
        with warehouse.transaction():
            load_log.record(warehouse, run_id, counts, started_at)
            load_log.record(warehouse, run_id, message_counts, started_at)
    return counts, message_counts


def _load_batch(warehouse, batch, run_id: str, encoding: str):
    counts = LoadCounts(source=SOURCE, rows_read=len(batch))
    message_counts = LoadCounts(source=MESSAGES_SOURCE)
    cap = max_message_chars()
    started_at = datetime.now(UTC)
    with warehouse.transaction():
        watermarks.lock(warehouse, SOURCE)
        held = dict(warehouse.execute(
            "select session_id, updated_at from raw.collector_session_transcripts "
            "where session_id = any(%s)",
            ([row[2] for row in batch],),
        ).fetchall())
        fresh = [row for row in batch if held.get(row[2]) != row[6]]
        counts.rows_skipped_duplicate = len(batch) - len(fresh)

        headers, messages, rejections, message_rejections = [], [], [], []
        redactions: Counter = Counter()
        for source_id, host_id, session_id, data, counts_text, created_at, updated_at in fresh:
            try:
                transcript = parse_transcript(data)
            except RowRejected as rejected:
                rejections.append(quarantine.Rejection(
                    str(source_id), rejected.reason_code, quarantine.row_hash(data or ""),
                    f"session {session_id}: {rejected.detail}"))
                continue
            message_counts.rows_read += len(transcript)
            try:
                counts_json = unwrap_json(counts_text)
            except json.JSONDecodeError:
                counts_json = None
            loaded_here = 0
            for position, message in enumerate(transcript):
                try:
                    index, role, content = validate_message(message, position, cap)
                except RowRejected as rejected:
                    message_rejections.append(quarantine.Rejection(
                        f"{session_id}:{position}", rejected.reason_code,
                        quarantine.row_hash(json.dumps(message, sort_keys=True)),
                        rejected.detail))
                    continue
                redacted, found = redaction.redact(content)
                redactions.update(found)
                messages.append([session_id, index, role, redacted, len(redacted),
                                 sum(found.values())])
                loaded_here += 1
            headers.append((session_id, source_id, host_id,
                            None if counts_json is None else json.dumps(counts_json),
                            len(transcript), created_at, updated_at, run_id))
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
        message_counts.rows_quarantined = len(message_rejections)
        message_counts.rows_loaded = message_counts.rows_inserted = len(unique_messages)

        token_counts = tokenizer.count_tokens([m[3] for m in unique_messages], encoding)
        sessions = [h[0] for h in headers]
        warehouse.execute(
            "delete from raw.collector_transcript_messages where session_id = any(%s)",
            (sessions,),
        )
        with warehouse.cursor().copy(
            f"copy raw.collector_transcript_messages ({', '.join(MESSAGE_COLUMNS)}) from stdin"
        ) as copy:
            for message, tokens in zip(unique_messages, token_counts, strict=True):
                session_id, index, role, content, chars, redaction_count = message
                copy.write_row((session_id, index, role, content, chars, tokens, True, encoding,
                                redaction_count, run_id))
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
        high_at = max(row[6] for row in batch)
        watermarks.advance(warehouse, SOURCE, max(row[0] for row in batch), high_at)
        # Each batch commits its rows, so it records its load in the same transaction: a load
        # cut short (or retried) leaves no row that no load_log row accounts for.
        load_log.record(warehouse, run_id, counts, started_at)
        load_log.record(warehouse, run_id, message_counts, started_at)
    return counts, message_counts
