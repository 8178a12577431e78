"""Incremental facts rebuild whole UTC days: exactly the days whose raw rows changed."""

import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from psycopg import sql

from ingestion.agent_cli import loader as agent_cli_loader
from ingestion.agent_cli import sources as agent_cli_sources
from ingestion.all_sources import load_all_sources
from ingestion.core.connections import connect
from ingestion.prices import catalogue as price_catalogue
from orchestration.defs.dbt.manifest import run_dbt

# No safety margin, so that the rows this test loaded a moment ago do not count as late.
VARS = json.dumps({"incremental_loaded_at_margin_hours": 0})


def _build(url, *args):
    run_dbt(
        url,
        [
            "build",
            "--quiet",
            "--select",
            "+int_agent_calls_unioned",
            "--indirect-selection",
            "buildable",
            "--vars",
            VARS,
            *args,
        ],
        "target/incremental",
        check=True,
    )


def _pairs(url, query) -> dict:
    """A two-column query's rows as a dict."""
    with connect(url) as conn:
        return dict(conn.execute(query).fetchall())


def _days(url):
    with connect(url) as conn:
        return {
            day: (calls, tokens, rebuilt)
            for day, calls, tokens, rebuilt in conn.execute(
                "select call_date, count(*), sum(total_tokens), max(rebuilt_at) "
                "from intermediate.int_agent_calls_unioned group by 1"
            ).fetchall()
        }


def _staged_calls(url):
    """Calls per day as the staging views, which always read raw, count them."""
    with connect(url) as conn:
        return dict(
            conn.execute(
                "select occurred_at::date, count(*) from staging.stg_collector__telemetry_events "
                "group by 1"
            ).fetchall()
        )


def test_an_incremental_run_rebuilds_exactly_the_changed_days(small_collector):
    urls = small_collector
    load_all_sources(urls, "incremental-1")
    _build(urls.warehouse)
    before = _days(urls.warehouse)
    old_days = sorted(before)[:-4]  # older than the lookback window
    changed, emptied = old_days[2], old_days[5]
    with connect(urls.warehouse) as conn:
        reporting = conn.execute(
            "select count(*) from staging.stg_collector__telemetry_events "
            "where occurred_at::date = %s and prompt_tokens is not null",
            (changed,),
        ).fetchone()[0]
        conn.execute(
            "update raw.collector_events set prompt_tokens = prompt_tokens + 1000 "
            "where created_at::date = %s and prompt_tokens is not null",
            (changed,),
        )
        conn.execute("delete from raw.collector_events where created_at::date = %s", (emptied,))
    _build(urls.warehouse)
    after = _days(urls.warehouse)

    assert emptied not in after
    rebuilt = {day for day in after if after[day][2] != before[day][2]}
    assert rebuilt == {changed}
    assert {day: calls for day, (calls, _, _) in after.items()} == _staged_calls(urls.warehouse)
    assert reporting > 0
    assert after[changed][1] == before[changed][1] + 1000 * reporting
    assert all(after[day] == before[day] for day in after if day != changed)


def test_a_build_right_after_a_bulk_load_reads_only_what_came_since(small_collector):
    """With the default late-load margin (6 h), a build minutes after the first rebuilds nothing
    (and no more than the lookback days, were there any): the watermark is the write horizon
    the first build took, not its start less the margin, which would count the whole bulk load
    as late."""
    urls = small_collector
    load_all_sources(urls, "incremental-horizon")
    run_dbt(
        urls.warehouse,
        ["build", "--quiet", "--select", "+int_calls_daily", "--indirect-selection", "buildable"],
        "target/incremental",
        check=True,
    )
    with connect(urls.warehouse) as conn:
        stored = dict(
            conn.execute(
                "select model_name, built_from from intermediate.build_watermarks"
            ).fetchall()
        )
    assert set(stored) == {
        "int_agent_calls_unioned",
        "int_calls_daily",
        "stg_claude_code__api_responses",
        "int_claude_code_responses_priced",
        "stg_agent_cli__usage",
        "int_agent_cli_usage_priced",
    }
    # Not the build's start less the margin: after every row the bulk load wrote.
    with connect(urls.warehouse) as conn:
        loaded = conn.execute("select max(_loaded_at) from raw.collector_events").fetchone()[0]
    assert stored["int_agent_calls_unioned"] > loaded
    # Nor later than the Claude Code table the fact read (built before it in the run).
    assert stored["int_agent_calls_unioned"] <= stored["stg_claude_code__api_responses"]
    # The priced table follows its staging table's changes: never a later watermark.
    assert stored["int_claude_code_responses_priced"] <= stored["stg_claude_code__api_responses"]
    # So do the agent CLI tables, and the fact theirs.
    assert stored["int_agent_cli_usage_priced"] <= stored["stg_agent_cli__usage"]
    assert stored["int_agent_calls_unioned"] <= stored["int_agent_cli_usage_priced"]
    before = _days(urls.warehouse)
    run_dbt(
        urls.warehouse,
        ["run", "--quiet", "--select", "int_agent_calls_unioned"],
        "target/incremental",
        check=True,
    )
    after = _days(urls.warehouse)
    rebuilt = {day for day in after if after[day][2] != before[day][2]}
    # Nothing: no row came since (and no lookback days by default).
    assert rebuilt == set()


def _build_without_lookback(selection: str) -> list[str]:
    """dbt build arguments without the lookback days, which a run rebuilds whatever changed."""
    no_lookback = json.dumps({**json.loads(VARS), "incremental_lookback_days": 0})
    return [
        "build",
        "--quiet",
        "--select",
        selection,
        "--indirect-selection",
        "buildable",
        "--vars",
        no_lookback,
    ]


def test_a_run_with_nothing_new_rebuilds_nothing(small_collector):
    """No raw row changed: the fact and the models built from it rewrite no row (an empty set
    of changed days once meant a full build), and keep every row."""
    urls = small_collector
    load_all_sources(urls, "incremental-nothing")
    args = _build_without_lookback("+int_tool_calls +int_calls_daily")
    run_dbt(urls.warehouse, args, "target/incremental", check=True)

    def written():
        # The newest writing transaction of each table, and its rows.
        with connect(urls.warehouse) as conn:
            return {
                table: conn.execute(
                    sql.SQL("select count(*), max(xmin::text::bigint) from {}").format(
                        sql.Identifier("intermediate", table)
                    )
                ).fetchone()
                for table in ("int_agent_calls_unioned", "int_tool_calls", "int_calls_daily")
            }

    before = written()
    run_dbt(urls.warehouse, args, "target/incremental", check=True)
    assert before["int_agent_calls_unioned"][0] > 0
    assert written() == before


def test_a_changed_price_reprices_the_calls_of_its_model(small_collector):
    """A model's prices changed (the catalogue resolved new ones, a seed was edited): every
    day with its calls is rebuilt, however old, and no other model's cost moves."""
    urls = small_collector
    load_all_sources(urls, "incremental-prices")
    with connect(urls.warehouse) as conn:
        price_catalogue.refresh(conn, price_catalogue.logged_model_names(conn))
    args = _build_without_lookback("+int_agent_calls_unioned")
    run_dbt(urls.warehouse, args, "target/incremental", check=True)

    def costs():
        return _pairs(
            urls.warehouse,
            "select model_name, sum(cost_usd) from intermediate.int_agent_calls_unioned "
            "where cost_basis = 'priced' group by 1",
        )

    before = costs()
    model = max(before, key=lambda name: before[name] or 0)
    with connect(urls.warehouse) as conn:
        conn.execute(
            "update raw.model_price_catalogue set input_per_mtok = input_per_mtok * 2, "
            "output_per_mtok = output_per_mtok * 2 where model_name = %s",
            (model,),
        )
    run_dbt(urls.warehouse, args, "target/incremental", check=True)
    after = costs()
    assert before[model] > 0
    assert after[model] > before[model] * 3 / 2
    assert {k: v for k, v in after.items() if k != model} == {
        k: v for k, v in before.items() if k != model
    }


# A margin, so that the write horizon waits for a load still open (with none it is now).
WITH_MARGIN = json.dumps({"incremental_loaded_at_margin_hours": 1})


def _run(url, *models: str) -> None:
    run_dbt(
        url,
        ["run", "--quiet", "--select", *models, "--vars", WITH_MARGIN],
        "target/incremental",
        check=True,
    )


def test_a_load_committing_between_the_claude_code_tables_and_the_fact_is_read_next_time(
    small_collector,
):
    """A Claude Code load open while the staging tables are built and committed before the
    calls fact takes its horizon: the fact sees the line in raw but reads the tables without
    it. Its watermark stays at the tables' horizon, so the next build rebuilds the line's day
    from tables that hold it (stored at its own horizon, the day would never be rebuilt)."""
    urls = small_collector
    load_all_sources(urls, "incremental-race")
    tables = ["stg_claude_code__api_responses", "stg_claude_code__tool_calls"]
    _build(urls.warehouse)
    with connect(urls.warehouse) as load:
        load.execute("select set_config('atw.run_id', 'incremental-race', true)")
        # One assistant line with usage, the way the Claude Code loader writes it.
        load.execute(
            "insert into raw.claude_code_lines (file_path, line_number, project, "
            "file_session_id, line_type, session_id, uuid, occurred_at, message_id, "
            "request_id, message_role, model, input_tokens, output_tokens, usage_source, "
            "usage_countable, _run_id, _event_at) values ('/race/late.jsonl', 1, 'race', "
            "'race', 'assistant', 'race', 'race', %(at)s, 'msg_race', 'req_race', 'assistant', "
            "'claude-sonnet-4-5', 10, 20, 'message', true, 'incremental-race', %(at)s)",
            {"at": datetime(2026, 11, 20, 12, tzinfo=UTC)},
        )
        # The load is still open while the staging tables are built.
        _run(urls.warehouse, *tables, "int_claude_code_responses_priced")
    _run(urls.warehouse, "int_agent_calls_unioned")
    _run(urls.warehouse, *tables, "int_claude_code_responses_priced", "int_agent_calls_unioned")
    with connect(urls.warehouse) as conn:
        found = conn.execute(
            "select count(*) from intermediate.int_agent_calls_unioned "
            "where call_id = 'claude_code:msg_race:req_race'"
        ).fetchone()[0]
    assert found == 1


def _copilot_file(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record) + "\n")
    # Settled: left alone longer than the loader waits for a file being written.
    then = time.time() - 600
    os.utime(path, (then, then))


def test_a_later_shutdown_stops_its_sessions_span_counting_on_the_spans_day(urls, tmp_path):
    """A Copilot OTel span counts only while no shutdown of its session covers its model. The
    shutdown comes a day later, in a later load, and changes nothing of the span's day in raw:
    the agent CLI tables widen their days to the span's, and the calls fact follows the days
    the priced table rebuilt."""
    home = tmp_path / ".copilot"
    _copilot_file(
        home / "otel" / "trace.jsonl",
        {
            "type": "span",
            "traceId": "t1",
            "spanId": "s1",
            "name": "chat gpt-5.4",
            "endTime": [1780920000, 0],  # 2026-06-08 12:00 UTC
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.response.model": "gpt-5.4",
                "gen_ai.conversation.id": "sess",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 5,
            },
        },
    )
    args = _build_without_lookback("+int_agent_calls_unioned")

    def load_and_build() -> dict:
        with connect(urls.warehouse) as conn:
            agent_cli_loader.load_cli(
                conn,
                f"run-{uuid.uuid4().hex[:6]}",
                agent_cli_sources.BY_NAME["copilot_cli"],
                [home],
            )
        run_dbt(urls.warehouse, args, "target/incremental", check=True)
        return _pairs(
            urls.warehouse,
            "select call_date::text, count(*) from intermediate.int_agent_calls_unioned "
            "where source_system = 'copilot_cli' group by 1",
        )

    assert load_and_build() == {"2026-06-08": 1}
    _copilot_file(
        home / "session-state" / "sess" / "events.jsonl",
        {
            "type": "session.shutdown",
            "id": "x",
            "timestamp": "2026-06-09T10:00:00.000Z",
            "data": {
                "modelMetrics": {"gpt-5.4": {"usage": {"inputTokens": 10, "outputTokens": 5}}}
            },
        },
    )
    assert load_and_build() == {"2026-06-09": 1}

    def written() -> list[tuple]:
        with connect(urls.warehouse) as conn:
            return conn.execute(
                "select call_id, rebuilt_at from intermediate.int_agent_calls_unioned"
            ).fetchall()

    # Nothing new: the days the priced table rebuilt last time are not taken again.
    before = written()
    assert load_and_build() == {"2026-06-09": 1}
    assert written() == before
