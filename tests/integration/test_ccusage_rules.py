"""Each ccusage 20.0.24 counting rule, on the small logs of tests/ccusage_rule_logs.py, with the
numbers worked out by hand (test_ccusage_parity.py also holds them against ccusage itself)."""

from __future__ import annotations

import json
import os
import time

import pytest

from ingestion.claude_code.loader import load_projects
from ingestion.core.connections import connect
from ingestion.prices import catalogue as price_catalogue
from orchestration.defs.dbt.manifest import run_dbt
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
        run_dbt(
            urls.warehouse,
            [
                "build",
                "--quiet",
                "--select",
                "resource_type:seed",
                "model_prices",
                "stg_claude_code__api_responses+",
                "stg_claude_code__session_responses+",
                "--exclude",
                "int_agent_calls_unioned+",
            ],
            "target/ccusage-rules",
            check=True,
        )
        yield urls.warehouse


def _daily(url: str) -> dict:
    return {
        (day.isoformat(), project): (tokens_in, tokens_out, responses)
        for day, project, tokens_in, tokens_out, responses in _rows(
            url,
            "select usage_date, project, sum(input_tokens), sum(output_tokens), "
            "sum(response_count) from marts.fct_claude_code_daily_usage group by 1, 2",
        )
    }


def _sessions(url: str) -> dict:
    return {
        (project, session): (tokens_in, tokens_out)
        for project, session, tokens_in, tokens_out in _rows(
            url,
            "select project, session_id, input_tokens, output_tokens "
            "from marts.fct_claude_code_sessions",
        )
    }


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
    loaded = _rows(
        warehouse,
        "select count(*), count(*) filter (where usage_countable) "
        "from raw.claude_code_lines where project = 'nulls'",
    )
    assert loaded == [(2, 0)]  # loaded, kept in raw, not counted


def test_progress_lines_count_in_the_daily_report_only(warehouse):
    # main 10/1 + the relayed orphan 2000/0 + the subagent response once (its relayed copy)
    assert _daily(warehouse)[("2026-01-10", "relay")] == (2040, 4, 3)
    # sessions read the logs only: main + the subagent's own line, in the parent's session
    assert _sessions(warehouse)[("relay", "S6")] == (40, 4)
    agents = dict(
        _rows(
            warehouse,
            "select message_id, agent_type "
            "from staging.stg_claude_code__api_responses "
            "where project = 'relay'",
        )
    )
    assert agents == {"msg_main": "main", "msg_orphan": "subagent", "msg_sub": "subagent"}


def test_fast_mode_is_its_own_model_at_its_own_price(warehouse):
    [(model, cost)] = _rows(
        warehouse,
        "select model_name, cost_usd from marts.fct_claude_code_daily_usage where project = 'fast'",
    )
    assert model == "claude-opus-4-6-fast"
    assert float(cost) == pytest.approx((1000 * 30 + 100 * 150) / 1e6)


def test_a_logged_cost_is_the_cost(warehouse):
    [(cost, source)] = _rows(
        warehouse,
        "select cost_usd, price_source "
        "from intermediate.int_claude_code_responses_priced "
        "where message_id = 'msg_logged'",
    )
    assert (float(cost), source) == (1.23, "logged")


def test_synthetic_messages_cost_nothing_and_are_not_unpriced(warehouse):
    [(responses, cost, unpriced)] = _rows(
        warehouse,
        "select response_count, cost_usd, unpriced_response_count "
        "from marts.fct_claude_code_daily_usage where project = 'synthetic'",
    )
    assert (responses, float(cost), unpriced) == (1, 0.0, 0)
    # no tokens: not a session in ccusage's session report
    assert ("synthetic", "S9") not in _sessions(warehouse)


def test_a_settled_last_line_without_a_newline_is_read(warehouse):
    assert _daily(warehouse)[("2026-01-14", "tail")] == (5, 5, 1)


def test_a_log_in_a_session_folder_belongs_to_that_session(warehouse):
    assert _sessions(warehouse)[("nested", "S11")] == (4, 4)


def test_exactly_five_hours_later_stays_in_the_block(warehouse):
    blocks = _rows(
        warehouse,
        "select block_start_at::text, response_count "
        "from marts.fct_usage_blocks "
        "where block_start_at >= '2026-01-20' "
        "and block_start_at < '2026-01-21' order by 1",
    )
    assert blocks == [("2026-01-20 00:00:00+00", 2), ("2026-01-20 10:00:00+00", 1)]


def test_every_response_has_its_cost_or_is_counted_unpriced(warehouse):
    [(unpriced, without_cost)] = _rows(
        warehouse,
        "select sum(unpriced_response_count), count(*) filter (where cost_usd is null)"
        " from marts.fct_claude_code_daily_usage",
    )
    assert (unpriced, without_cost) == (0, 0)


def test_rows_kept_past_retention_survive_a_new_column(warehouse):
    """A priced-responses table built before a column existed still carries its purged days
    over (by name, the new column null) instead of failing the build, and prices the rest
    again with it."""
    with connect(warehouse) as conn:
        conn.execute(
            "alter table intermediate.int_claude_code_responses_priced "
            "drop column speed, drop column price_source"
        )
        conn.execute(
            "insert into raw.retention_runs (run_id, table_name, cutoff, "
            "rows_affected) values ('old', 'raw.claude_code_lines', "
            "'2026-01-09', 0)"
        )
        conn.execute("delete from raw.claude_code_lines where occurred_at < '2026-01-09'")
        before = conn.execute(
            "select count(*) from intermediate.int_claude_code_responses_priced"
            " where occurred_at < '2026-01-09'"
        ).fetchone()[0]
    run_dbt(
        warehouse,
        ["build", "--quiet", "--select", "int_claude_code_responses_priced"],
        "target/ccusage-rules",
        check=True,
    )
    kept = _rows(
        warehouse,
        "select count(*), count(speed), count(price_source) "
        "from intermediate.int_claude_code_responses_priced "
        "where occurred_at < '2026-01-09'",
    )
    assert before > 0 and kept == [(before, 0, 0)]
    # The rows after the cutoff are priced again whole, the new columns filled in.
    rebuilt = _rows(
        warehouse,
        "select count(*), count(price_source) "
        "from intermediate.int_claude_code_responses_priced "
        "where occurred_at >= '2026-01-09'",
    )
    assert rebuilt[0][0] > 0 and rebuilt[0][0] == rebuilt[0][1], rebuilt


def _usage_line(message_id: str, day: int = 5, speed: str | None = None) -> bytes:
    usage = {
        "input_tokens": 1,
        "output_tokens": 1,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        **({"speed": speed} if speed else {}),
    }
    return json.dumps(
        {
            "type": "assistant",
            "sessionId": "S",
            "version": "2.1.14",
            "cwd": "/repo",
            "timestamp": f"2026-01-{day:02d}T10:00:00.000Z",
            "requestId": f"req-{message_id}",
            "message": {
                "id": message_id,
                "role": "assistant",
                "model": "claude-opus-4-6",
                "usage": usage,
                "content": [],
            },
        },
        separators=(",", ":"),
    ).encode()


def _lines(url: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(
            "select file_path, line_number, message_id from raw.claude_code_lines order by 1, 2"
        ).fetchall()


def test_a_settled_last_line_then_more_lines_reads_like_a_fresh_read(urls, tmp_path):
    """Read without its newline, the last line is line N; what is appended after it either
    starts with that newline (read on from there) or shows the line was not whole (re-read)."""
    log = tmp_path / "projects" / "p" / "S.jsonl"
    log.parent.mkdir(parents=True)
    an_hour_ago = time.time() - 3600

    def settle():
        os.utime(log, (an_hour_ago, an_hour_ago))

    log.write_bytes(_usage_line("m1") + b"\n" + _usage_line("m2"))
    settle()
    with connect(urls.warehouse) as conn:
        assert load_projects(conn, "1", [tmp_path / "projects"]).rows_read == 2
        log.write_bytes(log.read_bytes() + b"\n" + _usage_line("m3") + b"\n")
        settle()
        assert load_projects(conn, "2", [tmp_path / "projects"]).rows_read == 1
        assert [row[1:] for row in _lines(urls.warehouse)] == [(1, "m1"), (2, "m2"), (3, "m3")]
        log.write_bytes(log.read_bytes() + _usage_line("m4"))  # settled tail again ...
        settle()
        load_projects(conn, "3", [tmp_path / "projects"])
        log.write_bytes(log.read_bytes() + b'x"}\n')  # ... that was not the whole line
        settle()
        load_projects(conn, "4", [tmp_path / "projects"])
        quarantined = conn.execute(
            "select source_key, reason_code from raw.quarantine where run_id = '4'"
        ).fetchall()
    assert [row[1:] for row in _lines(urls.warehouse)] == [(1, "m1"), (2, "m2"), (3, "m3")]
    assert quarantined == [("projects/p/S.jsonl:4", "malformed_json")]


def test_logs_read_under_older_rules_are_read_again(urls, tmp_path):
    log = tmp_path / "projects" / "p" / "S" / "chat.jsonl"
    log.parent.mkdir(parents=True)
    log.write_bytes(_usage_line("m1") + b"\n")
    with connect(urls.warehouse) as conn:
        load_projects(conn, "1", [tmp_path / "projects"])
        conn.execute("update raw.claude_code_files set rules_version = 1")
        conn.execute("update raw.claude_code_lines set file_session_id = 'chat'")
        conn.commit()
        assert load_projects(conn, "2", [tmp_path / "projects"]).rows_read == 1
        assert conn.execute(
            "select file_session_id, count(*) from raw.claude_code_lines group by 1"
        ).fetchall() == [("S", 1)]


def test_two_projects_folders_of_one_name_keep_their_logs_apart(urls, tmp_path):
    roots = [
        tmp_path / "home" / ".claude" / "projects",
        tmp_path / "home" / ".config" / "claude" / "projects",
    ]
    for number, root in enumerate(roots, start=1):
        (root / "p").mkdir(parents=True)
        (root / "p" / "S.jsonl").write_bytes(_usage_line(f"m{number}") + b"\n")
    with connect(urls.warehouse) as conn:
        assert load_projects(conn, "1", roots).rows_loaded == 2
        assert load_projects(conn, "2", roots).rows_read == 0
    assert sorted(row[2] for row in _lines(urls.warehouse)) == ["m1", "m2"]


def test_fast_mode_names_are_looked_up_in_the_catalogue(urls, tmp_path):
    log = tmp_path / "projects" / "p" / "S.jsonl"
    log.parent.mkdir(parents=True)
    log.write_bytes(_usage_line("m1", speed="fast") + b"\n" + _usage_line("m2") + b"\n")
    with connect(urls.warehouse) as conn:
        load_projects(conn, "1", [tmp_path / "projects"])
        names = price_catalogue.logged_model_names(conn)
    assert {"claude-opus-4-6", "claude-opus-4-6-fast"} <= names
