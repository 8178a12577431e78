"""The suites, one per table that matters, stage by stage.

Each suite has two halves, run as two Dagster checks on the table's asset:
- `blocking`: schema, ranges, row conservation, the raw record contracts and the rules that
  span rows or tables. A failure means what is downstream would be wrong, so the check holds
  back the run's downstream assets.
- `warnings`: freshness of the newest row and volume against the trailing average. A failure
  is suspicious, not wrong (a quiet weekend, a collector outage), so it only warns.

A rule has one home (docs/quality.md). A dbt model's primary key (unique, not null), its
relationships and accepted values are dbt tests in the model's YAML, never repeated here; the
raw tables, which dbt does not build, keep their keys here. The few not-null, enum and
dimension rules below that a model's YAML does not declare move there, not both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from expectations import sql_rules as rules
from expectations.gx_classes import gxe
from expectations.windows import LoadedSince, Window, days_of
from ingestion import contracts
from ingestion.agent_cli.usage import TOKEN_COLUMNS

SOURCE_SYSTEMS = [
    "collector",
    "landing_batch",
    "landing_metric",
    "claude_code",
    "codex",
    "gemini_cli",
    "opencode",
    "copilot_cli",
    "otlp",
]
SEVERITIES = ["info", "warning", "critical"]
COMPLEXITIES = ["very_low", "low", "medium", "high", "very_high"]


def _none() -> list:
    return []


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    # The warehouse's schemas are its stages: raw, reference, staging, intermediate, marts.
    schema: str
    table: str
    # Columns that identify a failing row in check metadata (never message text).
    key_columns: tuple[str, ...]
    blocking: Callable[[], list]
    warnings: Callable[[], list] = _none
    # The rows a run's blocking validation reads (expectations/windows.py); None: all of them.
    window: Window | None = None

    @property
    def stage(self) -> str:
        return self.schema

    @property
    def asset_key_path(self) -> list[str]:
        return [self.schema, self.table]

    @property
    def has_warnings(self) -> bool:
        """Known without building the expectations, which read settings (the definitions ask
        when they load)."""
        return self.warnings is not _none

    def expectations(self, blocking: bool) -> list:
        if not blocking:
            return self.warnings()
        built = self.blocking()
        return [_schema(self.key_columns, built), *built]


def _schema(key_columns: tuple[str, ...], expectations: list) -> gxe.ExpectTableColumnsToMatchSet:
    """The columns the suite and downstream models rely on must all be there."""
    columns = set(key_columns)
    for expectation in expectations:
        for field in ("column", "column_A", "column_B"):
            if getattr(expectation, field, None):
                columns.add(getattr(expectation, field))
        columns.update(getattr(expectation, "column_list", None) or [])
        columns.update((getattr(expectation, "meta", None) or {}).get("columns", []))
    return gxe.ExpectTableColumnsToMatchSet(column_set=sorted(columns), exact_match=False)


def _non_negative(*columns: str) -> list:
    return [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in columns]


def _not_null(*columns: str) -> list:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns]


def _in_set(column: str, values: list) -> gxe.ExpectColumnValuesToBeInSet:
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values)


def _rate(*columns: str) -> list:
    return [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1) for c in columns]


def _keys(*columns: str) -> list:
    """A raw table's key (dbt tests the keys of the models it builds)."""
    checks: list = _not_null(*columns)
    if len(columns) == 1:
        checks.append(gxe.ExpectColumnValuesToBeUnique(column=columns[0]))
    else:
        checks.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns)))
    return checks


def _timely(column: str) -> Callable[[], list]:
    return lambda: [rules.fresh(column), rules.volume(column)]


# --- raw: what the loaders wrote ------------------------------------------------------------
# Keys, the loader's own record contract (generated from the same declaration, so a record the
# loader accepted can never fail it) and row conservation. No row count floor: an empty source
# is suspicious (the volume warning says so), not wrong, and must not block the other sources.


def _raw(
    model, keys: tuple[str, ...], source: str, table: str, time_column: str | None = None
) -> Callable[[], list]:
    """`table`: the raw table itself, whose rows conservation counts whatever the window.
    Within a window, the keys' uniqueness is the primary key's, which holds for the table.
    Where the primary key also holds `time_column` (the partition key, ingestion/core/
    partitions.py), the loader keeps each key on one row: no row of the window may share its
    key with a row at another time, anywhere in the table (an index lookup per row)."""

    def held_once() -> list:
        if time_column is None:
            return []
        match = sql.SQL(" and ").join(
            sql.SQL("other.{c} = t.{c}").format(c=sql.Identifier(c)) for c in keys
        )
        return [
            rules.rows_where(
                sql.SQL(
                    "exists (select 1 from {table} as other where {match} "
                    "and other.{time} <> t.{time})"
                ).format(
                    table=sql.Identifier(*table.split(".")),
                    match=match,
                    time=sql.Identifier(time_column),
                ),
                keys,
                f"each {', '.join(keys)} on one row of {table}",
            )
        ]

    return lambda: [
        *_keys(*keys),
        *held_once(),
        rules.contract(model, keys),
        rules.conserved(source, table),
    ]


def _raw_agent_cli_usage() -> list:
    """The agent CLIs' usage rows: one per record, counts that are counts. Every usage row's
    file is balanced against what its reader produced by the reconciliation check."""
    return [
        *_keys("agent_cli", "file_path", "record_key"),
        _in_set("agent_cli", ["codex", "gemini_cli", "opencode", "copilot_cli", "otlp"]),
        # `split`: rows read before the model's rule (staging reads it as `model`).
        _in_set("tier_rule", ["model", "whole", "split"]),
        *_not_null("session_id", "occurred_at", "record_kind"),
        *_non_negative(*TOKEN_COLUMNS, "request_count", "logged_cost_usd"),
    ]


LOADED = LoadedSince("_loaded_at")
REBUILT = LoadedSince("rebuilt_at")


# --- reference and staging: what dbt cleaned -------------------------------------------------


def _model_prices() -> list:
    return [
        *_non_negative(
            "input_per_mtok",
            "output_per_mtok",
            "cache_write_5m_per_mtok",
            "cache_write_1h_per_mtok",
            "cache_read_per_mtok",
        ),
    ]


# The loaders quarantine events dated over 24 h ahead of the load; a row edited in raw
# afterwards (or a loader bug) would put calls on days that have not happened yet.
def _not_from_the_future(key: str) -> gxe.UnexpectedRowsExpectation:
    return rules.rows_where(
        sql.SQL("t.occurred_at > t.loaded_at + interval '24 hours'"),
        (key,),
        "no event dated more than 24 h after it was loaded",
    )


def _stg_collector_events() -> list:
    return [
        *_non_negative(
            "latency_ms",
            "total_tokens",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "copy_count",
        ),
        _not_from_the_future("event_id"),
    ]


def _stg_landing_collector_events() -> list:
    return [
        *_not_null("occurred_at", "tenant_id", "session_id"),
        *_non_negative("latency_ms", "total_tokens", "prompt_tokens", "completion_tokens"),
        _not_from_the_future("event_id"),
    ]


def _stg_metric_events() -> list:
    return [
        *_not_null("occurred_at", "tenant_id", "session_id", "agent_name"),
        *_non_negative("latency_ms", "retries", "total_tokens", "tool_call_count"),
    ]


def _stg_api_responses() -> list:
    return [
        *_non_negative(
            "input_tokens",
            "output_tokens",
            "cache_creation_tokens",
            "cache_read_tokens",
            "total_tokens",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="copy_count", min_value=1),
    ]


def _stg_tool_calls() -> list:
    return [
        *_not_null("response_key", "tool_name", "occurred_at"),
        *_non_negative("latency_ms"),
    ]


# --- intermediate: the one row per call that every mart reads ---------------------------------


def _calls() -> list:
    return [
        *_not_null("source_system", "occurred_at"),
        *_non_negative(
            "latency_ms",
            "prompt_tokens",
            "completion_tokens",
            "cached_tokens",
            "reasoning_tokens",
            "cache_creation_tokens",
            "total_tokens",
            "cost_usd",
            "retry_count",
        ),
        rules.rows_where(
            sql.SQL("t.call_date <> (t.occurred_at at time zone 'UTC')::date"),
            ("call_id",),
            "call_date is the UTC day of occurred_at",
        ),
    ]


def _tool_calls() -> list:
    return [
        *_not_null("occurred_at"),
        *_non_negative("latency_ms", "tool_position"),
    ]


# --- marts: what analysts and dashboards read -----------------------------------------------


def _scored_sessions(complexity: bool = True) -> list:
    """`complexity`: whether the enum is checked here (dbt tests it on the summaries mart)."""
    return [
        _in_set("source_system", SOURCE_SYSTEMS),
        *([_in_set("complexity", COMPLEXITIES)] if complexity else []),
        *_rate("success_rate", "error_rate", "token_efficiency"),
        *_non_negative(
            "duration_seconds",
            "call_count",
            "message_count",
            "tool_call_count",
            "total_tokens",
            "avg_latency_ms",
            "p95_latency_ms",
            "cost_usd",
        ),
        # One metric event can carry several tool calls, so tool calls may outnumber calls.
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="tool_call_count", column_B="unique_tool_count", or_equal=True
        ),
        rules.references("host_id", "marts.dim_hosts"),
        rules.references("model", "marts.dim_models", "model_name"),
    ]


def _session_summaries() -> list:
    return [
        *_scored_sessions(complexity=False),
        rules.after_downsample_cutoff("started_at", ("session_key",)),
    ]


def _sessions_daily() -> list:
    return [
        _in_set("source_system", SOURCE_SYSTEMS),
        _in_set("complexity", COMPLEXITIES),
        gxe.ExpectColumnValuesToBeBetween(column="session_count", min_value=1),
        *_non_negative(
            "duration_seconds", "call_count", "tool_call_count", "total_tokens", "cost_usd"
        ),
        rules.daily_counts(
            "session_date", "session_count", "intermediate.int_sessions_scored", "started_at"
        ),
    ]


def _daily_token_trends() -> list:
    return [
        *_non_negative(
            "call_count", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd"
        ),
    ]


def _activity_heatmap() -> list:
    return [
        # day_of_week in 0..6 is dbt's accepted_values test.
        gxe.ExpectColumnValuesToBeBetween(column="hour_of_day", min_value=0, max_value=23),
        gxe.ExpectColumnValuesToBeBetween(column="call_count", min_value=1),
        *_non_negative("total_tokens"),
    ]


def _agent_monthly_usage() -> list:
    return [
        *_non_negative("call_count", "prompt_tokens", "completion_tokens", "total_tokens"),
        rules.references("agent_name", "marts.dim_agents"),
    ]


def _tool_usage() -> list:
    return [
        *_rate("success_rate"),
        *_non_negative("call_count", "error_count", "denied_count", "session_count"),
        rules.references("tool_name", "marts.dim_tools"),
    ]


def _tool_sequences() -> list:
    return [
        # sequence_length in 2..5 is dbt's accepted_values test.
        gxe.ExpectColumnValuesToBeBetween(column="occurrence_count", min_value=1),
        rules.references("first_tool", "marts.dim_tools", "tool_name"),
        rules.references("last_tool", "marts.dim_tools", "tool_name"),
    ]


def _alerts() -> list:
    return [
        *_not_null("alert_type", "severity", "triggered_at"),
        _in_set("severity", SEVERITIES),
        rules.references("agent_name", "marts.dim_agents"),
        # Sessions older than the downsample cutoff are no longer in fct_session_summaries.
        rules.references("session_key", "intermediate.int_sessions_scored"),
    ]


def _anomalies() -> list:
    return [
        gxe.ExpectColumnValuesToBeBetween(column="call_count", min_value=1),
        rules.references("agent_name", "marts.dim_agents"),
        rules.after_downsample_cutoff("started_at", ("anomaly_id",)),
    ]


def _anomalies_daily() -> list:
    return [
        _in_set("anomaly_type", ["latency_spike", "error_cluster"]),
        gxe.ExpectColumnValuesToBeBetween(column="anomaly_count", min_value=1),
        rules.references("agent_name", "marts.dim_agents"),
        rules.daily_counts(
            "anomaly_date", "anomaly_count", "intermediate.int_anomalies", "started_at"
        ),
    ]


def _usage_blocks() -> list:
    return [
        *_not_null("block_end_at", "first_activity_at", "last_activity_at"),
        gxe.ExpectColumnValuesToBeBetween(column="response_count", min_value=1),
        *_non_negative("total_tokens", "cost_usd"),
        rules.after_downsample_cutoff("block_start_at", ("block_start_at",)),
    ]


def _usage_blocks_daily() -> list:
    return [
        gxe.ExpectColumnValuesToBeBetween(column="block_count", min_value=1),
        *_non_negative("response_count", "total_tokens", "cost_usd"),
        rules.daily_counts(
            "block_date", "block_count", "intermediate.int_usage_blocks", "block_start_at"
        ),
    ]


def _recommendations() -> list:
    return [
        *_not_null("subject", "message"),
    ]


def _data_quality_daily() -> list:
    return [
        *_not_null("suite", "check_name", "expectation", "last_success"),
        gxe.ExpectColumnValuesToBeBetween(column="evaluation_count", min_value=1),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="evaluation_count", column_B="failure_count", or_equal=True
        ),
        *_non_negative("failure_count"),
    ]


def _dimension() -> list:
    return _non_negative("call_count")


SUITES: tuple[SuiteSpec, ...] = (
    SuiteSpec(
        "raw_collector_events",
        "raw",
        "collector_events",
        ("source_id",),
        _raw(
            contracts.CollectorEvent,
            ("source_id",),
            "collector.telemetry_events",
            "raw.collector_events",
            "created_at",
        ),
        _timely("created_at"),
        LOADED,
    ),
    SuiteSpec(
        "raw_collector_session_transcripts",
        "raw",
        "collector_session_transcripts",
        ("session_id",),
        _raw(
            contracts.TranscriptHeader,
            ("session_id",),
            "collector.session_transcripts",
            "raw.collector_session_transcripts",
        ),
        window=LOADED,
    ),
    SuiteSpec(
        "raw_collector_transcript_messages",
        "raw",
        "collector_transcript_messages",
        ("session_id", "message_index"),
        _raw(
            contracts.TranscriptMessage,
            ("session_id", "message_index"),
            "collector.session_transcripts.messages",
            "raw.collector_transcript_messages",
        ),
        window=LOADED,
    ),
    SuiteSpec(
        "raw_landed_collector_events",
        "raw",
        "landed_collector_events",
        ("file_path", "event_index"),
        _raw(
            contracts.BatchEvent,
            ("file_path", "event_index"),
            "landing.collector_batches",
            "raw.landed_collector_events",
        ),
        window=LOADED,
    ),
    SuiteSpec(
        "raw_landed_metric_events",
        "raw",
        "landed_metric_events",
        ("event_id",),
        _raw(
            contracts.MetricEvent,
            ("event_id",),
            "landing.metric_events",
            "raw.landed_metric_events",
            "occurred_at",
        ),
        window=LOADED,
    ),
    SuiteSpec(
        "raw_claude_code_lines",
        "raw",
        "claude_code_lines",
        ("file_path", "line_number"),
        _raw(
            contracts.ClaudeCodeLine,
            ("file_path", "line_number"),
            "claude_code.session_logs",
            "raw.claude_code_lines",
        ),
        window=LOADED,
    ),
    SuiteSpec(
        "raw_agent_cli_usage",
        "raw",
        "agent_cli_usage",
        ("agent_cli", "file_path", "record_key"),
        _raw_agent_cli_usage,
        window=LOADED,
    ),
    SuiteSpec(
        "model_prices", "reference", "model_prices", ("model_name", "valid_from"), _model_prices
    ),
    SuiteSpec(
        "stg_collector__telemetry_events",
        "staging",
        "stg_collector__telemetry_events",
        ("event_id",),
        _stg_collector_events,
        window=days_of("raw.collector_events"),
    ),
    SuiteSpec(
        "stg_landing__collector_events",
        "staging",
        "stg_landing__collector_events",
        ("event_id",),
        _stg_landing_collector_events,
        window=days_of("raw.landed_collector_events"),
    ),
    SuiteSpec(
        "stg_landing__metric_events",
        "staging",
        "stg_landing__metric_events",
        ("event_id",),
        _stg_metric_events,
        window=days_of("raw.landed_metric_events"),
    ),
    SuiteSpec(
        "stg_claude_code__api_responses",
        "staging",
        "stg_claude_code__api_responses",
        ("response_key",),
        _stg_api_responses,
        window=days_of("raw.claude_code_lines"),
    ),
    SuiteSpec(
        "stg_claude_code__tool_calls",
        "staging",
        "stg_claude_code__tool_calls",
        ("tool_use_id",),
        _stg_tool_calls,
        window=days_of("raw.claude_code_lines"),
    ),
    SuiteSpec(
        "int_agent_calls_unioned",
        "intermediate",
        "int_agent_calls_unioned",
        ("call_id",),
        _calls,
        _timely("occurred_at"),
        REBUILT,
    ),
    # Incremental by day like the calls fact, its rules by row: the rows rebuilt since.
    SuiteSpec(
        "int_tool_calls",
        "intermediate",
        "int_tool_calls",
        ("tool_call_id",),
        _tool_calls,
        window=REBUILT,
    ),
    # Every session, whatever its age: fct_alerts and fct_sessions_daily read it. Incremental
    # by session, its rules by row (or a lookup of the row's host and model): the sessions
    # scored since (2 s a run at 5 M events whole). A key a dimension lost later is found by
    # the weekly full validation, and for recent sessions by fct_session_summaries' suite.
    SuiteSpec(
        "int_sessions_scored",
        "intermediate",
        "int_sessions_scored",
        ("session_key",),
        _scored_sessions,
        window=REBUILT,
    ),
    SuiteSpec(
        "fct_session_summaries",
        "marts",
        "fct_session_summaries",
        ("session_key",),
        _session_summaries,
    ),
    SuiteSpec(
        "fct_sessions_daily",
        "marts",
        "fct_sessions_daily",
        ("sessions_daily_key",),
        _sessions_daily,
    ),
    SuiteSpec("fct_usage_blocks", "marts", "fct_usage_blocks", ("block_start_at",), _usage_blocks),
    SuiteSpec(
        "fct_usage_blocks_daily",
        "marts",
        "fct_usage_blocks_daily",
        ("block_date",),
        _usage_blocks_daily,
    ),
    SuiteSpec(
        "fct_daily_token_trends",
        "marts",
        "fct_daily_token_trends",
        ("usage_date", "tenant_id", "source_system"),
        _daily_token_trends,
    ),
    SuiteSpec(
        "fct_activity_heatmap",
        "marts",
        "fct_activity_heatmap",
        ("tenant_id", "source_system", "day_of_week", "hour_of_day"),
        _activity_heatmap,
    ),
    SuiteSpec(
        "fct_agent_monthly_usage",
        "marts",
        "fct_agent_monthly_usage",
        ("usage_month", "tenant_id", "source_system", "agent_name"),
        _agent_monthly_usage,
    ),
    SuiteSpec(
        "fct_tool_usage",
        "marts",
        "fct_tool_usage",
        ("usage_date", "tenant_id", "source_system", "tool_name"),
        _tool_usage,
    ),
    SuiteSpec(
        "fct_tool_sequences",
        "marts",
        "fct_tool_sequences",
        ("tool_sequence", "source_system"),
        _tool_sequences,
    ),
    SuiteSpec("dim_agents", "marts", "dim_agents", ("agent_name",), _dimension),
    SuiteSpec("dim_hosts", "marts", "dim_hosts", ("host_id",), _dimension),
    SuiteSpec("dim_models", "marts", "dim_models", ("model_name",), _dimension),
    SuiteSpec("dim_tools", "marts", "dim_tools", ("tool_name",), _dimension),
    SuiteSpec("fct_alerts", "marts", "fct_alerts", ("alert_id",), _alerts),
    SuiteSpec("fct_anomalies", "marts", "fct_anomalies", ("anomaly_id",), _anomalies),
    SuiteSpec(
        "fct_anomalies_daily",
        "marts",
        "fct_anomalies_daily",
        ("anomalies_daily_key",),
        _anomalies_daily,
    ),
    SuiteSpec(
        "fct_recommendations",
        "marts",
        "fct_recommendations",
        ("recommendation_id",),
        _recommendations,
    ),
    SuiteSpec(
        "fct_data_quality_daily",
        "marts",
        "fct_data_quality_daily",
        ("dq_key",),
        _data_quality_daily,
    ),
)


def by_name(name: str) -> SuiteSpec:
    for spec in SUITES:
        if spec.name == name:
            return spec
    raise KeyError(f"no suite named {name!r}; known: {', '.join(s.name for s in SUITES)}")
