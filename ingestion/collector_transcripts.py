"""Pull `session_transcripts` from the collector: one row per message, redacted and token-counted.

The collector upserts a transcript by replacing its whole array and moving `updated_at`, so a
transcript is re-pulled when `updated_at` moves past what the warehouse holds, and its messages
are replaced as a whole. Transcripts stream through a server-side cursor in batches; each batch
commits together with the watermark it advances.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg

from ingestion import load_log, redaction, tokenizer, watermarks
from ingestion.load_log import LoadCounts
from ingestion.warehouse_schema import ensure_raw_schema

SOURCE = "collector.session_transcripts"
# Covers transactions that commit after a later `updated_at` was already pulled.
DEFAULT_OVERLAP = timedelta(minutes=10)
BATCH_SIZE = 200

MESSAGE_COLUMNS = (
    "session_id", "message_index", "role", "content", "content_chars", "token_count",
    "is_token_estimate", "token_encoding", "redaction_count", "_run_id",
)


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


def explode_messages(transcript) -> list[tuple[int, str, str]]:
    """(index, role, content) per message, in transcript order."""
    if not isinstance(transcript, list):
        raise ValueError(f"transcript_data is a {type(transcript).__name__}, expected an array")
    messages = []
    for position, message in enumerate(transcript):
        index = message.get("index", position) if isinstance(message, dict) else position
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        messages.append((int(index), str(role), "" if content is None else str(content)))
    return messages


def pull_transcripts(
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    run_id: str,
    overlap: timedelta = DEFAULT_OVERLAP,
    encoding: str | None = None,
) -> LoadCounts:
    encoding = encoding or tokenizer.encoding_name()
    tokenizer.load_encoding(encoding)  # fail before reading anything if it cannot load
    ensure_raw_schema(warehouse)
    started_at = datetime.now(UTC)
    counts = LoadCounts(source=SOURCE)
    with warehouse.transaction():
        watermarks.lock(warehouse, SOURCE)
        mark = watermarks.read(warehouse, SOURCE)
    since = (mark.high_at - overlap) if mark.high_at else datetime(1970, 1, 1, tzinfo=UTC)

    with source.transaction(), source.cursor(name="atw_transcripts") as cursor:
        cursor.itersize = BATCH_SIZE
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
        while batch := cursor.fetchmany(BATCH_SIZE):
            counts.add(_load_batch(warehouse, batch, run_id, encoding))
    with warehouse.transaction():
        load_log.record(warehouse, run_id, counts, started_at)
    return counts


def _load_batch(warehouse, batch, run_id: str, encoding: str) -> LoadCounts:
    counts = LoadCounts(source=SOURCE, rows_read=len(batch))
    with warehouse.transaction():
        watermarks.lock(warehouse, SOURCE)
        held = dict(warehouse.execute(
            "select session_id, updated_at from raw.collector_session_transcripts "
            "where session_id = any(%s)",
            ([row[2] for row in batch],),
        ).fetchall())
        fresh = [row for row in batch if held.get(row[2]) != row[6]]
        counts.rows_unchanged = len(batch) - len(fresh)
        counts.rows_updated = sum(1 for row in fresh if row[2] in held)
        counts.rows_inserted = len(fresh) - counts.rows_updated

        headers, messages = [], []
        for source_id, host_id, session_id, data, message_counts, created_at, updated_at in fresh:
            exploded = explode_messages(unwrap_json(data))
            counts_json = unwrap_json(message_counts)
            headers.append((session_id, source_id, host_id,
                            None if counts_json is None else json.dumps(counts_json),
                            len(exploded), created_at, updated_at, run_id))
            for index, role, content in exploded:
                redacted, found = redaction.redact(content)
                messages.append([session_id, index, role, redacted, len(redacted),
                                 sum(found.values())])
        token_counts = tokenizer.count_tokens([m[3] for m in messages], encoding)

        sessions = [h[0] for h in headers]
        warehouse.execute(
            "delete from raw.collector_transcript_messages where session_id = any(%s)",
            (sessions,),
        )
        with warehouse.cursor().copy(
            f"copy raw.collector_transcript_messages ({', '.join(MESSAGE_COLUMNS)}) from stdin"
        ) as copy:
            for message, tokens in zip(messages, token_counts, strict=True):
                session_id, index, role, content, chars, redactions = message
                copy.write_row((session_id, index, role, content, chars, tokens, True, encoding,
                                redactions, run_id))
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
        high_at = max(row[6] for row in batch)
        watermarks.advance(warehouse, SOURCE, max(row[0] for row in batch), high_at)
    return counts
