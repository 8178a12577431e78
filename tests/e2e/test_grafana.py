"""grafana/: the provisioning files hang together, and every panel's SQL, with Grafana's macros
and the tenant variable expanded as Grafana 11 expands them, runs as an analyst login against a
warehouse built from every sample source and returns rows with the columns the panel plots."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestion.core.connections import connect
from orchestration.defs.report.panels import AGENT_LABEL, AGENT_LABELS
from tests.conftest import SAMPLE_AGENTS, SAMPLE_END, login_url
from warehouse.roles import add_analyst

GRAFANA = Path(__file__).resolve().parents[2] / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE_UID = "atw-warehouse"
# What each panel plots. A panel added to a dashboard must be added here too.
EXPECTED_COLUMNS = {
    "atw-overview": {
        "Calls": ["calls"],
        "Tokens": ["tokens"],
        "Cost (USD)": ["cost_usd"],
        "Sessions": ["sessions"],
        "Session error rate": ["error_rate"],
        "Open alerts": ["open_alerts"],
        "Calls and tokens per day": ["time", "calls", "tokens"],
        "Busiest hours (UTC, all time)": ["day", "hour_of_day", "calls"],
    },
    "atw-tokens-cost": {
        "Tokens per day by type": [
            "time",
            "prompt",
            "completion",
            "cached",
            "reasoning",
            "cache_creation",
        ],
        "Cost per day (USD)": ["time", "cost_usd"],
        "Cost and tokens by model": ["model", "sessions", "tokens", "cost_usd"],
        "Usage per agent and month": ["month", "agent_name", "calls", "tokens", "cost_usd"],
        "Claude Code cost per day by model (USD)": ["time", "metric", "cost_usd"],
        "Claude Code 5-hour usage blocks": [
            "block_start_at",
            "block_end_at",
            "response_count",
            "total_tokens",
            "cost_usd",
            "models",
        ],
    },
    "atw-sessions-tools": {
        "Sessions per day by complexity": ["time", "metric", "sessions"],
        "Most expensive sessions": [
            "session_key",
            "tenant_id",
            "model",
            "complexity",
            "call_count",
            "total_tokens",
            "cost_usd",
            "duration_seconds",
            "started_at",
        ],
        "Tool calls per day (top 8 tools)": ["time", "metric", "calls"],
        "Tools: success, errors, denials, time": [
            "tool_name",
            "calls",
            "success_rate",
            "error_rate",
            "denied_rate",
            "avg_time_ms",
        ],
        "Top tool sequences": [
            "tool_sequence",
            "sequence_length",
            "occurrence_count",
            "session_count",
            "last_seen_at",
        ],
    },
    "atw-errors-alerts": {
        "Error rate per day": ["time", "error_rate"],
        "Errors per day by category": ["time", "metric", "errors"],
        "Alerts per day by severity": ["time", "metric", "alerts"],
        "Open alerts": [
            "triggered_at",
            "severity",
            "alert_type",
            "tenant_id",
            "subject",
            "observed_value",
            "threshold",
            "message",
            "alert_id",
        ],
        "Anomalies": [
            "started_at",
            "anomaly_type",
            "tenant_id",
            "agent_name",
            "observed_value",
            "threshold",
            "call_count",
        ],
        "Recommendations": [
            "recommendation_type",
            "subject",
            "message",
            "observed_value",
            "threshold",
        ],
    },
    "atw-agents": {
        "Cost per session by agent": ["agent", "cost_per_session_usd"],
        "Sessions by agent": ["agent", "sessions"],
        "Error rate by agent": ["agent", "error_rate"],
        "Tokens by agent (daily)": ["time", "metric", "tokens"],
        "Agents side by side": [
            "agent",
            "sessions",
            "calls",
            "tokens",
            "cost_usd",
            "cost_per_session_usd",
            "tokens_per_session",
            "error_rate",
            "tool_calls_per_session",
            "unpriced_llm_calls",
        ],
    },
    "atw-data-quality": {
        "Expectations passing per day": ["time", "pass_rate"],
        "Failures per day by stage and severity": ["time", "metric", "failures"],
        "Latest outcome of each expectation": [
            "check_name",
            "stage",
            "table_name",
            "severity",
            "expectation",
            "column_name",
            "last_success",
            "last_observed_value",
            "last_validated_at",
        ],
        "Evaluations and failures per table": [
            "stage",
            "table_name",
            "evaluations",
            "failures",
            "blocking_failures",
        ],
    },
}
_MACRO = re.compile(r"\$(__[a-zA-Z]+)\(([^)]*)\)")


def sql_list(values: list[str]) -> str:
    """How Grafana writes a multi-value variable's selection into SQL: quoted, comma-separated."""
    return ",".join("'" + v.replace("'", "''") + "'" for v in values)


def expand(sql: str, start: datetime, end: datetime, variables: dict[str, str]) -> str:
    """Grafana's PostgreSQL macros (pkg/tsdb/grafana-postgresql-datasource/macros.go) and
    variables (already written as SQL); anything else is an error here, as it would be in
    Grafana."""

    def rfc3339(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def macro(match: re.Match) -> str:
        name, argument = match.group(1), match.group(2).strip()
        if name == "__timeFilter":
            return f"{argument} BETWEEN '{rfc3339(start)}' AND '{rfc3339(end)}'"
        if name == "__timeFrom":
            return f"'{rfc3339(start)}'"
        if name == "__timeTo":
            return f"'{rfc3339(end)}'"
        raise AssertionError(f"macro ${name} is not expanded by this test: add it")

    sql = _MACRO.sub(macro, sql)
    for name, text in variables.items():
        sql = re.sub(rf"\$(?:{name}\b|\{{{name}\}})", lambda _, text=text: text, sql)
    leftover = re.search(r"\$\w+", sql)
    assert leftover is None, f"unexpanded {leftover.group(0)} in {sql}"
    return sql


def _dashboard(path: Path) -> dict:
    return json.loads(path.read_text())


def test_there_are_six_dashboards_over_one_datasource():
    datasource = (GRAFANA / "provisioning" / "datasources" / "warehouse.yaml").read_text()
    assert f"uid: {DATASOURCE_UID}" in datasource
    assert "type: grafana-postgresql-datasource" in datasource
    provider = (GRAFANA / "provisioning" / "dashboards" / "warehouse.yaml").read_text()
    assert "type: file" in provider
    uids = [_dashboard(path)["uid"] for path in DASHBOARDS]
    assert sorted(uids) == sorted(EXPECTED_COLUMNS)
    for path in DASHBOARDS:
        dashboard = _dashboard(path)
        panels = {panel["title"]: panel for panel in dashboard["panels"]}
        assert sorted(panels) == sorted(EXPECTED_COLUMNS[dashboard["uid"]]), path.name
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids)), path.name
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == DATASOURCE_UID
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == DATASOURCE_UID
                assert target["rawQuery"] and target["rawSql"].strip()


def test_the_agents_dashboard_names_and_filters_sources_as_the_report_does():
    """Every agents panel names the sources with the report's expression (Claude Code, Codex,
    ...) and keeps to the chosen days, tenants and the `source_system` variable's selection."""
    dashboard = _dashboard(GRAFANA / "dashboards" / "agents.json")
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert sorted(variables) == ["source_system", "tenant"]
    assert variables["source_system"]["multi"] and variables["tenant"]["multi"]
    assert "when 'codex' then 'Codex'" in AGENT_LABEL.as_string()
    assert AGENT_LABELS["claude_code"] == "Claude Code"
    for panel in dashboard["panels"]:
        sql = panel["targets"][0]["rawSql"]
        assert AGENT_LABEL.as_string() in sql, panel["title"]
        assert "from marts.fct_agent_comparison_daily" in sql, panel["title"]
        assert "$__timeFilter(session_date)" in sql, panel["title"]
        assert "source_system in ($source_system)" in sql, panel["title"]
        assert "tenant_id in ($tenant)" in sql, panel["title"]


def _marts_with_a_source() -> set[str]:
    """The marts whose dbt YAML documents a `source_system` column."""
    import yaml

    marts = set()
    for path in (GRAFANA.parent / "dbt_project" / "models" / "marts").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            if any(c["name"] == "source_system" for c in model.get("columns", [])):
                marts.add(f"marts.{model['name']}")
    return marts


def test_every_panel_over_a_mart_with_a_source_keeps_to_the_source_variable():
    """A dashboard whose panels read a mart with a `source_system` column offers the variable,
    and every such panel filters on it: one agent's tokens, heatmap or tools alone."""
    marts = _marts_with_a_source()
    assert {"marts.fct_daily_token_trends", "marts.fct_activity_heatmap"} <= marts
    assert "marts.fct_tool_usage" in marts
    for path in DASHBOARDS:
        dashboard = _dashboard(path)
        filtered = []
        for panel in dashboard["panels"]:
            sql = panel["targets"][0]["rawSql"]
            if any(re.search(rf"\b{re.escape(mart)}\b", sql) for mart in marts):
                assert "source_system in ($source_system)" in sql, (path.name, panel["title"])
                filtered.append(panel["title"])
        names = [v["name"] for v in dashboard["templating"]["list"]]
        assert ("source_system" in names) == bool(filtered), path.name


@pytest.fixture(scope="module")
def grafana_login(secured_warehouse) -> str:
    """The datasource's login: in the analyst role, nothing more."""
    name = f"grafana_{uuid.uuid4().hex[:8]}"
    with connect(secured_warehouse.warehouse) as conn:
        add_analyst(conn, name)
    return login_url(secured_warehouse.warehouse, name)


def _variables(url: str, dashboard: dict) -> dict[str, list[str]]:
    values = {}
    with connect(url) as conn:
        for variable in dashboard["templating"]["list"]:
            assert variable["type"] == "query"
            values[variable["name"]] = [r[0] for r in conn.execute(variable["query"])]
    return values


def _selections(url: str, dashboard: dict) -> list[dict[str, str]]:
    """Each variable as the dashboard opens (All: its custom all value, written as is) and with
    every option ticked one by one (a quoted list)."""
    options = _variables(url, dashboard)
    for variable in dashboard["templating"]["list"]:
        assert options[variable["name"]], variable["name"]
        assert variable["current"]["value"] == ["$__all"] and variable["allValue"]
    everything = {v["name"]: v["allValue"] for v in dashboard["templating"]["list"]}
    ticked = {name: sql_list(values) for name, values in options.items()}
    return [everything, ticked] if options else [{}]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_returns_rows_with_its_columns(path, grafana_login):
    dashboard = _dashboard(path)
    # The sample data's 12 days, up to now (the data-quality history is written today).
    start = SAMPLE_END - timedelta(days=30)
    end = datetime.now(UTC) + timedelta(hours=1)
    empty, wrong = [], []
    queries = [
        (panel, target, variables)
        for variables in _selections(grafana_login, dashboard)
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]
    with connect(grafana_login) as conn:
        for panel, target, variables in queries:
            cursor = conn.execute(expand(target["rawSql"], start, end, variables))
            columns = [c.name for c in cursor.description]
            rows = cursor.fetchall()
            if columns != EXPECTED_COLUMNS[dashboard["uid"]][panel["title"]]:
                wrong.append((panel["title"], columns))
            if not rows or all(v is None for v in rows[0]):
                empty.append(panel["title"])
            if target["format"] == "time_series":
                assert columns[0] == "time", panel["title"]
                assert all(isinstance(row[0], datetime) for row in rows), panel["title"]
    assert wrong == []
    assert empty == []


def test_cost_per_session_by_agent_is_the_sum_over_the_sum(grafana_login):
    """Grafana's cost per session of each agent over the sample's days is its cost over its
    sessions in fct_sessions_daily, the mart's own source (not the average of daily ratios);
    the landing files' two sources are one "Landing files"; ticking one source shows it alone."""
    agents = _dashboard(GRAFANA / "dashboards" / "agents.json")
    sql = {panel["title"]: panel["targets"][0]["rawSql"] for panel in agents["panels"]}
    start, end = SAMPLE_END - timedelta(days=30), SAMPLE_END + timedelta(days=1)
    with connect(grafana_login) as conn:
        totals: dict[str, list] = {}
        for source, cost, sessions in conn.execute(
            "select source_system, sum(cost_usd), sum(session_count) from marts.fct_sessions_daily "
            "where session_date between %s and %s group by 1",
            (start.date(), end.date()),
        ):
            label = AGENT_LABELS.get(source, source)
            total = totals.setdefault(label, [None, 0])
            if cost is not None:
                total[0] = (total[0] or 0) + float(cost)
            total[1] += int(sessions)
        every = {"source_system": "source_system", "tenant": "tenant_id"}
        shown = dict(
            conn.execute(expand(sql["Cost per session by agent"], start, end, every)).fetchall()
        )
        sessions = dict(conn.execute(expand(sql["Sessions by agent"], start, end, every)))
        collector_only = conn.execute(
            expand(
                sql["Agents side by side"],
                start,
                end,
                {"source_system": sql_list(["collector"]), "tenant": "tenant_id"},
            )
        ).fetchall()
    # The secured build's sources: the collector, both kinds of landing file, Claude Code and
    # the other agent CLIs.
    assert set(shown) == SAMPLE_AGENTS
    assert {label: int(count) for label, count in sessions.items()} == {
        label: count for label, (_, count) in totals.items()
    }
    for label, (cost, count) in totals.items():
        assert (shown[label] is None) == (cost is None), label
        if cost is not None:
            assert float(shown[label]) == pytest.approx(cost / count), label
    assert [row[0] for row in collector_only] == ["Collector"]


def test_a_tenant_scoped_datasource_login_sees_one_tenant(secured_warehouse):
    from warehouse.roles import set_row_level_security

    url = secured_warehouse.warehouse
    overview = _dashboard(GRAFANA / "dashboards" / "overview.json")
    name = f"grafana_{uuid.uuid4().hex[:8]}"
    with connect(url) as conn:
        tenant = conn.execute(
            "select tenant_id from marts.fct_daily_token_trends where tenant_id is not null limit 1"
        ).fetchone()[0]
        its_sources = [
            r[0]
            for r in conn.execute(
                "select distinct source_system from marts.fct_daily_token_trends "
                "where tenant_id = %s order by 1",
                (tenant,),
            )
        ]
        add_analyst(conn, name, [tenant])
        set_row_level_security(conn, True)
    try:
        assert _variables(login_url(url, name), overview) == {
            "tenant": [tenant],
            "source_system": its_sources,
        }
        # A login that sees no tenant at all still gets valid SQL from "All".
        empty_login = f"grafana_{uuid.uuid4().hex[:8]}"
        with connect(url) as conn:
            add_analyst(conn, empty_login, [])
        with connect(login_url(url, empty_login)) as conn:
            for panel in overview["panels"]:
                conn.execute(
                    expand(
                        panel["targets"][0]["rawSql"],
                        SAMPLE_END - timedelta(30),
                        SAMPLE_END,
                        {"tenant": "tenant_id", "source_system": "source_system"},
                    )
                )
    finally:
        with connect(url) as conn:
            set_row_level_security(conn, False)


def test_the_expansion_matches_grafana():
    start = datetime(2026, 11, 1, tzinfo=UTC)
    end = datetime(2026, 11, 2, 12, 30, tzinfo=UTC)
    assert expand(
        "where $__timeFilter(usage_date) and t in ($tenant) and x > $__timeFrom()",
        start,
        end,
        {"tenant": sql_list(["a", "o'b"])},
    ) == (
        "where usage_date BETWEEN '2026-11-01T00:00:00Z' AND '2026-11-02T12:30:00Z' "
        "and t in ('a','o''b') and x > '2026-11-01T00:00:00Z'"
    )
    with pytest.raises(AssertionError, match="timeGroup"):
        expand("select $__timeGroup(t, '1h')", start, end, {})
