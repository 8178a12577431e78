"""Each ccusage 20.0.24 counting rule, on the small logs of tests/ccusage_rule_logs.py, with the
numbers worked out by hand (test_ccusage_parity.py also holds them against ccusage itself)."""

from __future__ import annotations

import subprocess

import pytest

from ingestion import price_catalogue
from ingestion.claude_code import load_projects
from ingestion.connections import connect
from orchestration.dbt_manifest import dbt_command
from tests.ccusage_rule_logs import write_rule_logs
from tests.conftest import fresh_databases


def _rows(url: str, query: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(query).fetchall()


@pytest.fixture(scope="module")
def warehouse(pg_base_url, tmp_path_factory):
    projects = tmp_path_factory.mktemp("claude") / "projects"
    write_rule_logs(projects)
    with pytest.MonkeyPatch.context() as monkeypatch:
        urls = fresh_databases(pg_base_url, monkeypatch)
        with connect(urls.warehouse) as conn:
            load_projects(conn, "rules", [projects])
            price_catalogue.refresh(conn, price_catalogue.logged_model_names(conn))
        command, env = dbt_command(
            urls.warehouse, ["build", "--quiet", "--select", "resource_type:seed", "model_prices",
                             "stg_claude_code__api_responses+",
                             "stg_claude_code__session_responses+",
                             "--exclude", "int_agent_calls_unioned+"], "target/ccusage-rules")
        subprocess.run(command, env=env, check=True)
        yield urls.warehouse


def _daily(url: str) -> dict:
    return {(day.isoformat(), project): (tokens_in, tokens_out, responses)
            for day, project, tokens_in, tokens_out, responses in _rows(
                url, "select usage_date, project, sum(input_tokens), sum(output_tokens), "
                     "sum(response_count) from marts.fct_claude_code_daily_usage group by 1, 2")}


def _sessions(url: str) -> dict:
    return {(project, session): (tokens_in, tokens_out)
            for project, session, tokens_in, tokens_out in _rows(
                url, "select project, session_id, input_tokens, output_tokens "
                     "from marts.fct_claude_code_sessions")}


def test_copies_of_one_request_count_once_the_larger_copy_winning(warehouse):
    assert _daily(warehouse)[("2026-01-05", "dup")] == (100, 20, 1)
    # The session report counts it in the first file's session (paths sorted bytewise).
    assert _sessions(warehouse)[("dup", "S1")] == (100, 20)
    assert ("dup", "S1R") not in _sessions(warehouse)


def test_a_btw_sidechain_copy_is_a_duplicate_daily_and_only_at_the_same_ms_otherwise(warehouse):
    assert _daily(warehouse)[("2026-01-06", "btw")] == (50, 5, 1)
    assert _sessions(warehouse)[("btw", "S2")] == (100, 10)


def test_request_less_lines_are_keyed_per_millisecond_daily_and_per_session_otherwise(warehouse):
    assert _daily(warehouse)[("2026-01-07", "noreq")] == (14, 2, 2)
    assert _sessions(warehouse)[("noreq", "S3")] == (7, 1)


def test_lines_without_a_message_id_all_count(warehouse):
    assert _daily(warehouse)[("2026-01-08", "noid")] == (6, 4, 2)


def test_lines_with_a_null_id_model_or_request_id_are_skipped(warehouse):
    assert not any(project == "nulls" for _, project in _daily(warehouse))
    loaded = _rows(warehouse, "select count(*), count(*) filter (where usage_countable) "
                              "from raw.claude_code_lines where project = 'nulls'")
    assert loaded == [(2, 0)]  # loaded, kept in raw, not counted


def test_progress_lines_count_in_the_daily_report_only(warehouse):
    # main 10/1 + the relayed orphan 2000/0 + the subagent response once (its relayed copy)
    assert _daily(warehouse)[("2026-01-10", "relay")] == (2040, 4, 3)
    # sessions read the logs only: main + the subagent's own line, in the parent's session
    assert _sessions(warehouse)[("relay", "S6")] == (40, 4)
    agents = dict(_rows(warehouse, "select message_id, agent_type "
                                   "from staging.stg_claude_code__api_responses "
                                   "where project = 'relay'"))
    assert agents == {"msg_main": "main", "msg_orphan": "subagent", "msg_sub": "subagent"}


def test_fast_mode_is_its_own_model_at_its_own_price(warehouse):
    [(model, cost)] = _rows(warehouse, "select model_name, cost_usd "
                                       "from marts.fct_claude_code_daily_usage "
                                       "where project = 'fast'")
    assert model == "claude-opus-4-6-fast"
    assert float(cost) == pytest.approx((1000 * 30 + 100 * 150) / 1e6)


def test_a_logged_cost_is_the_cost(warehouse):
    [(cost, source)] = _rows(warehouse, "select cost_usd, price_source "
                                        "from intermediate.int_claude_code_responses_priced "
                                        "where message_id = 'msg_logged'")
    assert (float(cost), source) == (1.23, "logged")


def test_synthetic_messages_cost_nothing_and_are_not_unpriced(warehouse):
    [(responses, cost, unpriced)] = _rows(
        warehouse, "select response_count, cost_usd, unpriced_response_count "
                   "from marts.fct_claude_code_daily_usage where project = 'synthetic'")
    assert (responses, float(cost), unpriced) == (1, 0.0, 0)
    # no tokens: not a session in ccusage's session report
    assert ("synthetic", "S9") not in _sessions(warehouse)


def test_a_settled_last_line_without_a_newline_is_read(warehouse):
    assert _daily(warehouse)[("2026-01-14", "tail")] == (5, 5, 1)


def test_a_log_in_a_session_folder_belongs_to_that_session(warehouse):
    assert _sessions(warehouse)[("nested", "S11")] == (4, 4)


def test_exactly_five_hours_later_stays_in_the_block(warehouse):
    blocks = _rows(warehouse, "select block_start_at::text, response_count "
                              "from marts.fct_usage_blocks "
                              "where block_start_at >= '2026-01-20' "
                              "and block_start_at < '2026-01-21' order by 1")
    assert blocks == [("2026-01-20 00:00:00+00", 2), ("2026-01-20 10:00:00+00", 1)]


def test_every_response_has_its_cost_or_is_counted_unpriced(warehouse):
    [(unpriced, without_cost)] = _rows(
        warehouse, "select sum(unpriced_response_count), count(*) filter (where cost_usd is null)"
                   " from marts.fct_claude_code_daily_usage")
    assert (unpriced, without_cost) == (0, 0)
