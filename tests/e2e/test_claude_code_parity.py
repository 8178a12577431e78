"""Claude Code logs through the whole warehouse: incremental reads, the Claude-Code-only run,
the shared marts, the generator. ccusage's reports themselves are held against our marts in
test_ccusage_parity.py.

Uses ../shared/fixtures/claude-code (skipped when absent): three real sessions and what
`ccusage daily --json --offline` printed for them.
"""

import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest

from ingestion.claude_code.loader import load_projects
from ingestion.core.connections import connect
from ingestion.prices import catalogue as price_catalogue
from orchestration.defs.dbt.manifest import run_dbt
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "claude-code"
CCUSAGE = FIXTURES / "ccusage-20.0.24"
pytestmark = pytest.mark.skipif(
    not (FIXTURES / "sample-project").is_dir(),
    reason="../shared/fixtures/claude-code is not present",
)
TOKEN_FIELDS = {
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "cacheCreationTokens": "cache_creation_tokens",
    "cacheReadTokens": "cache_read_tokens",
    "totalTokens": "total_tokens",
}


def _dbt_build(warehouse_url: str, timezone: str) -> None:
    with connect(warehouse_url) as warehouse:  # what the price catalogue asset does
        price_catalogue.refresh(warehouse, price_catalogue.logged_model_names(warehouse))
    run_dbt(
        warehouse_url,
        [
            "build",
            "--quiet",
            "--select",
            "resource_type:seed",
            "model_prices",
            "stg_claude_code__api_responses",
            "stg_claude_code__session_responses",
            "--exclude",
            "int_agent_calls_unioned+",
            "--vars",
            json.dumps({"report_timezone": timezone}),
        ],
        "target/parity",
        check=True,
    )


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


def test_a_grown_file_is_read_from_where_it_stopped(urls, tmp_path):
    project = tmp_path / "projects" / "demo"
    project.mkdir(parents=True)
    source = (
        (FIXTURES / "sample-project" / "5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl")
        .read_bytes()
        .splitlines(keepends=True)
    )
    log = project / "5c0375b4.jsonl"
    log.write_bytes(b"".join(source[:20]) + source[20][:30])  # a line still being written
    with connect(urls.warehouse) as warehouse:
        first = load_projects(warehouse, "one", [tmp_path / "projects"])
        log.write_bytes(
            b"".join(source) + b"{not json\n" + b'{"type": "user", "timestamp": "yesterday"}\n'
        )
        second = load_projects(warehouse, "two", [tmp_path / "projects"])
        third = load_projects(warehouse, "three", [tmp_path / "projects"])
        lines = warehouse.execute(
            "select count(*), max(line_number) from raw.claude_code_lines"
        ).fetchone()
        quarantined = warehouse.execute(
            "select source_key, reason_code from raw.quarantine"
        ).fetchall()
        log.write_bytes(b"".join(source[:10]))  # rewritten: shorter, so re-read from the start
        fourth = load_projects(warehouse, "four", [tmp_path / "projects"])
        after_rewrite = warehouse.execute("select count(*) from raw.claude_code_lines").fetchone()[
            0
        ]
    assert (first.rows_read, second.rows_read, third.rows_read) == (20, len(source) - 20 + 2, 0)
    assert lines == (len(source), len(source))
    assert sorted(quarantined) == [
        (f"projects/demo/5c0375b4.jsonl:{len(source) + 1}", "malformed_json"),
        (f"projects/demo/5c0375b4.jsonl:{len(source) + 2}", "unparseable_timestamp"),
    ]
    assert fourth.rows_read == 10 and after_rewrite == 10


def test_claude_code_flows_into_the_shared_marts(loaded, tmp_path):
    """The Claude-Code-only quick start: `atw run` with CLAUDE_PROJECTS_DIR and nothing else
    (no collector, no landing folder) succeeds and says which sources it skipped."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ATW_COLLECTOR_URL", "COLLECTOR_URL")
    }
    env.update(
        ATW_LANDING_DIR=str(tmp_path / "no-landing"),
        ATW_CLAUDE_PROJECTS_DIR=str(FIXTURES),
        DAGSTER_HOME=str(tmp_path / "dagster-home"),
        ATW_REPORT_PATH=str(tmp_path / "report.html"),
        ATW_LOG_DIR=str(tmp_path / "logs"),
    )
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    # Quiet: stage lines and the summary; dbt's and Dagster's lines go to the log file only.
    assert len(lines) <= 40, run.stdout
    logs = list((tmp_path / "logs").iterdir())
    assert f"full log: {logs[0]}" in lines
    full_log = logs[0].read_text()
    assert full_log.count("Running with dbt=") == 4
    # dbt parses the project in full only where the connection or vars are new to it: at most
    # the first step; the other three reuse its state (the partitions are not vars).
    assert full_log.count("Unable to do partial parsing") <= 2
    assert full_log.count("Unable to do partial parsing because profile has changed") <= 1
    # Every dbt test Dagster loads is an asset check, not an observation it warns about.
    assert "instead of an `AssetCheckResult`" not in full_log
    assert (
        "collector events        skipped: no collector: set ATW_COLLECTOR_URL to read one" in lines
    )
    assert any(
        line.startswith("landing metric files    skipped: no landing folder") for line in lines
    )
    # The fixture loaded the logs already: this run read nothing new, and says so.
    assert "warning: Claude Code logs is configured but read nothing new" in lines
    days = _rows(
        loaded.warehouse,
        "select usage_date, total_tokens, cache_creation_5m_tokens "
        "from marts.fct_daily_token_trends where tenant_id = 'sample-project' "
        "and total_tokens > 0",
    )
    expected = _expected("daily", "UTC")
    assert {r["usage_date"].isoformat(): r["total_tokens"] for r in days} == {
        day: totals["totalTokens"] for day, totals in expected.items()
    }
    assert {r["usage_date"].isoformat(): r["cache_creation_5m_tokens"] for r in days} == {
        day: totals["cacheCreationTokens"] for day, totals in expected.items()
    }
    # The fixtures are older than ATW_DOWNSAMPLE_DAYS: their sessions are kept at daily grain.
    sessions = _rows(
        loaded.warehouse,
        "select sum(session_count) as n "
        "from marts.fct_sessions_daily where source_system = 'claude_code'",
    )
    assert sessions[0]["n"] == 3
    detail = _rows(
        loaded.warehouse,
        "select count(*) as n from marts.fct_session_summaries where source_system = 'claude_code'",
    )
    assert detail[0]["n"] == 0
    tool_use_ids = set()
    for log in FIXTURES.rglob("*.jsonl"):
        for line in log.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            content = (
                (record.get("message") or {}).get("content") if isinstance(record, dict) else None
            )
            if record.get("type") == "assistant" and isinstance(content, list):
                tool_use_ids |= {
                    block["id"]
                    for block in content
                    if isinstance(block, dict) and block.get("type") == "tool_use"
                }
    tools = _rows(
        loaded.warehouse,
        "select (select count(*) from intermediate.int_tool_calls "
        "where source_system = 'claude_code') as n, (select sum(call_count) from "
        "marts.fct_tool_usage where tenant_id in (select project from "
        "raw.claude_code_lines)) as in_mart",
    )
    assert tool_use_ids and tools[0]["n"] == len(tool_use_ids) == tools[0]["in_mart"]


def test_generated_logs_count_each_response_once(urls, tmp_path):
    from devtools.sample_data.claude_code_generator import ClaudeCodeConfig, write_claude_projects

    written = write_claude_projects(
        tmp_path, ClaudeCodeConfig(seed=3, sessions=8, resumed_share=0.5)
    )
    with connect(urls.warehouse) as warehouse:
        counts = load_projects(warehouse, "generated", [tmp_path])
    assert counts.rows_loaded == written["lines"]
    _dbt_build(urls.warehouse, "UTC")
    responses = _rows(
        urls.warehouse,
        "select count(*) as n, max(copy_count) as copies "
        "from staging.stg_claude_code__api_responses",
    )[0]
    assert responses["n"] == written["responses"]
    assert responses["copies"] > 2  # content blocks and resumed files repeat responses
    agents = {
        r["agent_type"]
        for r in _rows(
            urls.warehouse, "select distinct agent_type from staging.stg_claude_code__api_responses"
        )
    }
    assert "main" in agents and agents - {"main"} <= {
        "general-purpose",
        "code-reviewer",
        "test-runner",
    }
    assert len(agents) > 1
