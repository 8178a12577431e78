"""Parse and validate file-drop records. Pure functions: a record becomes a row or RowRejected.

Timestamps: ISO-8601 strings or epoch milliseconds; naive ISO timestamps are taken as UTC.
Nothing more than 24 h in the future is accepted.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from ingestion import quarantine, vocabulary
from ingestion.quarantine import RowRejected

MAX_FUTURE = timedelta(hours=24)
# The collector's own docs show past-tense decisions; the collector stores the present tense.
DECISION_ALIASES = {"APPROVED": "APPROVE", "DENIED": "DENY", "CONFIRMED": "CONFIRM"}
INT32_MAX = 2**31 - 1


def check_text(value, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowRejected(quarantine.WRONG_TYPE, f"{field} is not a string")
    if "\x00" in value:
        raise RowRejected(quarantine.NUL_BYTE, field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RowRejected(quarantine.INVALID_UTF8, field) from None
    return value


def check_strings_deep(value, field: str) -> None:
    """NUL bytes or unpaired surrogates anywhere inside nested JSON."""
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, field)
            check_strings_deep(item, field)
    elif isinstance(value, list):
        for item in value:
            check_strings_deep(item, field)


def non_negative_int(value, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RowRejected(quarantine.WRONG_TYPE, f"{field} is not a number")
    if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
        raise RowRejected(quarantine.WRONG_TYPE, f"{field} is not a whole number")
    if value < 0:
        raise RowRejected(quarantine.NEGATIVE_VALUE, field)
    if value > INT32_MAX:
        raise RowRejected(quarantine.OVERSIZE, field)
    return int(value)


def non_negative_number(value, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RowRejected(quarantine.WRONG_TYPE, f"{field} is not a number")
    if value < 0:
        raise RowRejected(quarantine.NEGATIVE_VALUE, field)
    return float(value)


def parse_timestamp(value, field: str, now: datetime) -> datetime:
    if isinstance(value, bool):
        raise RowRejected(quarantine.BAD_TIMESTAMP, field)
    try:
        if isinstance(value, (int, float)):
            parsed = datetime.fromtimestamp(value / 1000, tz=UTC)
        elif isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
        else:
            raise ValueError(field)
    except (ValueError, OverflowError, OSError):
        raise RowRejected(quarantine.BAD_TIMESTAMP, field) from None
    parsed = parsed.astimezone(UTC)
    if parsed > now + MAX_FUTURE:
        raise RowRejected(quarantine.FUTURE_TIMESTAMP, field)
    return parsed


def require(record: dict, keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if record.get(k) in (None, "")]
    if missing:
        raise RowRejected(quarantine.MISSING_REQUIRED_KEY, ",".join(missing))


def enum(value, allowed: tuple[str, ...], field: str, aliases: dict | None = None):
    if value is None:
        return None
    value = (aliases or {}).get(value, value)
    if value not in allowed:
        raise RowRejected(quarantine.UNKNOWN_ENUM, field)
    return value


BATCH_REQUIRED = ("hostId", "sessionId", "eventType", "agentName", "decision", "latencyMs",
                  "timestamp")


def collector_batch_event(event, now: datetime) -> dict:
    """One event of a collector batch payload (`{"events": [...]}`) as a raw row."""
    if not isinstance(event, dict):
        raise RowRejected(quarantine.WRONG_TYPE, "event is not an object")
    require(event, BATCH_REQUIRED)
    for key in ("hostId", "sessionId", "eventType", "agentName", "hookName", "mode",
                "executionType", "decision", "decisionReason", "toolName", "workingDir",
                "modelTier", "modelName", "clientVersion", "generationId"):
        check_text(event.get(key), key)
    if event.get("extraData") is not None:
        check_strings_deep(event["extraData"], "extraData")
    success = event.get("success")
    if success is not None and not isinstance(success, bool):
        raise RowRejected(quarantine.WRONG_TYPE, "success is not a boolean")
    return {
        "host_id": event["hostId"],
        "session_id": event["sessionId"],
        "event_type": enum(event["eventType"], vocabulary.EVENT_TYPES, "eventType"),
        "agent_name": event["agentName"],
        "hook_name": event.get("hookName"),
        "mode": enum(event.get("mode"), vocabulary.MODES, "mode"),
        "execution_type": enum(event.get("executionType"), vocabulary.EXECUTION_TYPES,
                               "executionType"),
        "decision": enum(event["decision"], vocabulary.DECISIONS, "decision", DECISION_ALIASES),
        "decision_reason": event.get("decisionReason"),
        "tool_name": event.get("toolName"),
        "working_dir": event.get("workingDir"),
        "latency_ms": non_negative_int(event["latencyMs"], "latencyMs"),
        "model_tier": enum(event.get("modelTier"), vocabulary.MODEL_TIERS, "modelTier"),
        "model_name": event.get("modelName"),
        "success": success,
        "error_count": non_negative_int(event.get("errorCount"), "errorCount"),
        "extra_data": event.get("extraData"),
        "created_at": parse_timestamp(event["timestamp"], "timestamp", now),
        "prompt_tokens": non_negative_int(event.get("promptTokens"), "promptTokens"),
        "completion_tokens": non_negative_int(event.get("completionTokens"), "completionTokens"),
        "total_tokens": non_negative_int(event.get("totalTokens"), "totalTokens"),
        "cached_tokens": non_negative_int(event.get("cachedTokens"), "cachedTokens"),
        "reasoning_tokens": non_negative_int(event.get("reasoningTokens"), "reasoningTokens"),
        "cost": non_negative_number(event.get("cost"), "cost"),
        "client_version": event.get("clientVersion"),
        "generation_id": event.get("generationId"),
    }


def metric_event(record, now: datetime, file_time: datetime) -> dict:
    """One metric/value line (seed 001) as a raw row. `value.eventId` is the key."""
    if not isinstance(record, dict):
        raise RowRejected(quarantine.WRONG_TYPE, "line is not an object")
    require(record, ("metric", "value"))
    metric = check_text(record["metric"], "metric")
    if not 1 <= len(metric) <= 128:
        raise RowRejected(quarantine.OVERSIZE, "metric must be 1-128 characters")
    value = record["value"]
    if not isinstance(value, dict):
        raise RowRejected(quarantine.WRONG_TYPE, "value is not an object")
    require(value, ("eventId",))
    check_strings_deep(value, "value")
    if "timestamp" in record and record["timestamp"] is not None:
        occurred_at, inferred = parse_timestamp(record["timestamp"], "timestamp", now), False
    elif value.get("occurredAt") is not None:
        occurred_at, inferred = parse_timestamp(value["occurredAt"], "occurredAt", now), False
    else:
        occurred_at, inferred = file_time, True
    usage = value.get("tokenUsage") or {}
    if not isinstance(usage, dict):
        raise RowRejected(quarantine.WRONG_TYPE, "tokenUsage is not an object")
    tool_calls = value.get("toolCalls") or []
    if not isinstance(tool_calls, list):
        raise RowRejected(quarantine.WRONG_TYPE, "toolCalls is not an array")
    calls = []
    for position, call in enumerate(tool_calls):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise RowRejected(quarantine.MISSING_REQUIRED_KEY, f"toolCalls[{position}].name")
        calls.append({
            "name": call["name"],
            "status": call.get("status"),
            "latencyMs": non_negative_int(call.get("latencyMs"),
                                          f"toolCalls[{position}].latencyMs"),
        })
    agent_id = value.get("agentId")
    return {
        "event_id": str(value["eventId"]),
        "metric": metric,
        "agent_id": agent_id,
        # Seed 001: tenantId is omitted or equals agentId when an agent is its own tenant.
        "tenant_id": value.get("tenantId") or agent_id,
        "session_id": value.get("sessionId"),
        "trace_id": value.get("traceId"),
        "span_id": value.get("spanId"),
        "model_id": value.get("modelId"),
        "agent_version": value.get("version"),
        "prompt_tokens": non_negative_int(usage.get("promptTokens"), "promptTokens"),
        "completion_tokens": non_negative_int(usage.get("completionTokens"), "completionTokens"),
        "latency_ms": non_negative_int(value.get("latencyMs"), "latencyMs"),
        "retries": non_negative_int(value.get("retries"), "retries"),
        "error_class": enum(value.get("errorClass"), vocabulary.ERROR_CLASSES, "errorClass"),
        "error_code": value.get("errorCode"),
        "tool_calls": calls,
        "occurred_at": occurred_at,
        "is_time_inferred": inferred,
    }
