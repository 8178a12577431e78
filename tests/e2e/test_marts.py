"""The whole pipeline through Dagster; each mart equals numbers computed here with pandas."""

import html
import json
import math
import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from psycopg import sql

from ingestion.core.connections import connect
from orchestration.defs.automation.sensors import notify_new_alerts
from orchestration.defs.report.panels import AGENT_LABELS, PANELS
from orchestration.defs.report.render import query_panels, write_report
from tests import browser
from tests.conftest import SAMPLE_AGENTS, clone_build
from tests.docs_pages import page, section


def _read(url, query):
    with connect(url) as conn:
        cursor = conn.execute(query)
        return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


@pytest.fixture(scope="module")
def report_file(collector_build):
    """The report of the shared build (the tests only read it)."""
    return collector_build.report


@pytest.fixture(scope="module")
def built(collector_build, pg_base_url, dbt_manifest):
    """The small collector through the whole pipeline: a copy of the shared build, which the
    tests of this module share (acknowledging alerts is the only change, and they expect it)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return clone_build(collector_build, pg_base_url, monkeypatch)


@pytest.fixture
def events(built):
    """The collector's events, each retried duplicate counted once, as pandas sees them."""
    df = _read(built.collector, "select * from telemetry_events")
    fingerprint = [
        "host_id",
        "session_id",
        "agent_name",
        "hook_name",
        "tool_name",
        "decision",
        "created_at",
        "latency_ms",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
    ]
    df = df.sort_values("id").drop_duplicates(subset=fingerprint, keep="first")
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    reported = df[["prompt_tokens", "completion_tokens"]].notna().any(axis=1)
    df["tokens"] = (
        (df["prompt_tokens"].fillna(0) + df["completion_tokens"].fillna(0))
        .where(reported, df["total_tokens"])
        .fillna(0)
        .astype(int)
    )
    # An LLM call that reports no tokens: its input estimated at 4 characters a token.
    extra = df["extra_data"].map(lambda v: json.loads(v) if isinstance(v, str) else v)
    estimated = (df["execution_type"] == "llm") & df[
        ["prompt_tokens", "completion_tokens", "total_tokens"]
    ].isna().all(axis=1)
    chars = extra.map(lambda e: e.get("inputChars"))
    df.loc[estimated, "tokens"] = (chars[estimated] / 4.0 + 0.5).map(math.floor)
    df["estimated"] = estimated
    df["day"] = df["created_at"].dt.date
    return df


def _sessions(events: pd.DataFrame) -> pd.Series:
    """A session label per event: the id it carries, unless no other event carries it; then
    host + working directory, split by 30 minutes without events."""
    gap = pd.Timedelta(minutes=30)
    derive = events.groupby("session_id")["session_id"].transform("size") == 1
    labels = events["session_id"].copy()
    derived = events[derive].sort_values(["created_at", "id"])
    for (host, directory), rows in derived.groupby(["host_id", "working_dir"]):
        island = (rows["created_at"].diff() > gap).cumsum()
        labels.loc[rows.index] = [f"{host}|{directory}|{n}" for n in island]
    return labels


def test_staging_counts_each_event_once_and_unwraps_json(built, events):
    staging = _read(
        built.warehouse,
        "select event_id, copy_count, jsonb_typeof(extra_data) as extra_type "
        "from staging.stg_collector__telemetry_events",
    )
    raw_rows = _read(built.warehouse, "select count(*) as n from raw.collector_events")["n"][0]
    assert sorted(staging["event_id"]) == sorted(events["id"])
    assert raw_rows - len(staging) == (staging["copy_count"] - 1).sum() > 0
    assert set(staging["extra_type"]) == {"object"}


def test_daily_token_trends_are_zero_filled_per_day_and_tenant(built, events):
    mart = _read(built.warehouse, "select * from marts.fct_daily_token_trends")
    days = pd.date_range(events["day"].min(), events["day"].max(), freq="D").date
    hosts = sorted(events["host_id"].unique())
    assert len(mart) == len(days) * len(hosts)
    expected = (
        events.groupby(["day", "host_id"])
        .agg(calls=("id", "size"), tokens=("tokens", "sum"))
        .reset_index()
    )
    grid = (
        pd.MultiIndex.from_product([days, hosts], names=["day", "host_id"])
        .to_frame(index=False)
        .merge(expected, how="left")
        .fillna(0)
    )
    got = mart.rename(columns={"usage_date": "day", "tenant_id": "host_id"}).merge(
        grid, on=["day", "host_id"], validate="one_to_one"
    )
    assert (got["call_count"] == got["calls"]).all()
    assert (got["total_tokens"] == got["tokens"]).all()
    assert (mart["call_count"] == 0).any(), "a small dataset has idle host-days"


def test_activity_heatmap_uses_sunday_zero_and_only_non_zero_cells(built, events):
    mart = _read(built.warehouse, "select * from marts.fct_activity_heatmap")
    events["dow"] = (events["created_at"].dt.dayofweek + 1) % 7  # pandas: Monday = 0
    events["hour"] = events["created_at"].dt.hour
    expected = events.groupby(["host_id", "dow", "hour"]).size().rename("n").reset_index()
    got = mart.rename(
        columns={"tenant_id": "host_id", "day_of_week": "dow", "hour_of_day": "hour"}
    ).merge(expected, on=["host_id", "dow", "hour"], how="outer", validate="one_to_one")
    assert got["call_count"].notna().all() and got["n"].notna().all()
    assert (got["call_count"] == got["n"]).all()
    assert mart["call_count"].min() >= 1


def test_agent_monthly_usage(built, events):
    mart = _read(built.warehouse, "select * from marts.fct_agent_monthly_usage")
    naive = events["created_at"].dt.tz_localize(None)
    events["month"] = naive.dt.to_period("M").dt.start_time.dt.date
    expected = (
        events.groupby(["month", "host_id", "agent_name"])
        .agg(calls=("id", "size"), tokens=("tokens", "sum"))
        .reset_index()
    )
    got = mart.rename(columns={"usage_month": "month", "tenant_id": "host_id"}).merge(
        expected, on=["month", "host_id", "agent_name"], how="outer", validate="one_to_one"
    )
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
    label = (
        "very_high"
        if score >= 8
        else "high"
        if score >= 6
        else "medium"
        if score >= 4
        else "low"
        if score >= 2
        else "very_low"
    )
    return score, label


def test_session_summaries(built, events):
    mart = _read(
        built.warehouse,
        "select * from marts.fct_session_summaries where source_system = 'collector'",
    )
    transcripts = _read(
        built.collector, "select session_id, transcript_data::text as data from session_transcripts"
    )
    message_counts = {
        row.session_id: len(
            json.loads(json.loads(row.data)) if row.data.startswith('"') else json.loads(row.data)
        )
        for row in transcripts.itertuples()
    }
    events["session"] = _sessions(events)
    grouped = events.groupby("session")
    assert events["session"].str.contains("|", regex=False).any(), "per-process ids exist"
    # 100% of sessions analyzed: one mart row per session, found by its host and first event.
    mart = mart.set_index(["host_id", "started_at"], verify_integrity=True)
    assert len(mart) == len(grouped)
    for _, rows in grouped:
        got = mart.loc[(rows["host_id"].iloc[0], rows["created_at"].min())]
        assert got["is_session_derived"] == ("|" in rows["session"].iloc[0])
        assert got["source_session_count"] == rows["session_id"].nunique()
        duration = (rows["created_at"].max() - rows["created_at"].min()).total_seconds()
        assert float(got["duration_seconds"]) == pytest.approx(duration, abs=1e-6)
        assert got["call_count"] == len(rows)
        assert got["tool_call_count"] == (rows["tool_name"] != "").sum()
        assert got["message_count"] == sum(
            message_counts.get(s, 0) for s in rows["session_id"].unique()
        )
        assert got["total_tokens"] == rows["tokens"].sum()
        assert got["has_estimated_tokens"] == rows["estimated"].any()
        assert float(got["success_rate"]) == pytest.approx(rows["success"].mean(), abs=1e-6)
        assert float(got["avg_latency_ms"]) == pytest.approx(rows["latency_ms"].mean(), abs=1e-3)
        assert float(got["p95_latency_ms"]) == pytest.approx(
            rows["latency_ms"].quantile(0.95), abs=1e-3
        )
        tools = rows.loc[rows["tool_name"] != "", "tool_name"].nunique()
        errors = (rows["decision"] == "ERROR").mean()
        assert got["unique_tool_count"] == tools
        assert (got["complexity_score"], got["complexity"]) == _seed_complexity(
            len(rows), tools, errors, duration
        )
        reasons = rows.loc[rows["decision"] == "ERROR", "decision_reason"].fillna("")
        assert got["error_breakdown"]["patterns"] == {
            name: int(reasons.str.contains(pattern, case=False, regex=True).sum())
            for name, pattern in ERROR_PATTERNS.items()
        }
        with_tool = rows[rows["tool_name"] != ""]
        assert {tool: usage["count"] for tool, usage in got["tool_usage"].items()} == (
            with_tool["tool_name"].value_counts().to_dict()
        )


def test_endpoint_functions(built):
    import psycopg

    with connect(built.warehouse) as conn:
        trend = conn.execute("select * from marts.token_trend('laptop', 7)").fetchall()
        assert len(trend) == 7
        assert [r[0] for r in trend] == sorted(r[0] for r in trend)  # oldest first
        default = conn.execute("select count(*) from marts.token_trend('laptop')").fetchone()[0]
        assert default == 30
        today = conn.execute("select (now() at time zone 'UTC')::date").fetchone()[0]
        expected = dict(
            conn.execute(
                "select usage_date, total_tokens from marts.fct_daily_token_trends "
                "where tenant_id = 'laptop' and usage_date > %s::date - 30",
                (today,),
            ).fetchall()
        )
        got = dict(
            (d, tokens)
            for d, _, tokens in conn.execute(
                "select * from marts.token_trend('laptop', 30)"
            ).fetchall()
        )
        assert all(got[d] == t for d, t in expected.items())
        assert all(t == 0 for d, t in got.items() if d not in expected)  # zero-filled
        for bad in (0, 91):
            with pytest.raises(
                psycopg.errors.InvalidParameterValue, match="days must be between 1 and 90"
            ):
                conn.execute("select * from marts.token_trend('laptop', %s)", (bad,))
            conn.rollback()

        cells = conn.execute("select * from marts.activity_heatmap('laptop')").fetchall()
        assert cells and all(0 <= d <= 6 and 0 <= h <= 23 and n > 0 for d, h, n in cells)
        total = conn.execute(
            "select sum(call_count) from marts.fct_activity_heatmap where tenant_id = 'laptop'"
        ).fetchone()[0]
        assert sum(n for *_, n in cells) == total

        month = conn.execute(
            "select max(usage_month) from marts.fct_agent_monthly_usage"
        ).fetchone()[0]
        usage = conn.execute(
            "select agent_name, total_tokens from marts.agent_usage(null, %s)", (month,)
        ).fetchall()
        expected_usage = conn.execute(
            "select agent_name, sum(total_tokens) from marts.fct_agent_monthly_usage "
            "where usage_month = %s group by 1",
            (month,),
        ).fetchall()
        assert sorted(usage) == sorted(expected_usage)
        assert [t for _, t in usage] == sorted((t for _, t in usage), reverse=True)


def test_every_mart_column_is_documented(built, dbt_manifest):
    from ingestion.core.settings import DBT_PROJECT_DIR

    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    documented = {
        node["name"]: {c for c, spec in node["columns"].items() if spec.get("description")}
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }
    columns = _read(
        built.warehouse,
        "select table_name, column_name from "
        "information_schema.columns where table_schema = 'marts'",
    )
    missing = {
        (t, c)
        for t, c in columns.itertuples(index=False)
        if t in documented and c not in documented[t]
    }
    assert documented and not missing


def test_alert_acknowledgements_survive_a_rebuild(built, capsys):

    from orchestration import cli
    from orchestration.defs.dbt.manifest import run_dbt

    alert_id = _read(
        built.warehouse, "select alert_id from marts.fct_alerts order by alert_id limit 1"
    )["alert_id"][0]
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("ATW_WAREHOUSE_URL", built.warehouse)
        monkeypatch.setenv("ATW_COLLECTOR_URL", built.collector)
        assert cli.main(["ack", "nosuchalert", "--by", "ops"]) == 2
        assert "no alert 'nosuchalert'" in capsys.readouterr().err
        assert cli.main(["ack", alert_id[:10], "--by", "anna", "--note", "known"]) == 0
        assert f"{alert_id} acknowledged by anna" in capsys.readouterr().out
        assert cli.main(["ack", alert_id, "--by", "raj"]) == 0
        assert "already acknowledged by anna" in capsys.readouterr().out
    run_dbt(
        built.warehouse,
        ["build", "--quiet", "--select", "fct_alerts+", "--indirect-selection", "buildable"],
        "target/alerts",
        check=True,
    )
    inbox = _read(
        built.warehouse, "select alert_id, is_acknowledged, acknowledged_by from marts.alert_inbox"
    )
    acknowledged = inbox[inbox["is_acknowledged"]]
    assert acknowledged.values.tolist() == [[alert_id, True, "anna"]]
    assert len(inbox) == len(_read(built.warehouse, "select 1 from marts.fct_alerts"))


def test_recommendations_and_anomalies_are_present(built):
    anomalies = _read(
        built.warehouse, "select anomaly_type, count(*) as n from marts.fct_anomalies group by 1"
    )
    assert set(anomalies["anomaly_type"]) == {"latency_spike", "error_cluster"}
    sequences = _read(built.warehouse, "select * from marts.fct_tool_sequences")
    assert set(sequences["sequence_length"]) == {2, 3, 4, 5}
    assert (sequences["session_count"] <= sequences["occurrence_count"]).all()
    # Per source: each source's n-grams hold its sessions' counts.
    daily = _read(
        built.warehouse,
        "select source_system, sum(occurrence_count) as occurrences "
        "from intermediate.int_tool_sequences_daily group by 1",
    ).set_index("source_system")["occurrences"]
    per_source = sequences.groupby("source_system")["occurrence_count"].sum()
    assert per_source.to_dict() == daily.to_dict()


def test_new_alerts_are_notified_once(built, webhook):
    url = built.warehouse
    alert_ids = {
        r[0] for r in _read(url, "select alert_id from marts.fct_alerts").itertuples(index=False)
    }
    assert alert_ids
    hook_url = os.environ["ATW_WEBHOOK_URL"]
    assert notify_new_alerts(url, hook_url, "run-1") == len(alert_ids)
    assert len(webhook) == 1 and webhook[0]["count"] == len(alert_ids)
    assert {a["alert_id"] for a in webhook[0]["alerts"]} <= alert_ids
    assert notify_new_alerts(url, hook_url, "run-2") == 0
    assert len(webhook) == 1


SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "telemetry-report.png"


_POINTS = """id => {
    const chart = document.getElementById(id);
    if (!chart || !chart.data || !chart.querySelector('.main-svg')) return -1;
    return chart.data.reduce((n, trace) => n + (trace.z || trace.x || []).length, 0);
}"""


@pytest.mark.skipif(browser.skip_reason() is not None, reason=browser.skip_reason() or "")
def test_report_renders_every_panel_with_data_offline(built, report_file, tmp_path):
    """The HTML report in headless Chromium with every network request refused: every panel
    renders with data, from the one file alone."""
    assert report_file.stat().st_size > 1_000_000  # plotly.js is inside
    errors, requests = [], []
    with browser.chromium_page(width=1400, height=900) as page:
        page.on("pageerror", lambda error: errors.append(str(error)))

        def refuse_the_network(route):
            requests.append(route.request.url)
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", refuse_the_network)
        page.goto(report_file.as_uri(), wait_until="load", timeout=60_000)
        sections = page.eval_on_selector_all(
            "section", "els => els.map(e => [e.id, e.dataset.kind, +e.dataset.rows])"
        )
        assert [s[0] for s in sections] == [p.key for p in PANELS]
        # Charts must draw data; a table may be empty only when its mart is.
        assert [key for key, kind, rows in sections if rows == 0 and kind != "table"] == []
        assert page.locator("[data-empty]").count() == 0
        for key, kind, rows in sections:
            if kind == "table":
                assert page.locator(f"#{key} tbody tr").count() == rows
                assert rows > 0 or page.locator(f"#{key} .none").count() == 1
            else:
                page.wait_for_function(f"({_POINTS})('chart-{key}') > 0", timeout=30_000)
                assert page.locator(f"#chart-{key} .main-svg").first.is_visible()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert errors == []
    assert all(url.startswith("file:") for url in requests)
    with connect(built.warehouse) as conn:
        assert (
            conn.execute(
                "select count(*) from marts.alert_inbox where not is_acknowledged"
            ).fetchone()[0]
            > 0
        )
        empty_tables = {key for key, kind, rows in sections if kind == "table" and rows == 0}
        for key in empty_tables:
            mart = {"open_alerts": "alert_inbox", "recommendations": "fct_recommendations"}[key]
            assert (
                conn.execute(
                    sql.SQL("select count(*) from {}").format(sql.Identifier("marts", mart))
                ).fetchone()[0]
                == 0
            )
    if os.environ.get("ATW_UPDATE_SCREENSHOT") == "1":
        shutil.copy(tmp_path / "report.png", SCREENSHOT)


AGENT_COLUMNS = [
    "agent",
    "sessions",
    "calls",
    "tokens",
    "cost_usd",
    "cost_per_session_usd",
    "tokens_per_session",
    "error_rate_pct",
    "tool_calls_per_session",
    "unpriced_llm_calls",
]


def _report_section(report: str, key: str) -> str:
    match = re.search(rf'<section id="{key}" .*?</section>', report, re.DOTALL)
    assert match, key
    return match.group(0)


def _table_cells(section_html: str) -> list[list[str]]:
    """The table's body, one list of unescaped cell texts per row."""
    body = section_html.split("<tbody>", 1)[1]
    return [
        [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


def _agents_from_sessions_daily(url) -> pd.DataFrame:
    """The agents table computed here from fct_sessions_daily (the comparison mart's source):
    each source's last 30 days up to the newest day with sessions, sums divided afterwards."""
    daily = _read(
        url,
        "select session_date, source_system, session_count, call_count, tool_call_count, "
        "error_count, total_tokens, cost_usd::float as cost_usd, unpriced_llm_call_count "
        "from marts.fct_sessions_daily",
    )
    daily = daily[daily["session_date"] > daily["session_date"].max() - timedelta(days=30)]
    daily = daily.assign(agent=daily["source_system"].map(lambda s: AGENT_LABELS.get(s, s)))
    sums = daily.groupby("agent").agg(
        sessions=("session_count", "sum"),
        calls=("call_count", "sum"),
        tokens=("total_tokens", "sum"),
        cost_usd=("cost_usd", lambda c: c.sum(min_count=1)),
        tools=("tool_call_count", "sum"),
        errors=("error_count", "sum"),
        unpriced_llm_calls=("unpriced_llm_call_count", "sum"),
    )
    sums = sums.astype(float)
    sums["cost_per_session_usd"] = sums["cost_usd"] / sums["sessions"]
    sums["tokens_per_session"] = sums["tokens"] / sums["sessions"]
    sums["error_rate_pct"] = 100 * sums["errors"] / sums["calls"]
    sums["tool_calls_per_session"] = sums["tools"] / sums["sessions"]
    return sums.sort_values("sessions", ascending=False, kind="stable")


def _assert_agents_table(rows: list, expected: pd.DataFrame) -> None:
    """Rows (values, or the report's cell texts) equal to `expected` to the table's rounding."""
    assert [row[0] for row in rows] == list(expected.index)
    digits = {"cost_usd": 4, "cost_per_session_usd": 4, "tokens_per_session": 1}
    for row in rows:
        want = expected.loc[row[0]]
        for column, value in zip(AGENT_COLUMNS[1:], row[1:], strict=True):
            if pd.isna(want[column]):
                assert value in (None, ""), (row[0], column, value)
            else:
                places = digits.get(column, 2)
                assert float(value) == pytest.approx(want[column], abs=0.6 * 10**-places), (
                    row[0],
                    column,
                )


def test_agents_side_by_side_of_one_source_are_its_last_30_days(built):
    """The collector build has one source: the table's one row is its last 30 days, summed
    before dividing; the chart has its cost on each of those days, 0 on days without
    sessions."""
    with connect(built.warehouse) as conn:
        results = query_panels(conn)
        newest = conn.execute(
            "select max(session_date) from marts.fct_agent_comparison_daily"
        ).fetchone()[0]
        daily_cost = dict(
            conn.execute(
                "select session_date, sum(cost_usd) from marts.fct_sessions_daily "
                "where source_system = 'collector' group by 1"
            ).fetchall()
        )
    columns, rows = results["agent_comparison"]
    assert columns == AGENT_COLUMNS
    expected = _agents_from_sessions_daily(built.warehouse)
    assert list(expected.index) == ["Collector"]
    assert expected.loc["Collector", "cost_usd"] > 0
    _assert_agents_table(rows, expected)
    columns, points = results["agent_daily_cost"]
    assert columns == ["day", "agent", "cost_usd"]
    assert [day for day, _, _ in points] == [newest - timedelta(days=n) for n in range(29, -1, -1)]
    assert {agent for _, agent, _ in points} == {"Collector"}
    for day, _, cost in points:
        assert float(cost) == pytest.approx(float(daily_cost.get(day, 0)), abs=5e-5), day


def test_agents_side_by_side_in_the_report_of_every_sample_source(secured_build, secured_warehouse):
    """The report the pipeline rendered over every sample source: one row per source (the
    landing files' two as one), each its sums over its sessions."""
    report = secured_build.report.read_text()
    section = _report_section(report, "agent_comparison")
    assert "<h2>Agents side by side</h2>" in section
    assert [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", section)] == AGENT_COLUMNS
    expected = _agents_from_sessions_daily(secured_warehouse.warehouse)
    assert set(expected.index) == SAMPLE_AGENTS
    _assert_agents_table(_table_cells(section), expected)
    chart = _report_section(report, "agent_daily_cost")
    for agent in expected.index[expected["cost_usd"] > 0]:
        assert f'"name":"{agent}"' in chart, agent


def _agent_day(newest, days_back, source, sessions, cost, calls=0, tools=0, errors=0, tokens=0):
    day = newest - timedelta(days=days_back)
    unpriced = calls if cost is None else 0
    return (f"{day}|{source}", day, source, sessions, calls, tools, errors, tokens, cost, unpriced)


def test_agents_side_by_side_of_several_sources_and_of_none(collector_clone, tmp_path):
    """Hand-made days beside the collector's: cost per session is the sum over the sum (Codex:
    2 USD over 4 sessions is 0.5, where the average of its days' ratios would be 0.67), days
    older than 30 are left out, an unpriced source has no cost and no line, the landing files'
    two sources are one row, a source's name goes into the HTML escaped. With the mart empty,
    both panels say there is no agent data and the rest of the report is unchanged."""
    hostile = "<img src=x onerror=alert(1)>"
    path = tmp_path / "report.html"
    with connect(collector_clone.warehouse) as conn:
        newest = conn.execute(
            "select max(session_date) from marts.fct_agent_comparison_daily"
        ).fetchone()[0]
        days = [
            _agent_day(newest, 0, "codex", 1, 1.0, calls=10, tools=4, errors=1, tokens=100),
            _agent_day(newest, 1, "codex", 3, 1.0, calls=10, tools=2, tokens=300),
            _agent_day(newest, 30, "codex", 5, 50.0, calls=50, tokens=5000),
            _agent_day(newest, 0, "claude_code", 2, None, calls=3, tokens=60),
            _agent_day(newest, 0, "landing_batch", 1, 0.25, calls=2),
            _agent_day(newest, 2, "landing_metric", 1, 0.75, calls=2),
            _agent_day(newest, 0, hostile, 1, 0.1, calls=1),
        ]
        with conn.cursor() as cursor:
            cursor.executemany(
                "insert into marts.fct_agent_comparison_daily (agent_day_key, session_date, "
                "source_system, session_count, call_count, tool_call_count, error_count, "
                "total_tokens, cost_usd, unpriced_llm_call_count) "
                "values (md5(%s), %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                days,
            )
        written = write_report(conn, path)
        report = path.read_text()
        table = {row[0]: row for row in _table_cells(_report_section(report, "agent_comparison"))}
        # sessions, calls, tokens, cost, per session, tokens per session, error rate (%),
        # tool calls per session, unpriced LLM calls
        codex = ["4", "20", "400", "2.0000", "0.5000", "100.0", "5.00", "1.50", "0"]
        assert table["Codex"][1:] == codex
        assert table["Claude Code"][1:] == ["2", "3", "60", "", "", "30.0", "0.00", "0.00", "3"]
        assert table["Landing files"][1:6] == ["2", "4", "0", "1.0000", "0.5000"]
        assert table[hostile][1:6] == ["1", "1", "0", "0.1000", "0.1000"]
        assert hostile not in report
        assert html.escape(hostile) in report
        assert written["agent_comparison"] == len(table) == 5
        chart = _report_section(report, "agent_daily_cost")
        assert '"name":"Codex"' in chart and '"name":"Landing files"' in chart
        assert '"name":"Claude Code"' not in chart
        _, points = query_panels(conn)["agent_daily_cost"]
        codex = {day: float(cost) for day, agent, cost in points if agent == "Codex"}
        assert len(codex) == 30 and sum(codex.values()) == 2.0
        assert codex[newest] == codex[newest - timedelta(days=1)] == 1.0

        conn.execute("delete from marts.fct_agent_comparison_daily")
        written = write_report(conn, path)
    report = path.read_text()
    for key in ("agent_comparison", "agent_daily_cost"):
        section = _report_section(report, key)
        assert written[key] == 0 and 'data-rows="0"' in section
        assert (
            '<p class="empty" data-empty="true">No agent data: '
            "marts.fct_agent_comparison_daily has no sessions yet.</p>"
        ) in section
        assert "<table" not in section and "chart-" not in section
    assert written["token_trends"] > 0
    assert 'id="chart-token_trends"' in _report_section(report, "token_trends")


def _analyst_queries() -> list[str]:
    questions = section(page("marts.md"), "## Ten questions, answered in SQL")
    return [block.split("```", 1)[0] for block in questions.split("```sql\n")[1:]]


def test_the_analyst_questions_of_the_readme_run(built):
    queries = _analyst_queries()
    assert len(queries) == 10
    with connect(built.warehouse) as conn:
        for query in queries:
            cursor = conn.execute(query)
            assert cursor.description, query
            cursor.fetchall()
        # The ones over the whole history answer with rows on the test data.
        for index in (3, 6, 8, 9):
            assert conn.execute(queries[index]).fetchall(), queries[index]


def test_session_message_counts_are_the_transcript_messages_loaded_and_quarantined(built):
    """Each transcript counts in one session: its messages loaded plus those quarantined."""
    with connect(built.warehouse) as conn:
        sessions, loaded, quarantined = conn.execute(
            """
            with called as (
                select distinct source_session_id as session_id
                from intermediate.int_agent_calls_unioned where source_system = 'collector'
            )
            select
                (select sum(message_count) from intermediate.int_sessions_aggregated),
                (select count(*) from raw.collector_transcript_messages
                 where session_id in (select session_id from called)),
                (select count(*) from raw.quarantine
                 where source = 'collector.session_transcripts.messages'
                     and regexp_replace(source_key, ':[0-9]+$', '')
                         in (select session_id from called))
            """
        ).fetchone()
    assert loaded > 0 and sessions == loaded + quarantined
