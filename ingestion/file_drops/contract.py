"""The file drops' record contracts: the events of a collector batch file (`*.json`) and a
metric/value line (`*.ndjson`). See ingestion/contracts.py for what a contract declares."""

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from ingestion.collector.contract import EventFields
from ingestion.core import vocabulary
from ingestion.core.contract_fields import (
    TOKENS_MAX,
    Record,
    enum,
    identifier,
    integer,
    name,
    timestamp,
)

MAX_TOOL_CALLS = 1_000


class BatchEvent(EventFields):
    """One event of a collector batch payload (`{"events": [...]}`, camelCase)."""

    source_case: ClassVar[str] = "camel"


# --- metric/value events (seed 001) -----------------------------------------------------------


def _as_text(value: Any) -> Any:
    """Event ids are strings or numbers."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class TokenUsage(Record):
    source_case: ClassVar[str] = "camel"
    prompt_tokens: integer("prompt_tokens", maximum=TOKENS_MAX)
    completion_tokens: integer("completion_tokens", maximum=TOKENS_MAX)


class ToolCall(Record):
    source_case: ClassVar[str] = "camel"
    name: name(None, required=True)
    status: name(None)
    latency_ms: integer(None)


class MetricValue(Record):
    source_case: ClassVar[str] = "camel"
    event_id: Annotated[identifier("event_id", required=True), BeforeValidator(_as_text)]
    agent_id: name("agent_id")
    tenant_id: identifier("tenant_id")
    session_id: identifier("session_id")
    trace_id: identifier("trace_id")
    span_id: identifier("span_id")
    model_id: name("model_id")
    version: name("agent_version")
    token_usage: TokenUsage | None = None
    latency_ms: integer("latency_ms")
    retries: integer("retries")
    error_class: enum("error_class", vocabulary.ERROR_CLASSES)
    error_code: name("error_code")
    tool_calls: Annotated[list[ToolCall] | None, Field(None, max_length=MAX_TOOL_CALLS)]
    occurred_at: timestamp("occurred_at", epoch_ms=True)


class MetricEvent(Record):
    """One line of a metric/value NDJSON file."""

    source_case: ClassVar[str] = "camel"
    metric: name("metric", required=True, max_chars=128)
    value: MetricValue
    timestamp: timestamp("occurred_at", epoch_ms=True)
