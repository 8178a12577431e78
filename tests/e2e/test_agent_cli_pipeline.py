"""The agent CLIs and OTLP exports through the whole warehouse: `atw run` (Dagster, dbt, GX) with
only their folders configured. An OTLP file written by the real OpenTelemetry Python SDK (its
OTLP encoder, in the Collector's file-exporter form) lands in the calls fact, the session marts
and the tool marts; the real Codex set lands beside it under its own source."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import SHARED
from tests.unit.test_agent_cli_otlp import _sdk_requests, collector_json

CODEX = SHARED / "fixtures" / "agent-logs" / "codex" / "localpush" / "home" / ".codex"


def _rows(url, query, params=()):
    from ingestion.core.connections import connect

    with connect(url) as conn:
        cursor = conn.execute(query, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


@pytest.fixture(scope="module")
def ran(pg_base_url, tmp_path_factory):
    from tests.conftest import fresh_databases

    tmp = tmp_path_factory.mktemp("agent-cli-run")
    exports = tmp / "otlp"
    exports.mkdir()
    trace_request, log_request, _ = _sdk_requests()
    (exports / "export.jsonl").write_text(
        collector_json(trace_request) + "\n" + collector_json(log_request) + "\n"
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        urls = fresh_databases(pg_base_url, monkeypatch)
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("ATW_COLLECTOR_URL", "COLLECTOR_URL")
        }
        env.update(
            ATW_WAREHOUSE_URL=urls.warehouse,
            ATW_LANDING_DIR=str(tmp / "no-landing"),
            ATW_OTLP_DIR=str(exports),
            ATW_AGENT_LOG_SETTLE_SECONDS="0",
            DAGSTER_HOME=str(tmp / "dagster-home"),
            ATW_REPORT_PATH=str(tmp / "report.html"),
            ATW_LOG_DIR=str(tmp / "logs"),
        )
        if CODEX.is_dir():
            env["ATW_CODEX_HOME"] = str(CODEX)
        run = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        yield urls.warehouse, run.stdout, tmp


def test_the_sdk_spans_are_calls_with_their_tokens(ran):
    url, _, _ = ran
    calls = _rows(
        url,
        "select source_session_id, model_name, prompt_tokens, completion_tokens, "
        "cached_tokens, cache_creation_tokens, total_tokens, is_success, event_type "
        "from intermediate.int_agent_calls_unioned where source_system = 'otlp' "
        "order by source_session_id, event_type",
    )
    assert [
        (c["source_session_id"], c["model_name"], c["event_type"], c["is_success"]) for c in calls
    ] == [
        ("cc-session", None, "api_error", False),
        ("cc-session", "claude-sonnet-4-5-20250929", "api_response", True),
        ("conv-1", "gpt-5.4", "api_response", True),
    ]
    chat = calls[2]
    assert (chat["prompt_tokens"], chat["completion_tokens"], chat["cached_tokens"]) == (
        200,
        80,
        1000,
    )
    assert (chat["cache_creation_tokens"], chat["total_tokens"]) == (150, 1430)


def test_the_sdk_sessions_and_tools_are_in_the_marts(ran):
    url, _, _ = ran
    sessions = _rows(
        url,
        "select session_id, total_tokens, tool_call_count, error_count "
        "from marts.fct_session_summaries where source_system = 'otlp' order by 1",
    )
    assert sessions, "no OTLP session in fct_session_summaries"
    assert sum(s["total_tokens"] for s in sessions) == 1430 + 6030
    tools = _rows(
        url,
        "select tool_name, is_error, source_system from intermediate.int_tool_calls "
        "where source_system = 'otlp' order by tool_name",
    )
    assert [(t["tool_name"], t["is_error"]) for t in tools] == [
        ("Read", True),
        ("bash", True),
        ("grep", False),
    ]
    in_mart = _rows(
        url,
        "select tool_name, sum(call_count) as calls, sum(error_count) as errors "
        "from marts.fct_tool_usage where tool_name in ('Read', 'bash', 'grep') "
        "group by tool_name order by tool_name",
    )
    assert [(t["tool_name"], t["calls"], t["errors"]) for t in in_mart] == [
        ("Read", 1, 1),
        ("bash", 1, 1),
        ("grep", 1, 0),
    ]
    # grep and bash in one conversation (the SDK's execute_tool spans), Read in another. The
    # two spans can end within the same millisecond: their order is not the test's.
    sequences = _rows(
        url,
        "select tool_sequence, occurrence_count, session_count from marts.fct_tool_sequences "
        "where source_system = 'otlp'",
    )
    assert [
        (sorted(s["tool_sequence"].split("->")), s["occurrence_count"], s["session_count"])
        for s in sequences
    ] == [(["bash", "grep"], 1, 1)]


@pytest.mark.skipif(not CODEX.is_dir(), reason="../shared/fixtures/agent-logs is not present")
def test_codex_lands_beside_it_under_its_own_source(ran):
    url, stdout, _ = ran
    totals = _rows(
        url,
        "select source_system, sum(total_tokens) as tokens, count(*) as calls "
        "from intermediate.int_agent_calls_unioned group by 1 order by 1",
    )
    by_source = {t["source_system"]: t for t in totals}
    assert by_source["codex"]["tokens"] == 50_062_931  # ccusage's total for the set
    assert set(by_source) == {"codex", "otlp"}
    agents = _rows(
        url,
        "select distinct agent_name from marts.fct_agent_monthly_usage order by 1",
    )
    assert {a["agent_name"] for a in agents} >= {"codex", "otlp"}
    assert "agent CLI logs" in stdout
