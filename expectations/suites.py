"""The suites, one per table that matters, stage by stage.

`blocking=True`: a failure means what is downstream would be wrong, so the Dagster check stops
the run's downstream assets. Every suite here guards keys, enums or ranges that marts rely on,
so all of them block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations.expectations as gxe

from ingestion import vocabulary

EVENT_TYPES = list(vocabulary.EVENT_TYPES)
DECISIONS = list(vocabulary.DECISIONS)
EXECUTION_TYPES = list(vocabulary.EXECUTION_TYPES)
MODES = list(vocabulary.MODES)
MESSAGE_ROLES = list(vocabulary.MESSAGE_ROLES)


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    stage: str
    schema: str
    table: str
    # Columns that identify a failing row in check metadata (never message text).
    key_columns: tuple[str, ...]
    build: Callable[[], list]
    blocking: bool = True

    @property
    def asset_key_path(self) -> list[str]:
        return [self.schema, self.table]


def _non_negative(*columns: str) -> list:
    return [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in columns]


def _keys(*columns: str) -> list:
    checks: list = [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns]
    if len(columns) == 1:
        checks.append(gxe.ExpectColumnValuesToBeUnique(column=columns[0]))
    else:
        checks.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns)))
    return checks


def _raw_collector_events() -> list:
    return [
        # No row count floor: an empty collector is suspicious (volume checks warn about it),
        # not wrong, and must not block the other sources.
        *_keys("source_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="host_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="session_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="created_at"),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=EVENT_TYPES),
        gxe.ExpectColumnValuesToBeInSet(column="decision", value_set=DECISIONS),
        gxe.ExpectColumnValuesToBeInSet(column="execution_type", value_set=EXECUTION_TYPES),
        gxe.ExpectColumnValuesToBeInSet(column="mode", value_set=MODES),
        *_non_negative("latency_ms", "error_count", "prompt_tokens", "completion_tokens",
                       "total_tokens", "cached_tokens", "reasoning_tokens", "cost"),
    ]


def _raw_transcript_messages() -> list:
    return [
        *_keys("session_id", "message_index"),
        gxe.ExpectColumnValuesToBeInSet(column="role", value_set=MESSAGE_ROLES),
        *_non_negative("message_index", "token_count", "content_chars", "redaction_count"),
    ]


def _stg_events() -> list:
    return [
        *_keys("event_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="occurred_at"),
        gxe.ExpectColumnValuesToNotBeNull(column="tenant_id"),
        gxe.ExpectColumnValuesToBeInSet(column="decision", value_set=DECISIONS),
        *_non_negative("latency_ms", "total_tokens", "prompt_tokens", "completion_tokens"),
    ]


def _session_summaries() -> list:
    return [
        *_keys("session_key"),
        gxe.ExpectColumnValuesToBeBetween(column="success_rate", min_value=0, max_value=1),
        *_non_negative("duration_seconds", "call_count", "message_count", "tool_call_count",
                       "total_tokens", "avg_latency_ms", "p95_latency_ms"),
        # One metric event can carry several tool calls, so tool calls may outnumber calls.
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="tool_call_count", column_B="unique_tool_count", or_equal=True
        ),
        gxe.ExpectColumnValuesToBeBetween(column="token_efficiency", min_value=0, max_value=1),
    ]


def _daily_token_trends() -> list:
    return [
        *_keys("usage_date", "tenant_id"),
        *_non_negative("call_count", "prompt_tokens", "completion_tokens", "total_tokens",
                       "cost_usd"),
    ]


def _activity_heatmap() -> list:
    return [
        *_keys("tenant_id", "day_of_week", "hour_of_day"),
        gxe.ExpectColumnValuesToBeBetween(column="day_of_week", min_value=0, max_value=6),
        gxe.ExpectColumnValuesToBeBetween(column="hour_of_day", min_value=0, max_value=23),
        gxe.ExpectColumnValuesToBeBetween(column="call_count", min_value=1),
        *_non_negative("total_tokens"),
    ]


def _agent_monthly_usage() -> list:
    return [
        *_keys("usage_month", "tenant_id", "agent_name"),
        *_non_negative("call_count", "prompt_tokens", "completion_tokens", "total_tokens"),
    ]


SUITES: tuple[SuiteSpec, ...] = (
    SuiteSpec("raw_collector_events", "raw", "raw", "collector_events", ("source_id",),
              _raw_collector_events),
    SuiteSpec("raw_collector_transcript_messages", "raw", "raw", "collector_transcript_messages",
              ("session_id", "message_index"), _raw_transcript_messages),
    SuiteSpec("stg_collector__telemetry_events", "staging", "staging",
              "stg_collector__telemetry_events", ("event_id",), _stg_events),
    SuiteSpec("fct_session_summaries", "marts", "marts", "fct_session_summaries",
              ("session_key",), _session_summaries),
    SuiteSpec("fct_daily_token_trends", "marts", "marts", "fct_daily_token_trends",
              ("usage_date", "tenant_id"), _daily_token_trends),
    SuiteSpec("fct_activity_heatmap", "marts", "marts", "fct_activity_heatmap",
              ("tenant_id", "day_of_week", "hour_of_day"), _activity_heatmap),
    SuiteSpec("fct_agent_monthly_usage", "marts", "marts", "fct_agent_monthly_usage",
              ("usage_month", "tenant_id", "agent_name"), _agent_monthly_usage),
)


def by_name(name: str) -> SuiteSpec:
    for spec in SUITES:
        if spec.name == name:
            return spec
    raise KeyError(f"no suite named {name!r}; known: {', '.join(s.name for s in SUITES)}")
