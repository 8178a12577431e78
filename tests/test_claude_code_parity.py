"""Claude Code logs: token numbers equal ccusage 20.0.24's on real session logs.

Uses ../shared/fixtures/claude-code (skipped when absent): three real sessions and what
`ccusage daily|monthly|session --json --offline` printed for them, in UTC and Los Angeles.
"""

import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest

from ingestion import price_catalogue
from ingestion.claude_code import load_projects
from ingestion.connections import connect
from orchestration.dbt_manifest import dbt_command
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "claude-code"
CCUSAGE = FIXTURES / "ccusage-20.0.24"
pytestmark = pytest.mark.skipif(not (FIXTURES / "sample-project").is_dir(),
                                reason="../shared/fixtures/claude-code is not present")
TOKEN_FIELDS = {"inputTokens": "input_tokens", "outputTokens": "output_tokens",
                "cacheCreationTokens": "cache_creation_tokens",
                "cacheReadTokens": "cache_read_tokens", "totalTokens": "total_tokens"}


def _dbt_build(warehouse_url: str, timezone: str) -> None:
    with connect(warehouse_url) as warehouse:  # what the price catalogue asset does
        price_catalogue.refresh(warehouse, price_catalogue.logged_model_names(warehouse))
    command, env = dbt_command(
        warehouse_url,
        ["build", "--quiet", "--select", "resource_type:seed", "model_prices",
         "stg_claude_code__api_responses+",
         "--exclude", "int_agent_calls_unioned+",
         "--vars", json.dumps({"report_timezone": timezone})],
        "target/parity")
    subprocess.run(command, env=env, check=True)


def _expected(kind: str, timezone: str) -> dict:
    document = json.loads((CCUSAGE / f"{kind}-{timezone.replace('/', '_')}.json").read_text())
    return {row["period"]: {f: row[f] for f in TOKEN_FIELDS} for row in document[kind]}


def _sum_by(rows, key) -> dict:
    totals: dict = defaultdict(lambda: dict.fromkeys(TOKEN_FIELDS, 0))
    for row in rows:
        for field, column in TOKEN_FIELDS.items():
            totals[key(row)][field] += int(row[column])
    return dict(totals)


def _rows(url, query):
    with connect(url) as conn:
        cursor = conn.execute(query)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


@pytest.fixture
def loaded(urls):
    with connect(urls.warehouse) as warehouse:
        counts = load_projects(warehouse, "parity", [FIXTURES])
    assert counts.rows_read == counts.rows_loaded == 520
    return urls


@pytest.mark.parametrize("timezone", ["UTC", "America/Los_Angeles"])
def test_daily_tokens_equal_ccusage(loaded, timezone):
    _dbt_build(loaded.warehouse, timezone)
    days = _rows(loaded.warehouse, "select * from marts.fct_claude_code_daily_usage")
    assert {r["report_timezone"] for r in days} == {timezone}
    assert _sum_by(days, lambda r: r["usage_date"].isoformat()) == _expected("daily", timezone)
    document = json.loads((CCUSAGE / f"daily-{timezone.replace('/', '_')}.json").read_text())
    for day in document["daily"]:
        cost = sum(float(r["cost_usd"]) for r in days
                   if r["usage_date"].isoformat() == day["period"])
        assert cost == pytest.approx(day["totalCost"], rel=0.01)


def test_monthly_and_session_tokens_equal_ccusage(loaded):
    _dbt_build(loaded.warehouse, "UTC")
    days = _rows(loaded.warehouse, "select * from marts.fct_claude_code_daily_usage")
    assert _sum_by(days, lambda r: r["usage_date"].strftime("%Y-%m")) == _expected(
        "monthly", "UTC")
    responses = _rows(loaded.warehouse,
                      "select * from staging.stg_claude_code__api_responses")
    assert _sum_by(responses, lambda r: r["session_id"]) == _expected("session", "UTC")
    priced = _rows(loaded.warehouse, "select session_id, sum(cost_usd) as cost "
                   "from intermediate.int_claude_code_responses_priced group by 1")
    costs = {r["session_id"]: float(r["cost"]) for r in priced}
    document = json.loads((CCUSAGE / "session-UTC.json").read_text())
    for session in document["session"]:
        assert costs[session["period"]] == pytest.approx(session["totalCost"], rel=0.01)


def test_a_grown_file_is_read_from_where_it_stopped(urls, tmp_path):
    project = tmp_path / "projects" / "demo"
    project.mkdir(parents=True)
    source = (FIXTURES / "sample-project" / "5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl"
              ).read_bytes().splitlines(keepends=True)
    log = project / "5c0375b4.jsonl"
    log.write_bytes(b"".join(source[:20]) + source[20][:30])  # a line still being written
    with connect(urls.warehouse) as warehouse:
        first = load_projects(warehouse, "one", [tmp_path / "projects"])
        log.write_bytes(b"".join(source) + b"{not json\n"
                        + b'{"type": "user", "timestamp": "yesterday"}\n')
        second = load_projects(warehouse, "two", [tmp_path / "projects"])
        third = load_projects(warehouse, "three", [tmp_path / "projects"])
        lines = warehouse.execute(
            "select count(*), max(line_number) from raw.claude_code_lines").fetchone()
        quarantined = warehouse.execute(
            "select source_key, reason_code from raw.quarantine").fetchall()
        log.write_bytes(b"".join(source[:10]))  # rewritten: shorter, so re-read from the start
        fourth = load_projects(warehouse, "four", [tmp_path / "projects"])
        after_rewrite = warehouse.execute("select count(*) from raw.claude_code_lines"
                                          ).fetchone()[0]
    assert (first.rows_read, second.rows_read, third.rows_read) == (20, len(source) - 20 + 2, 0)
    assert lines == (len(source), len(source))
    assert sorted(quarantined) == [
        (f"projects/demo/5c0375b4.jsonl:{len(source) + 1}", "malformed_json"),
        (f"projects/demo/5c0375b4.jsonl:{len(source) + 2}", "unparseable_timestamp")]
    assert fourth.rows_read == 10 and after_rewrite == 10


def test_usage_blocks_equal_ccusage(loaded):
    _dbt_build(loaded.warehouse, "UTC")
    blocks = _rows(loaded.warehouse, "select * from marts.fct_usage_blocks "
                                     "order by block_start_at")
    expected = [b for b in json.loads((CCUSAGE / "blocks-UTC.json").read_text())["blocks"]
                if not b["isGap"]]
    assert len(blocks) == len(expected)
    for got, block in zip(blocks, expected, strict=True):
        counts = block["tokenCounts"]
        assert got["block_start_at"].isoformat().replace("+00:00", ".000Z") == block["startTime"]
        assert got["block_end_at"].isoformat().replace("+00:00", ".000Z") == block["endTime"]
        assert (got["response_count"], got["input_tokens"], got["output_tokens"],
                got["cache_creation_tokens"], got["cache_read_tokens"], got["total_tokens"]) == (
            block["entries"], counts["inputTokens"], counts["outputTokens"],
            counts["cacheCreationInputTokens"], counts["cacheReadInputTokens"],
            block["totalTokens"])
        assert float(got["cost_usd"]) == pytest.approx(block["costUSD"], rel=0.01)


def test_claude_code_flows_into_the_shared_marts(loaded, tmp_path):
    """The Claude-Code-only quick start: `atw run` with CLAUDE_PROJECTS_DIR and nothing else
    (no collector, no landing folder) succeeds and says which sources it skipped."""
    env = {key: value for key, value in os.environ.items() if key != "COLLECTOR_URL"}
    env.update(LANDING_DIR=str(tmp_path / "no-landing"), CLAUDE_PROJECTS_DIR=str(FIXTURES),
               DAGSTER_HOME=str(tmp_path / "dagster-home"),
               ATW_REPORT_PATH=str(tmp_path / "report.html"))
    run = subprocess.run([sys.executable, "-m", "orchestration.cli", "run"], env=env,
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert "collector events        skipped: no collector: set COLLECTOR_URL to read one" in lines
    assert any(line.startswith("landing metric files    skipped: no landing folder")
               for line in lines)
    # The fixture loaded the logs already: this run read nothing new, and says so.
    assert "warning: Claude Code logs is configured but read nothing new" in lines
    days = _rows(loaded.warehouse, "select usage_date, total_tokens, cache_creation_5m_tokens "
                 "from marts.fct_daily_token_trends where tenant_id = 'sample-project' "
                 "and total_tokens > 0")
    expected = _expected("daily", "UTC")
    assert {r["usage_date"].isoformat(): r["total_tokens"] for r in days} == {
        day: totals["totalTokens"] for day, totals in expected.items()}
    assert {r["usage_date"].isoformat(): r["cache_creation_5m_tokens"] for r in days} == {
        day: totals["cacheCreationTokens"] for day, totals in expected.items()}
    # The fixtures are older than ATW_DOWNSAMPLE_DAYS: their sessions are kept at daily grain.
    sessions = _rows(loaded.warehouse, "select sum(session_count) as n "
                     "from marts.fct_sessions_daily where source_system = 'claude_code'")
    assert sessions[0]["n"] == 3
    detail = _rows(loaded.warehouse, "select count(*) as n from marts.fct_session_summaries "
                   "where source_system = 'claude_code'")
    assert detail[0]["n"] == 0
    tool_use_ids = set()
    for log in FIXTURES.rglob("*.jsonl"):
        for line in log.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            content = (record.get("message") or {}).get("content") if isinstance(
                record, dict) else None
            if record.get("type") == "assistant" and isinstance(content, list):
                tool_use_ids |= {block["id"] for block in content
                                 if isinstance(block, dict) and block.get("type") == "tool_use"}
    tools = _rows(loaded.warehouse, "select (select count(*) from intermediate.int_tool_calls "
                  "where source_system = 'claude_code') as n, (select sum(call_count) from "
                  "marts.fct_tool_usage where tenant_id in (select project from "
                  "raw.claude_code_lines)) as in_mart")
    assert tool_use_ids and tools[0]["n"] == len(tool_use_ids) == tools[0]["in_mart"]


def test_generated_logs_count_each_response_once(urls, tmp_path):
    from ingestion.sample_data.claude_code_generator import (
        ClaudeCodeConfig,
        write_claude_projects,
    )

    written = write_claude_projects(tmp_path, ClaudeCodeConfig(seed=3, sessions=8,
                                                               resumed_share=0.5))
    with connect(urls.warehouse) as warehouse:
        counts = load_projects(warehouse, "generated", [tmp_path])
    assert counts.rows_loaded == written["lines"]
    _dbt_build(urls.warehouse, "UTC")
    responses = _rows(urls.warehouse, "select count(*) as n, max(copy_count) as copies "
                      "from staging.stg_claude_code__api_responses")[0]
    assert responses["n"] == written["responses"]
    assert responses["copies"] > 2  # content blocks and resumed files repeat responses
    agents = {r["agent_type"] for r in _rows(
        urls.warehouse, "select distinct agent_type from staging.stg_claude_code__api_responses")}
    assert "main" in agents and agents - {"main"} <= {"general-purpose", "code-reviewer",
                                                        "test-runner"}
    assert len(agents) > 1
