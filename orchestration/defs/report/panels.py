"""One query per panel of the report, over the marts and the data-quality history.

Each query returns the columns its chart plots, in plotting order. Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    # stacked_bars, grouped_bars, lines: x, series, y | heatmap: x, y, z | bars: x, y |
    # table: any columns
    kind: str
    sql: str | sql.Composable
    note: str = ""
    # What the panel says when its query returns nothing (default: "No rows in <key>.").
    empty: str = ""


# Readable names of the sources (source_system) the agents panels compare; the Grafana
# dashboard grafana/dashboards/agents.json names them with the same expression.
AGENT_LABELS = {
    "claude_code": "Claude Code",
    "codex": "Codex",
    "gemini_cli": "Gemini CLI",
    "opencode": "OpenCode",
    "copilot_cli": "Copilot CLI",
    "otlp": "OTLP exports",
    "collector": "Collector",
    "landing_batch": "Landing files",
    "landing_metric": "Landing files",
}
AGENT_LABEL = sql.SQL("case source_system {} else source_system end").format(
    sql.SQL(" ").join(
        sql.SQL("when {} then {}").format(sql.Literal(source), sql.Literal(label))
        for source, label in AGENT_LABELS.items()
    )
)
_NO_AGENT_DATA = "No agent data: marts.fct_agent_comparison_daily has no sessions yet."


PANELS: tuple[Panel, ...] = (
    Panel(
        "token_trends",
        "Tokens per day and token type",
        "stacked_bars",
        """
        select d.usage_date, v.token_type, sum(v.tokens) as tokens
        from marts.fct_daily_token_trends as d
        cross join lateral (values
            ('prompt', d.prompt_tokens), ('completion', d.completion_tokens),
            ('cached', d.cached_tokens), ('reasoning', d.reasoning_tokens),
            ('cache_creation_5m', d.cache_creation_5m_tokens),
            ('cache_creation_1h', d.cache_creation_1h_tokens)
        ) as v (token_type, tokens)
        group by 1, 2 having sum(v.tokens) > 0 order by 1, 2""",
    ),
    Panel(
        "activity_heatmap",
        "Calls by hour of day and day of week (UTC)",
        "heatmap",
        """
        select hour_of_day, day_of_week, sum(call_count) as calls
        from marts.fct_activity_heatmap group by 1, 2 order by 2, 1""",
        "day of week: 0 = Sunday",
    ),
    Panel(
        "agent_monthly_usage",
        "Tokens per agent and month (top 10 agents)",
        "stacked_bars",
        """
        with top as (
            select agent_name from marts.fct_agent_monthly_usage
            group by 1 order by sum(total_tokens) desc limit 10
        )
        select to_char(usage_month, 'YYYY-MM') as month, agent_name, sum(total_tokens) as tokens
        from marts.fct_agent_monthly_usage join top using (agent_name)
        group by 1, 2 order by 1, 2""",
    ),
    Panel(
        "cost_by_model",
        "Cost by model (USD)",
        "bars",
        """
        select model_name, round(cost_usd::numeric, 4) as cost_usd
        from marts.dim_models where cost_usd > 0 order by cost_usd desc""",
    ),
    Panel(
        "session_complexity",
        "Sessions by complexity",
        "bars",
        """
        select complexity, sum(session_count) as sessions
        from marts.fct_sessions_daily
        group by 1
        order by array_position(
            array['very_low', 'low', 'medium', 'high', 'very_high'], complexity)""",
    ),
    Panel(
        "tool_usage",
        "Tool calls and errors (top 15 tools)",
        "grouped_bars",
        """
        select tool_name, measure, value from (
            select tool_name, sum(call_count) as calls, sum(error_count) as errors,
                sum(denied_count) as denied
            from marts.fct_tool_usage group by 1 order by 2 desc limit 15
        ) as t
        cross join lateral (values ('calls', calls), ('errors', errors), ('denied', denied))
            as v (measure, value)
        order by tool_name, measure""",
    ),
    Panel(
        "tool_sequences",
        "Top tool sequences",
        "bars",
        """
        select tool_sequence, sum(occurrence_count) as occurrence_count
        from marts.fct_tool_sequences
        group by 1 order by 2 desc, 1 limit 15""",
    ),
    Panel(
        "error_taxonomy",
        "Errors per day by category",
        "stacked_bars",
        """
        select session_date as day, pattern.key as category,
            sum(pattern.value::integer) as errors
        from marts.fct_sessions_daily,
            jsonb_each_text(error_breakdown -> 'patterns') as pattern
        group by 1, 2 having sum(pattern.value::integer) > 0 order by 1, 2""",
    ),
    # The agents panels cover the 30 days up to the newest day with sessions, not up to today:
    # a warehouse that stopped receiving data still compares its agents' last month.
    Panel(
        "agent_comparison",
        "Agents side by side",
        "table",
        sql.SQL("""
        select {agent} as agent,
            sum(session_count) as sessions,
            sum(call_count) as calls,
            sum(total_tokens) as tokens,
            round(sum(cost_usd)::numeric, 4) as cost_usd,
            round(sum(cost_usd)::numeric / nullif(sum(session_count), 0), 4)
                as cost_per_session_usd,
            round(sum(total_tokens)::numeric / nullif(sum(session_count), 0), 1)
                as tokens_per_session,
            round(100.0 * sum(error_count) / nullif(sum(call_count), 0), 2) as error_rate_pct,
            round(sum(tool_call_count)::numeric / nullif(sum(session_count), 0), 2)
                as tool_calls_per_session,
            sum(unpriced_llm_call_count) as unpriced_llm_calls
        from marts.fct_agent_comparison_daily
        where session_date > (
            select max(session_date) - 30 from marts.fct_agent_comparison_daily)
        group by 1 order by sessions desc, agent""").format(agent=AGENT_LABEL),
        "the 30 days up to the newest day with sessions (UTC); per session = the sum over the "
        "days divided by the days' sessions; cost leaves out the unpriced LLM calls",
        _NO_AGENT_DATA,
    ),
    Panel(
        "agent_daily_cost",
        "Cost per day by agent (USD)",
        "lines",
        sql.SQL("""
        with days as (
            select newest.day - back as day
            from (select max(session_date) as day from marts.fct_agent_comparison_daily)
                as newest,
                generate_series(0, 29) as back
            where newest.day is not null
        ),
        daily as (
            select session_date as day, {agent} as agent, sum(cost_usd) as cost_usd
            from marts.fct_agent_comparison_daily
            where session_date > (
                select max(session_date) - 30 from marts.fct_agent_comparison_daily)
            group by 1, 2
        ),
        priced as (select agent from daily group by 1 having sum(cost_usd) > 0)
        select days.day, priced.agent,
            case when daily.day is null then 0 else round(daily.cost_usd::numeric, 4) end
                as cost_usd
        from days cross join priced
        left join daily on daily.day = days.day and daily.agent = priced.agent
        order by 2, 1""").format(agent=AGENT_LABEL),
        "the same 30 days; 0 on days without sessions, a gap on days whose calls were all "
        "unpriced; agents without any cost are left out",
        _NO_AGENT_DATA,
    ),
    Panel(
        "open_alerts",
        "Open alerts (newest 50)",
        "table",
        """
        select triggered_at, severity, alert_type, coalesce(agent_name, session_key) as subject,
            observed_value, threshold, left(alert_id, 12) as alert_id
        from marts.alert_inbox where not is_acknowledged
        order by triggered_at desc, alert_id limit 50""",
    ),
    Panel(
        "recommendations",
        "Recommendations",
        "table",
        """
        select recommendation_type, subject, message, observed_value, threshold
        from marts.fct_recommendations order by recommendation_type, subject""",
    ),
    Panel(
        "data_quality",
        "Expectations evaluated per day, by stage and outcome",
        "stacked_bars",
        """
        select validated_at::date as day,
            stage || case when success then ' passed' else ' failed (' || severity || ')' end
                as outcome,
            count(*) as expectations
        from ops.dq_validation_results
        group by 1, 2 order by 1, 2""",
        "every expectation evaluated is in ops.dq_validation_results",
    ),
)
