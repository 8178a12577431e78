"""Collector → raw: COPY-based, incremental, idempotent."""

import json
from datetime import timedelta

import psycopg
from psycopg import sql

from devtools.sample_data.collector_generator import upsert_transcript
from devtools.sample_data.cost_worker import run_cost_worker
from ingestion.collector.events import pull_events
from ingestion.collector.transcripts import pull_transcripts
from ingestion.core import reconciliation
from ingestion.core.connections import connect
from tests.conftest import (
    RAW_TABLES,
    SAMPLE_END,
    content_checksums,
    insert_collector_events,
    table_checksum,
)


def _pull(urls, run_id, now=SAMPLE_END):
    with connect(urls.collector) as source, connect(urls.warehouse) as warehouse:
        events = pull_events(source, warehouse, run_id, now=now)
        transcripts, _ = pull_transcripts(source, warehouse, run_id)
    return events, transcripts


def test_loading_twice_gives_identical_raw_tables(small_collector):
    first_events, first_transcripts = _pull(small_collector, "first")
    before = {t: table_checksum(small_collector.warehouse, t, o) for t, o in RAW_TABLES.items()}
    second_events, second_transcripts = _pull(small_collector, "second")
    after = {t: table_checksum(small_collector.warehouse, t, o) for t, o in RAW_TABLES.items()}
    assert before == after  # not even _loaded_at or _run_id moved
    assert first_events.rows_inserted > 0 and second_events.rows_inserted == 0
    assert second_events.rows_updated == 0
    # The overlap window re-reads rows already held: skipped, not loaded again.
    assert second_events.rows_read == second_events.rows_skipped_duplicate
    assert second_transcripts.rows_loaded == 0
    with connect(small_collector.warehouse) as conn:
        log = conn.execute(
            "select source, rows_read, rows_loaded + rows_quarantined + rows_skipped_duplicate "
            "from raw.load_log"
        ).fetchall()
    # One row per load of events and per committed batch of transcripts, every one balanced.
    assert {source for source, _, _ in log} == {
        "collector.telemetry_events",
        "collector.session_transcripts",
        "collector.session_transcripts.messages",
    }
    assert all(read == accounted for _, read, accounted in log)


def test_every_collector_row_lands_once_as_the_collector_holds_it(small_collector):
    _pull(small_collector, "r1")
    with connect(small_collector.collector) as source:
        source_ids = source.execute("select count(*) from telemetry_events").fetchone()[0]
        messages = source.execute(
            "select sum(jsonb_array_length(case when jsonb_typeof(transcript_data) = 'string' "
            "then (transcript_data #>> '{}')::jsonb else transcript_data end)) "
            "from session_transcripts"
        ).fetchone()[0]
    with connect(small_collector.warehouse) as conn:
        loaded, strings = conn.execute(
            "select count(*), count(*) filter (where jsonb_typeof(extra_data) = 'string') "
            "from raw.collector_events"
        ).fetchone()
        loaded_messages, estimated = conn.execute(
            "select count(*), bool_and(is_token_estimate and token_count >= 0) "
            "from raw.collector_transcript_messages"
        ).fetchone()
    assert loaded == source_ids
    assert strings > 0  # raw keeps double-encoded values; staging unwraps them
    assert loaded_messages == messages and estimated


def test_cost_worker_rewrites_are_picked_up_by_the_next_pull(small_collector):
    _pull(small_collector, "before-worker")
    with connect(small_collector.collector) as source:
        updated = run_cost_worker(source, now=SAMPLE_END + timedelta(minutes=30))
        source.commit()
        expected = source.execute(
            "select sum(prompt_tokens), sum(cost) from telemetry_events"
        ).fetchone()
    assert updated > 0
    events, _ = _pull(small_collector, "after-worker", now=SAMPLE_END + timedelta(minutes=31))
    assert events.rows_updated >= updated
    with connect(small_collector.warehouse) as conn:
        got = conn.execute(
            "select sum(prompt_tokens), sum(cost) from raw.collector_events"
        ).fetchone()
    assert got == expected


def test_transcript_is_repulled_when_updated_at_moves(small_collector):
    _pull(small_collector, "first")
    with connect(small_collector.collector) as source:
        session_id, host_id = source.execute(
            "select session_id, host_id from session_transcripts limit 1"
        ).fetchone()
        upsert_transcript(
            source,
            host_id,
            session_id,
            [
                {"role": "user", "content": "mail me at dev@example.com", "index": 0},
                {"role": "assistant", "content": "Done.", "index": 1},
            ],
        )
        source.commit()
    _, transcripts = _pull(small_collector, "second")
    assert transcripts.rows_updated == 1
    with connect(small_collector.warehouse) as conn:
        rows = conn.execute(
            "select message_index, content, redaction_count from raw.collector_transcript_messages "
            "where session_id = %s order by message_index",
            (session_id,),
        ).fetchall()
        header = conn.execute(
            "select message_count, message_counts from raw.collector_session_transcripts "
            "where session_id = %s",
            (session_id,),
        ).fetchone()
    assert rows == [(0, "mail me at [REDACTED:email]", 1), (1, "Done.", 0)]
    assert header[0] == 2
    assert header[1] == json.loads('{"user": 1, "assistant": 1, "tool_result": 0}')


def test_content_of_raw_tables_is_stable_across_reruns(small_collector):
    _pull(small_collector, "a")
    first = content_checksums(small_collector.warehouse)
    _pull(small_collector, "b")
    assert content_checksums(small_collector.warehouse) == first


def test_rows_committed_late_below_the_watermark_are_picked_up(small_collector):
    """A transaction takes an id, a later one commits first and is pulled; then the first
    commits. Its id is below the watermark, yet the next pull loads it."""
    from devtools.sample_data.collector_generator import EVENT_COLUMNS

    with connect(small_collector.collector) as source:
        template = source.execute(
            sql.SQL("select {} from telemetry_events order by id desc limit 1").format(
                sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS))
            )
        ).fetchone()
    from psycopg.types.json import Jsonb

    row = list(template)
    row[EVENT_COLUMNS.index("extra_data")] = Jsonb(row[EVENT_COLUMNS.index("extra_data")])
    row[EVENT_COLUMNS.index("created_at")] = SAMPLE_END
    insert = sql.SQL("insert into telemetry_events ({}) values ({}) returning id").format(
        sql.SQL(", ").join(map(sql.Identifier, EVENT_COLUMNS)),
        sql.SQL(", ").join([sql.Placeholder()] * len(EVENT_COLUMNS)),
    )
    slow = connect(small_collector.collector)
    late_id = slow.execute(insert, row).fetchone()[0]  # not committed yet
    with connect(small_collector.collector) as fast:
        row[EVENT_COLUMNS.index("latency_ms")] += 1
        early_id = fast.execute(insert, row).fetchone()[0]
    assert early_id > late_id
    _pull(small_collector, "before-late-commit")
    with connect(small_collector.warehouse) as conn:
        held = {
            r[0]
            for r in conn.execute(
                "select source_id from raw.collector_events where source_id >= %s", (late_id,)
            )
        }
    assert held == {early_id}
    slow.commit()
    slow.close()
    events, _ = _pull(small_collector, "after-late-commit")
    assert events.rows_inserted == 1
    with connect(small_collector.warehouse) as conn:
        held = {
            r[0]
            for r in conn.execute(
                "select source_id from raw.collector_events where source_id >= %s", (late_id,)
            )
        }
    assert held == {late_id, early_id}


def test_the_totals_counted_beside_the_pull_are_on_its_snapshot(small_collector):
    """A whole reconciliation counts the collector's totals on a second connection while the
    pull reads: rows committed after the pull's snapshot must not be in them, or every pull
    that meets new rows would find days out of balance."""
    urls = small_collector
    _pull(urls, "first")
    with (
        connect(urls.collector) as source,
        connect(urls.warehouse) as warehouse,
    ):
        source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        pulled_at, held = source.execute(
            "select now(), count(*) from telemetry_events "
            "where created_at < now() + interval '2 days'"
        ).fetchone()
        insert_collector_events(urls.collector, "after-the-snapshot", 3)
        with reconciliation.collector_totals_ahead(source, warehouse, pulled_at) as totals:
            counted = sum(rows for rows, _, _ in totals.result().values())
        seen_now = source.execute("select count(*) from telemetry_events").fetchone()[0]
    assert counted == held == seen_now
    with connect(urls.collector) as other:
        assert other.execute("select count(*) from telemetry_events").fetchone()[0] == held + 3
