"""The record contracts: every record type the loaders accept, declared once.

Each field says what it must be (type, range that fits its raw column, enum, required-ness, size,
the accepted timestamp window) and where it lands. The loaders validate every record with these
models; a record that breaks a rule is quarantined with that rule's reason. The collector's
COPY routes rows that may break one through the same models (`contract_fields.route_sql`), and
the raw tables' blocking checks are generated from them (`contract_fields.violation_sql`).
README's "Record contracts" table is printed from them by `atw contracts`.
"""

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, AliasChoices, BeforeValidator, Field, ValidationInfo

from ingestion import quarantine, redaction, vocabulary
from ingestion.contract_fields import (
    INT32_MAX,
    NAME_CHARS,
    TOKENS_MAX,
    LoadContext,
    Record,
    boolean,
    contract_error,
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
MAX_TOOL_CALLS = 1_000


# --- collector events (telemetry_events rows, and the events of collector batch files) -------

def _input_chars(extra: Any) -> None:
    """Models estimate tokens from extraData.inputChars: a number that fits, if present."""
    if isinstance(extra, dict):
        number_in(extra.get("inputChars"), "inputChars", INT32_MAX)


def _count_sql(value: str) -> str:
    """SQL: why the jsonb `value` is not a count that fits, or null."""
    return (f"case when jsonb_typeof({value}) is null or jsonb_typeof({value}) = 'null' "
            f"then null when jsonb_typeof({value}) <> 'number' then '{quarantine.WRONG_TYPE}' "
            f"when ({value})::numeric < 0 then '{quarantine.NEGATIVE_VALUE}' "
            f"when ({value})::numeric > {INT32_MAX} then '{quarantine.OUT_OF_RANGE}' end")


def _input_chars_sql(extra: str) -> str:
    return _count_sql(f"{extra} -> 'inputChars'")


class _EventFields(Record):
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
    extra_data: json_value("extra_data", shape=_input_chars, shape_sql=_input_chars_sql,
                           shape_keys=("inputChars",))
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


class BatchEvent(_EventFields):
    """One event of a collector batch payload (`{"events": [...]}`, camelCase)."""

    source_case: ClassVar[str] = "camel"


class CollectorEvent(_EventFields):
    """A row of the collector's `telemetry_events`."""

    cost_fetch_retries: integer("cost_fetch_retries")


# --- collector transcripts ------------------------------------------------------------------

def _message_counts(counts: Any) -> None:
    """Staging reads the count of each role."""
    if isinstance(counts, dict):
        for role in vocabulary.MESSAGE_ROLES:
            number_in(counts.get(role), role, INT32_MAX)


def _message_counts_sql(counts: str) -> str:
    return "coalesce(" + ", ".join(_count_sql(f"{counts} -> '{role}'")
                                   for role in vocabulary.MESSAGE_ROLES) + ")"


class TranscriptHeader(Record):
    """A row of the collector's `session_transcripts`, less its messages (`TranscriptMessage`)."""

    host_id: identifier("host_id", required=True)
    session_id: identifier("session_id", required=True)
    message_counts: json_value("message_counts", shape=_message_counts,
                               shape_sql=_message_counts_sql,
                               shape_keys=vocabulary.MESSAGE_ROLES, as_received=False)
    created_at: timestamp("created_at", required=True)
    updated_at: timestamp("updated_at", required=True)


class TranscriptMessage(Record):
    """One element of a transcript's `transcript_data` array."""

    role: enum("role", vocabulary.MESSAGE_ROLES, required=True)
    content: text("content", required=True, max_chars=None)
    index: integer("message_index")


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


# --- Claude Code session logs -----------------------------------------------------------------

@dataclass(frozen=True)
class MessageContent:
    """What the warehouse keeps of a message's content blocks: readable text (redacted), the
    tool calls and the tool results."""

    text: str
    tool_uses: tuple[dict, ...] = ()
    tool_results: tuple[dict, ...] = ()


_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps_any(value: Any) -> str:
    """Any parsed JSON as text, to measure or read it (never stored as JSON)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _readable(value: Any, context: LoadContext) -> str:
    """Text to keep and count tokens of: NUL bytes dropped, broken surrogates replaced (they
    occur in real logs and cannot be stored), secrets redacted."""
    if not isinstance(value, str):
        value = dumps_any(value)
    value = _SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    if context.clean:
        return value
    redacted, found = redaction.redact(value)
    context.redactions.update(found)
    return redacted


def _block_id(block: dict, key: str, index: int, context: LoadContext,
              required: bool) -> str | None:
    value = block.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > NAME_CHARS:
        raise contract_error(quarantine.WRONG_TYPE, f"{index}.{key}")
    clean = _readable(value, context)
    return (redaction.fingerprint(clean, value, context.fingerprint_key)
            if clean != value else value)


def _content(value: Any, info: ValidationInfo) -> MessageContent:
    context: LoadContext = info.context
    if value is None:
        return MessageContent("")
    if isinstance(value, str):
        return MessageContent(_readable(value, context))
    if not isinstance(value, list):
        return MessageContent("")
    texts, uses, results = [], [], []
    for index, block in enumerate(value):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(_readable(block.get("text", ""), context))
        elif kind == "thinking":
            texts.append(_readable(block.get("thinking", ""), context))
        elif kind == "tool_use":
            tool_input = block.get("input")
            use = {"id": _block_id(block, "id", index, context, True),
                   "name": _block_id(block, "name", index, context, True),
                   "input_chars": len(dumps_any(tool_input))}
            if isinstance(tool_input, dict) and tool_input.get("subagent_type"):
                # Task: which subagent.
                use["subagent_type"] = _block_id(tool_input, "subagent_type", index, context,
                                                 True)
            uses.append(use)
        elif kind == "tool_result":
            body = block.get("content")
            body_text = _readable(body, context)
            texts.append(body_text)
            results.append({"tool_use_id": _block_id(block, "tool_use_id", index, context, True),
                            "is_error": block.get("is_error") is True,
                            "content_chars": len(body_text)})
    return MessageContent("\n".join(t for t in texts if t), tuple(uses), tuple(results))


Content = Annotated[Any, AfterValidator(_content), Field(None, validate_default=True)]


class CacheCreation(Record):
    ephemeral_5m_input_tokens: integer("cache_creation_5m_tokens", maximum=TOKENS_MAX)
    ephemeral_1h_input_tokens: integer("cache_creation_1h_tokens", maximum=TOKENS_MAX)


class Usage(Record):
    input_tokens: integer("input_tokens", maximum=TOKENS_MAX)
    output_tokens: integer("output_tokens", maximum=TOKENS_MAX)
    cache_creation_input_tokens: integer("cache_creation_input_tokens", maximum=TOKENS_MAX)
    cache_read_input_tokens: integer("cache_read_input_tokens", maximum=TOKENS_MAX)
    cache_creation: CacheCreation | None = None
    speed: name("speed")  # "fast": Claude Code's fast mode, priced as `<model>-fast`


class ClaudeCodeMessage(Record):
    id: identifier("message_id")
    role: name("message_role")
    model: name("model")
    stop_reason: name("stop_reason")
    usage: Usage | None = None
    content: Content


# Claude Code spells it costUSD, not the camel case of cost_usd.
COST_USD = Field(validation_alias=AliasChoices("cost_usd", "costUSD"))


def _relayed(value: Any) -> Any:
    """`data` of a `progress` line when it relays a subagent's message (`data.message.message`
    an object); any other `data` (hook progress, text) is not a message and is left alone."""
    if isinstance(value, dict) and isinstance(value.get("message"), dict) and isinstance(
            value["message"].get("message"), dict):
        return value
    return None


class RelayedMessage(Record):
    """`data.message` of a `progress` line: a subagent's API response as the parent log relays
    it, with its own time, request id, sidechain flag and cost."""

    source_case: ClassVar[str] = "camel"
    timestamp: timestamp("usage_at")
    request_id: identifier("request_id")
    is_sidechain: boolean("is_sidechain")
    cost_usd: Annotated[cost("cost_usd"), COST_USD]
    message: ClaudeCodeMessage | None = None


class Relay(Record):
    message: RelayedMessage | None = None


class ClaudeCodeLine(Record):
    """One line of a Claude Code session log. Unknown fields and line types are fine."""

    source_case: ClassVar[str] = "camel"
    type: name("line_type")
    session_id: identifier("session_id")
    uuid: identifier("uuid")
    parent_uuid: identifier("parent_uuid")
    timestamp: timestamp("occurred_at")
    version: name("version")
    cwd: path("cwd")
    git_branch: name("git_branch")
    is_sidechain: boolean("is_sidechain")
    agent_id: identifier("agent_id")
    request_id: identifier("request_id")
    cost_usd: Annotated[cost("cost_usd"), COST_USD]
    message: ClaudeCodeMessage | None = None
    data: Annotated[Relay | None, BeforeValidator(_relayed)] = None
    summary: text(None, max_chars=None)
    content: Content


CONTRACTS: dict[str, type[Record]] = {
    "collector event (`telemetry_events`)": CollectorEvent,
    "collector transcript (`session_transcripts`)": TranscriptHeader,
    "transcript message (`transcript_data[i]`)": TranscriptMessage,
    "batch event (`*.json` `events[i]`)": BatchEvent,
    "metric event (`*.ndjson` line)": MetricEvent,
    "Claude Code line (`*.jsonl` line)": ClaudeCodeLine,
}
