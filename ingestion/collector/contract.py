"""The collector's record contracts: a `telemetry_events` row, a transcript header and its
messages. Collector batch files carry the same events (file_drops/contract.py builds on
`EventFields`). See ingestion/contracts.py for what a contract declares."""

from typing import Annotated, Any

from pydantic import AliasChoices, Field

from ingestion.core import quarantine, vocabulary
from ingestion.core.contract_fields import (
    INT32_MAX,
    TOKENS_MAX,
    Record,
    boolean,
    cost,
    enum,
    identifier,
    integer,
    json_value,
    name,
    number_in,
    path,
    text,
    timestamp,
)

# The collector's own docs show past-tense decisions; the collector stores the present tense.
DECISION_ALIASES = {"APPROVED": "APPROVE", "DENIED": "DENY", "CONFIRMED": "CONFIRM"}


# --- collector events (telemetry_events rows, and the events of collector batch files) -------


def _input_chars(extra: Any) -> None:
    """Models estimate tokens from extraData.inputChars: a number that fits, if present."""
    if isinstance(extra, dict):
        number_in(extra.get("inputChars"), "inputChars", INT32_MAX)


def _count_sql(value: str) -> str:
    """SQL: why the jsonb `value` is not a count that fits, or null."""
    return (
        f"case when jsonb_typeof({value}) is null or jsonb_typeof({value}) = 'null' "
        f"then null when jsonb_typeof({value}) <> 'number' then '{quarantine.WRONG_TYPE}' "
        f"when ({value})::numeric < 0 then '{quarantine.NEGATIVE_VALUE}' "
        f"when ({value})::numeric > {INT32_MAX} then '{quarantine.OUT_OF_RANGE}' end"
    )


def _input_chars_sql(extra: str) -> str:
    return _count_sql(f"{extra} -> 'inputChars'")


class EventFields(Record):
    host_id: identifier("host_id", required=True)
    session_id: identifier("session_id", required=True)
    event_type: enum("event_type", vocabulary.EVENT_TYPES, required=True)
    agent_name: name("agent_name", required=True)
    hook_name: name("hook_name")
    mode: enum("mode", vocabulary.MODES)
    execution_type: enum("execution_type", vocabulary.EXECUTION_TYPES)
    decision: enum("decision", vocabulary.DECISIONS, required=True, aliases=DECISION_ALIASES)
    decision_reason: text("decision_reason")
    tool_name: name("tool_name")
    working_dir: path("working_dir")
    latency_ms: integer("latency_ms", required=True)
    model_tier: enum("model_tier", vocabulary.MODEL_TIERS)
    model_name: name("model_name")
    success: boolean("success")
    error_count: integer("error_count")
    extra_data: json_value(
        "extra_data", shape=_input_chars, shape_sql=_input_chars_sql, shape_keys=("inputChars",)
    )
    created_at: Annotated[
        timestamp("created_at", required=True, epoch_ms=True),
        Field(validation_alias=AliasChoices("created_at", "timestamp", "createdAt")),
    ]
    prompt_tokens: integer("prompt_tokens", maximum=TOKENS_MAX)
    completion_tokens: integer("completion_tokens", maximum=TOKENS_MAX)
    total_tokens: integer("total_tokens", maximum=TOKENS_MAX)
    cached_tokens: integer("cached_tokens", maximum=TOKENS_MAX)
    reasoning_tokens: integer("reasoning_tokens", maximum=TOKENS_MAX)
    cost: cost("cost")
    client_version: name("client_version")
    generation_id: identifier("generation_id")


class CollectorEvent(EventFields):
    """A row of the collector's `telemetry_events`."""

    cost_fetch_retries: integer("cost_fetch_retries")


# --- collector transcripts ------------------------------------------------------------------


def _message_counts(counts: Any) -> None:
    """Staging reads the count of each role."""
    if isinstance(counts, dict):
        for role in vocabulary.MESSAGE_ROLES:
            number_in(counts.get(role), role, INT32_MAX)


def _message_counts_sql(counts: str) -> str:
    return (
        "coalesce("
        + ", ".join(_count_sql(f"{counts} -> '{role}'") for role in vocabulary.MESSAGE_ROLES)
        + ")"
    )


class TranscriptHeader(Record):
    """A row of the collector's `session_transcripts`, less its messages (`TranscriptMessage`)."""

    host_id: identifier("host_id", required=True)
    session_id: identifier("session_id", required=True)
    message_counts: json_value(
        "message_counts",
        shape=_message_counts,
        shape_sql=_message_counts_sql,
        shape_keys=vocabulary.MESSAGE_ROLES,
        as_received=False,
    )
    created_at: timestamp("created_at", required=True)
    updated_at: timestamp("updated_at", required=True)


class TranscriptMessage(Record):
    """One element of a transcript's `transcript_data` array."""

    role: enum("role", vocabulary.MESSAGE_ROLES, required=True)
    content: text("content", required=True, max_chars=None)
    index: integer("message_index")
