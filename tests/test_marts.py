"""The whole pipeline through Dagster; each mart equals numbers computed here with pandas."""

import json

import pandas as pd
import pytest
from dagster import DagsterInstance

from ingestion.connections import connect
from orchestration.cli import run_pipeline


def _read(url, query):
    with connect(url) as conn:
        cursor = conn.execute(query)
        return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


@pytest.fixture(scope="module")
def built(module_collector, dbt_manifest):
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("WAREHOUSE_URL", module_collector.warehouse)
        monkeypatch.setenv("COLLECTOR_URL", module_collector.collector)
        result = run_pipeline(DagsterInstance.ephemeral())
    assert result.success
    return module_collector


@pytest.fixture
def events(built):
    """The collector's events, each retried duplicate counted once, as pandas sees them."""
    df = _read(built.collector, "select * from telemetry_events")
    fingerprint = ["host_id", "session_id", "agent_name", "hook_name", "tool_name", "decision",
                   "created_at", "latency_ms", "prompt_tokens", "completion_tokens",
                   "total_tokens"]
    df = df.sort_values("id").drop_duplicates(subset=fingerprint, keep="first")
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    reported = df[["prompt_tokens", "completion_tokens"]].notna().any(axis=1)
    df["tokens"] = (df["prompt_tokens"].fillna(0) + df["completion_tokens"].fillna(0)).where(
        reported, df["total_tokens"]).fillna(0).astype(int)
    df["day"] = df["created_at"].dt.date
    return df


def test_staging_counts_each_event_once_and_unwraps_json(built, events):
    staging = _read(built.warehouse,
                    "select event_id, copy_count, jsonb_typeof(extra_data) as extra_type "
                    "from staging.stg_collector__telemetry_events")
    raw_rows = _read(built.warehouse, "select count(*) as n from raw.collector_events")["n"][0]
    assert sorted(staging["event_id"]) == sorted(events["id"])
    assert raw_rows - len(staging) == (staging["copy_count"] - 1).sum() > 0
    assert set(staging["extra_type"]) == {"object"}


def test_daily_token_trends_are_zero_filled_per_day_and_tenant(built, events):
    mart = _read(built.warehouse, "select * from marts.fct_daily_token_trends")
    days = pd.date_range(events["day"].min(), events["day"].max(), freq="D").date
    hosts = sorted(events["host_id"].unique())
    assert len(mart) == len(days) * len(hosts)
    expected = events.groupby(["day", "host_id"]).agg(
        calls=("id", "size"), tokens=("tokens", "sum")).reset_index()
    grid = pd.MultiIndex.from_product([days, hosts], names=["day", "host_id"]).to_frame(
        index=False).merge(expected, how="left").fillna(0)
    got = mart.rename(columns={"usage_date": "day", "tenant_id": "host_id"}).merge(
        grid, on=["day", "host_id"], validate="one_to_one")
    assert (got["call_count"] == got["calls"]).all()
    assert (got["total_tokens"] == got["tokens"]).all()
    assert (mart["call_count"] == 0).any(), "a small dataset has idle host-days"


def test_activity_heatmap_uses_sunday_zero_and_only_non_zero_cells(built, events):
    mart = _read(built.warehouse, "select * from marts.fct_activity_heatmap")
    events["dow"] = (events["created_at"].dt.dayofweek + 1) % 7  # pandas: Monday = 0
    events["hour"] = events["created_at"].dt.hour
    expected = events.groupby(["host_id", "dow", "hour"]).size().rename("n").reset_index()
    got = mart.rename(columns={"tenant_id": "host_id", "day_of_week": "dow",
                               "hour_of_day": "hour"}).merge(
        expected, on=["host_id", "dow", "hour"], how="outer", validate="one_to_one")
    assert got["call_count"].notna().all() and got["n"].notna().all()
    assert (got["call_count"] == got["n"]).all()
    assert mart["call_count"].min() >= 1


def test_agent_monthly_usage(built, events):
    mart = _read(built.warehouse, "select * from marts.fct_agent_monthly_usage")
    naive = events["created_at"].dt.tz_localize(None)
    events["month"] = naive.dt.to_period("M").dt.start_time.dt.date
    expected = events.groupby(["month", "host_id", "agent_name"]).agg(
        calls=("id", "size"), tokens=("tokens", "sum")).reset_index()
    got = mart.rename(columns={"usage_month": "month", "tenant_id": "host_id"}).merge(
        expected, on=["month", "host_id", "agent_name"], how="outer", validate="one_to_one")
    assert (got["call_count"] == got["calls"]).all()
    assert (got["total_tokens"] == got["tokens"]).all()


# PatternAnalyzer::$errorPatterns of seed 003, transcribed.
ERROR_PATTERNS = {
    "rate_limit": r"rate.?limit|429|too.?many.?requests",
    "timeout": r"timeout|timed.?out|deadline",
    "auth_failure": r"auth|unauthorized|403|401",
    "network": r"network|connection|refused|unreachable",
    "validation": r"validation|invalid|schema",
    "tool_error": r"tool.?error|tool.?failed",
}


def _seed_complexity(messages: int, tools: int, error_rate: float, seconds: float):
    """SessionAnalyzer::assessComplexity of seed 003, transcribed."""
    score = 0
    score += 3 if messages > 50 else 2 if messages > 20 else 1 if messages > 10 else 0
    score += 3 if tools > 10 else 2 if tools > 5 else 1 if tools > 2 else 0
    score += 2 if error_rate > 0.2 else 1 if error_rate > 0.1 else 0
    score += 2 if seconds > 3600 else 1 if seconds > 1800 else 0
    label = ("very_high" if score >= 8 else "high" if score >= 6 else "medium" if score >= 4
             else "low" if score >= 2 else "very_low")
    return score, label


def test_session_summaries(built, events):
    mart = _read(built.warehouse, "select * from marts.fct_session_summaries").set_index(
        "session_id")
    transcripts = _read(built.collector,
                        "select session_id, transcript_data::text as data from session_transcripts")
    message_counts = {
        row.session_id: len(json.loads(json.loads(row.data)) if row.data.startswith('"')
                            else json.loads(row.data))
        for row in transcripts.itertuples()
    }
    grouped = events.groupby("session_id")
    assert set(mart.index) == set(grouped.groups)
    for session_id, rows in grouped:
        got = mart.loc[session_id]
        duration = (rows["created_at"].max() - rows["created_at"].min()).total_seconds()
        assert float(got["duration_seconds"]) == pytest.approx(duration, abs=1e-6)
        assert got["call_count"] == len(rows)
        assert got["tool_call_count"] == (rows["tool_name"] != "").sum()
        assert got["message_count"] == message_counts.get(session_id, 0)
        assert got["total_tokens"] == rows["tokens"].sum()
        assert float(got["success_rate"]) == pytest.approx(rows["success"].mean(), abs=1e-6)
        assert float(got["avg_latency_ms"]) == pytest.approx(rows["latency_ms"].mean(), abs=1e-3)
        assert float(got["p95_latency_ms"]) == pytest.approx(
            rows["latency_ms"].quantile(0.95), abs=1e-3)
        tools = rows.loc[rows["tool_name"] != "", "tool_name"].nunique()
        errors = (rows["decision"] == "ERROR").mean()
        assert got["unique_tool_count"] == tools
        assert (got["complexity_score"], got["complexity"]) == _seed_complexity(
            len(rows), tools, errors, duration)
        reasons = rows.loc[rows["decision"] == "ERROR", "decision_reason"].fillna("")
        assert got["error_breakdown"]["patterns"] == {
            name: int(reasons.str.contains(pattern, case=False, regex=True).sum())
            for name, pattern in ERROR_PATTERNS.items()}
        with_tool = rows[rows["tool_name"] != ""]
        assert {tool: usage["count"] for tool, usage in got["tool_usage"].items()} == (
            with_tool["tool_name"].value_counts().to_dict())


def test_endpoint_functions(built):
    import psycopg

    with connect(built.warehouse) as conn:
        trend = conn.execute("select * from marts.token_trend('laptop', 7)").fetchall()
        assert len(trend) == 7
        assert [r[0] for r in trend] == sorted(r[0] for r in trend)  # oldest first
        default = conn.execute("select count(*) from marts.token_trend('laptop')").fetchone()[0]
        assert default == 30
        today = conn.execute("select (now() at time zone 'UTC')::date").fetchone()[0]
        expected = dict(conn.execute(
            "select usage_date, total_tokens from marts.fct_daily_token_trends "
            "where tenant_id = 'laptop' and usage_date > %s::date - 30", (today,)).fetchall())
        got = dict((d, tokens) for d, _, tokens in conn.execute(
            "select * from marts.token_trend('laptop', 30)").fetchall())
        assert all(got[d] == t for d, t in expected.items())
        assert all(t == 0 for d, t in got.items() if d not in expected)  # zero-filled
        for bad in (0, 91):
            with pytest.raises(psycopg.errors.InvalidParameterValue,
                               match="days must be between 1 and 90"):
                conn.execute("select * from marts.token_trend('laptop', %s)", (bad,))
            conn.rollback()

        cells = conn.execute("select * from marts.activity_heatmap('laptop')").fetchall()
        assert cells and all(0 <= d <= 6 and 0 <= h <= 23 and n > 0 for d, h, n in cells)
        total = conn.execute("select sum(call_count) from marts.fct_activity_heatmap "
                             "where tenant_id = 'laptop'").fetchone()[0]
        assert sum(n for *_, n in cells) == total

        month = conn.execute("select max(usage_month) from marts.fct_agent_monthly_usage"
                             ).fetchone()[0]
        usage = conn.execute("select agent_name, total_tokens from marts.agent_usage(null, %s)",
                             (month,)).fetchall()
        expected_usage = conn.execute(
            "select agent_name, sum(total_tokens) from marts.fct_agent_monthly_usage "
            "where usage_month = %s group by 1", (month,)).fetchall()
        assert sorted(usage) == sorted(expected_usage)
        assert [t for _, t in usage] == sorted((t for _, t in usage), reverse=True)
