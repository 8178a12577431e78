"""The generated collector database has the real schema and reproduces the real quirks."""

from datetime import timedelta

from devtools.sample_data.collector_generator import generate_collector, upsert_transcript
from devtools.sample_data.cost_worker import run_cost_worker
from ingestion.core.connections import connect
from tests.conftest import SAMPLE_END, SMALL, table_checksum

EXPECTED_EVENT_COLUMNS = [
    ("id", "bigint"),
    ("host_id", "character varying"),
    ("session_id", "character varying"),
    ("event_type", "character varying"),
    ("agent_name", "character varying"),
    ("hook_name", "character varying"),
    ("mode", "character varying"),
    ("execution_type", "character varying"),
    ("decision", "character varying"),
    ("decision_reason", "text"),
    ("tool_name", "character varying"),
    ("working_dir", "character varying"),
    ("latency_ms", "integer"),
    ("model_tier", "character varying"),
    ("model_name", "character varying"),
    ("success", "boolean"),
    ("error_count", "integer"),
    ("extra_data", "jsonb"),
    ("created_at", "timestamp with time zone"),
    ("prompt_tokens", "integer"),
    ("completion_tokens", "integer"),
    ("total_tokens", "integer"),
    ("cached_tokens", "integer"),
    ("reasoning_tokens", "integer"),
    ("cost", "numeric"),
    ("client_version", "character varying"),
    ("generation_id", "character varying"),
    ("cost_fetch_retries", "integer"),
]


def test_schema_matches_the_collector(small_collector):
    with connect(small_collector.collector) as conn:
        columns = conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'telemetry_events' order by ordinal_position"
        ).fetchall()
        assert columns == EXPECTED_EVENT_COLUMNS
        unique = conn.execute(
            "select count(*) from pg_constraint where conname = 'unique_session'"
        ).fetchone()[0]
        assert unique == 1


def test_jsonb_is_often_double_encoded(small_collector):
    with connect(small_collector.collector) as conn:
        events = conn.execute(
            "select count(*) filter (where jsonb_typeof(extra_data) = 'string'), "
            "count(*) filter (where jsonb_typeof(extra_data) = 'object') from telemetry_events"
        ).fetchone()
        transcripts = conn.execute(
            "select count(*) filter (where jsonb_typeof(transcript_data) = 'string'), "
            "count(*) filter (where jsonb_typeof(transcript_data) = 'array') "
            "from session_transcripts"
        ).fetchone()
        inner = conn.execute(
            "select jsonb_typeof((transcript_data #>> '{}')::jsonb) from session_transcripts "
            "where jsonb_typeof(transcript_data) = 'string' limit 1"
        ).fetchone()[0]
    assert all(n > 0 for n in events + transcripts)
    assert inner == "array"


def test_retried_batches_repeat_events_under_new_ids(small_collector):
    with connect(small_collector.collector) as conn:
        repeated = conn.execute(
            """
            select count(*) from (
                select 1 from telemetry_events
                group by host_id, session_id, agent_name, hook_name, tool_name, decision,
                    created_at, latency_ms, prompt_tokens, completion_tokens
                having count(*) > 1 and count(distinct id) = count(*)
            ) as d
            """
        ).fetchone()[0]
    assert repeated > 0


def test_created_at_is_the_clients_clock(small_collector):
    with connect(small_collector.collector) as conn:
        out_of_order = conn.execute(
            """
            select count(*) from (
                select created_at < lag(created_at) over (order by id) as earlier
                from telemetry_events
            ) as t where earlier
            """
        ).fetchone()[0]
    assert out_of_order > 0


def test_cost_worker_fills_cost_and_rewrites_tokens_later(small_collector):
    with connect(small_collector.collector) as conn:
        pending = conn.execute(
            "select id, prompt_tokens, completion_tokens from telemetry_events "
            "where generation_id is not null and cost is null and cost_fetch_retries < 3"
        ).fetchall()
        assert pending, "the newest rows wait for the cost worker"
        settled_already = conn.execute(
            "select count(*) from telemetry_events where cost is not null"
        ).fetchone()[0]
        assert settled_already > 0
        run_cost_worker(conn, now=SAMPLE_END + timedelta(minutes=30))
        after = dict(
            (row[0], row[1:])
            for row in conn.execute(
                "select id, prompt_tokens, completion_tokens, cost from telemetry_events "
                "where id = any(%s)",
                ([p[0] for p in pending],),
            ).fetchall()
        )
    rewritten = [
        i
        for i, prompt, completion in pending
        if after[i][2] is not None and (after[i][0], after[i][1]) != (prompt, completion)
    ]
    assert rewritten, "the worker overwrote token columns of settled rows"


def test_transcript_upsert_replaces_the_array_and_moves_updated_at(small_collector):
    with connect(small_collector.collector) as conn:
        session_id, host_id, before = conn.execute(
            "select session_id, host_id, updated_at from session_transcripts limit 1"
        ).fetchone()
        upsert_transcript(
            conn, host_id, session_id, [{"role": "user", "content": "only this now", "index": 0}]
        )
        data, updated = conn.execute(
            "select transcript_data #>> '{}', updated_at from session_transcripts "
            "where session_id = %s",
            (session_id,),
        ).fetchone()
    assert "only this now" in data
    assert updated > before


def test_same_seed_same_data(urls, pg_base_url):
    from warehouse.embedded_server import ensure_database

    other = ensure_database(pg_base_url, "col_seed_twin_" + urls.collector.rsplit("_", 1)[-1][:8])
    for url in (urls.collector, other):
        with connect(url) as conn:
            generate_collector(conn, SMALL)
    order = "t.id"
    assert table_checksum(urls.collector, "telemetry_events", order) == table_checksum(
        other, "telemetry_events", order
    )
