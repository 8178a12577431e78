"""OpenTelemetry records into usage rows and tool/error rows: the rules shared by Copilot CLI's
OTel files (`~/.copilot/otel/**/*.jsonl`) and OTLP/JSON file exports (`otlp.py` flattens those
into the same records).

A record is the OTel JS SDK file exporter's flat shape: `type` ("span" for spans), `traceId`,
`spanId` (or both inside `spanContext`), `name`, `kind`, `startTime`/`endTime` ([s, ns]),
`hrTime`, `timeUnixNano`, `body`/`_body`, `status`, and `attributes` (dotted key -> scalar).
Only a record whose `attributes` is an object is read.

The usage rules are ccusage 20.0.24's Copilot OTel reader, each checked against the 20.0.24
binary (probes, and its `copilot-cli/ccusage-fixtures` reports):

- Kinds, highest first: chat span (a span with `gen_ai.operation.name` "chat" or a name
  starting "chat "), inference log (not a span; `event.name`
  "gen_ai.client.inference.operation.details" or a body starting "GenAI inference:"), agent-turn
  log (`copilot_chat.agent.turn`), agent summary span (`invoke_agent`). A record is a span when
  its `type` is "span", or (without a string `type`) it has a name and a span id, trace id,
  `startTime`, `endTime`, `duration` or `kind`.
- Tokens: input = `gen_ai.usage.input_tokens` - cache read (never below 0; cache write is not
  taken off); cache read = `...cache_read.input_tokens`; cache write = the first non-zero of
  `...cache_write.input_tokens`, `...cache_creation.input_tokens`; output =
  `...output_tokens`; reasoning = first non-zero of `...reasoning.output_tokens`,
  `...reasoning_tokens`: shown nowhere, not priced, not in the total. A total
  (`gen_ai.usage.total_tokens`, `...total.token_count`) above the four shown counts makes up
  the shortfall: as output when output is 0, else as extra output tokens (priced as output,
  counted in the total). A record whose four counts are then all 0 is not usage, and does not
  hide lower kinds. A count is a non-negative integer or a string of digits; anything else
  (a float, a negative) is 0.
- Precedence in a file: an inference log is dropped when a chat span has its trace id or
  `gen_ai.response.id`; an agent-turn log when a chat span or inference log has; an agent
  summary span when any of those three has. Repeated records are NOT dropped: ccusage 20.0.24
  counts a second chat span with the same response id, model and usage (and even the same
  trace and span id) again.
- Model: `gen_ai.response.model`, else `gen_ai.request.model`, else the first model any record
  of the trace names, else "unknown"; trimmed, with a `-1m-internal` or `-1m` suffix taken off
  once (`claude-opus-4.6-1m-internal` -> `claude-opus-4.6`).
- Session: the record's highest-priority attribute (`gen_ai.conversation.id`,
  `copilot_chat.session_id`, `copilot_chat.chat_session_id`, `session.id`: 3 - the last of
  these present wins; `github.copilot.interaction_id`: 2; `gen_ai.response.id`: 1), else the
  trace's (its first record with the highest priority), else the trace id, else
  "unknown-session".
- Time: `endTime`, `startTime`, `hrTime`, `_hrTime`, `time` ([s, ns], to the millisecond),
  `timestamp`, `observedTimestamp` (a number read as s, ms, µs or ns by its size),
  `timeUnixNano` (ns, if above 0), else the file's time.
- One request per row. Suppression against Copilot session-state shutdowns (an OTel row of a
  session and model that a shutdown at or after its time covers) is SQL's, across files.

Claude Code's own OTel events (`claude_code.api_request` logs: `model`, `input_tokens` -
without cache, as Claude reports it -, `output_tokens`, `cache_read_tokens`,
`cache_creation_tokens`, `cost_usd`, `session.id`) are read for OTLP exports only (ccusage
reads none): one row each, its logged cost kept.

Tool and error rows (`TOOL_COLUMNS`): `execute_tool` spans (tool `gen_ai.tool.name`, else the
name's suffix), `copilot_chat.tool.call` and `claude_code.tool_result` logs (`success` false is
an error), `claude_code.api_error` logs (an error: `error.type`, else the status code), and any
other span that failed (status code ERROR or an `error.type` attribute). A span's duration is
its end minus its start.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ingestion.agent_cli.usage import BIGINT_MAX, LogFile, UsageRecord
from ingestion.core import quarantine
from ingestion.core.contract_fields import (
    LoadContext,
    boolean,
    check,
    cost,
    enum,
    identifier,
    integer,
    is_clean,
    name,
    parse_json,
    timestamp,
)

CHAT, INFERENCE, AGENT_TURN, AGENT_SUMMARY = (
    "otel_chat_span",
    "otel_inference_log",
    "otel_agent_turn",
    "otel_invoke_agent",
)
CLAUDE_CODE = "otel_claude_code_api_request"
KINDS = (CHAT, INFERENCE, AGENT_TURN, AGENT_SUMMARY, CLAUDE_CODE)

MODEL_ATTRS = ("gen_ai.response.model", "gen_ai.request.model")
# (attribute, priority): the record's session is its highest-priority one, the last listed of
# equals (ccusage takes the maximum with Rust's max_by_key, which keeps the last).
SESSION_ATTRS = (
    ("gen_ai.conversation.id", 3),
    ("copilot_chat.session_id", 3),
    ("copilot_chat.chat_session_id", 3),
    ("session.id", 3),
    ("github.copilot.interaction_id", 2),
    ("gen_ai.response.id", 1),
)
UNKNOWN_MODEL = "unknown"
UNKNOWN_SESSION = "unknown-session"
# Rust's str::trim: Unicode White_Space (Python's str.strip() also takes \x1c-\x1f).
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"
_DIGITS = re.compile(r"\+?[0-9]+", re.ASCII)  # what Rust's u64::from_str reads
U64_MAX = 2**64 - 1
I64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATUS_ERROR = 2  # OTLP's STATUS_CODE_ERROR


# --- ccusage's reading of values ----------------------------------------------------------


def trim(value: str) -> str:
    return value.strip(_WHITE_SPACE)


def text(value: Any) -> str | None:
    """A string, trimmed, when not empty (ccusage's `string_value`)."""
    if not isinstance(value, str):
        return None
    value = trim(value)
    return value or None


def number(value: Any) -> int | None:
    """A non-negative integer up to u64, or a string of digits (ccusage's `number_value`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= U64_MAX else None
    if isinstance(value, str):
        digits = trim(value)
        if _DIGITS.fullmatch(digits):
            parsed = int(digits)
            return parsed if parsed <= U64_MAX else None
    return None


def normalize_model(raw: str) -> str:
    """Copilot's routing suffix off, once: `-1m-internal`, else `-1m`."""
    model = trim(raw)
    for suffix in ("-1m-internal", "-1m"):
        if model.endswith(suffix):
            return model[: -len(suffix)]
    return model


def _count(attributes: dict, key: str) -> int:
    return number(attributes.get(key)) or 0


def _first_count(attributes: dict, keys: Iterable[str]) -> int:
    return next((n for n in (_count(attributes, key) for key in keys) if n > 0), 0)


def _session(attributes: dict) -> tuple[str, int] | None:
    best = None
    for key, priority in SESSION_ATTRS:
        value = text(attributes.get(key))
        if value is not None and (best is None or priority >= best[1]):
            best = (value, priority)
    return best


def _parts_ms(value: Any) -> int | None:
    """[seconds, nanoseconds] in ms; None past u64, as ccusage's checked arithmetic."""
    if not isinstance(value, list) or len(value) < 2:
        return None
    seconds, nanos = number(value[0]), number(value[1])
    if seconds is None or nanos is None:
        return None
    millis = seconds * 1000 + nanos // 1_000_000
    return min(millis, I64_MAX) if millis <= U64_MAX else None


def _scalar_ms(value: Any) -> int | None:
    raw = number(value)
    if raw is None:
        return None
    if raw >= 10**17:
        millis = raw // 1_000_000
    elif raw >= 10**14:
        millis = raw // 1_000
    elif raw >= 10**11:
        millis = raw
    else:
        millis = raw * 1000
    return min(millis, I64_MAX)


def record_ms(record: dict) -> int | None:
    """The record's time in epoch ms by ccusage's order of fields, or None (the file's time)."""
    for key in ("endTime", "startTime", "hrTime", "_hrTime", "time"):
        millis = _parts_ms(record.get(key))
        if millis is not None:
            return millis
    for key in ("timestamp", "observedTimestamp"):
        millis = _scalar_ms(record.get(key))
        if millis is not None:
            return millis
    nanos = number(record.get("timeUnixNano"))
    return min(nanos // 1_000_000, I64_MAX) if nanos else None


def _moment(millis: int | None, fallback: datetime) -> Any:
    """A datetime, or the raw number for the contract to refuse (past datetime's range)."""
    if millis is None:
        return fallback
    try:
        return _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        return millis


def _id(record: dict, key: str) -> str | None:
    context = record.get("spanContext")
    found = text(record.get(key))
    if found is None and isinstance(context, dict):
        found = text(context.get(key))
    return found


# --- kinds --------------------------------------------------------------------------------


def is_span(record: dict) -> bool:
    kind = record.get("type")
    if isinstance(kind, str):
        return kind == "span"
    return text(record.get("name")) is not None and (
        text(record.get("spanId")) is not None
        or text(record.get("traceId")) is not None
        or any(key in record for key in ("startTime", "endTime", "duration", "kind"))
    )


def _body(record: dict) -> str | None:
    return text(record.get("body")) or text(record.get("_body"))


def usage_kind(record: dict, attributes: dict) -> str | None:
    operation = text(attributes.get("gen_ai.operation.name"))
    span_name = text(record.get("name")) or ""
    event = text(attributes.get("event.name"))
    body = _body(record) or ""
    if is_span(record):
        if operation == "chat" or span_name.startswith("chat "):
            return CHAT
        if operation == "invoke_agent" or span_name.startswith("invoke_agent "):
            return AGENT_SUMMARY
        return None
    if event == "gen_ai.client.inference.operation.details" or body.startswith("GenAI inference:"):
        return INFERENCE
    if event == "copilot_chat.agent.turn" or body.startswith("copilot_chat.agent.turn"):
        return AGENT_TURN
    return None


def _event_names(record: dict, attributes: dict) -> set[str]:
    names = {text(attributes.get("event.name")), text(record.get("eventName")), _body(record)}
    return {n for n in names if n}


def _claude_event(record: dict, attributes: dict, event: str) -> bool:
    """A Claude Code event: `claude_code.<event>` as its body or event name, or Claude Code's
    own `event.name` spelling (the bare `<event>`)."""
    names = _event_names(record, attributes)
    return f"claude_code.{event}" in names or text(attributes.get("event.name")) == event


# What a precedence rule compares: the kinds above it, by trace id and by response id.
_HIDDEN_BY = {
    CHAT: (),
    INFERENCE: (CHAT,),
    AGENT_TURN: (CHAT, INFERENCE),
    AGENT_SUMMARY: (CHAT, INFERENCE, AGENT_TURN),
}


# --- the rows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlatRecord:
    """One record to read: its key in the file ("12", "12:3"), its position (0-based), the
    flat record, and the bytes it came from (hashed for quarantine, searched for secrets)."""

    key: str
    index: int
    record: dict
    payload: bytes


@dataclass
class Read:
    rows: list[dict] = field(default_factory=list)
    tools: list[dict] = field(default_factory=list)
    # A record whose rows break the contract: (the record, the error); none of its rows kept.
    rejected: list[tuple[FlatRecord, BaseException]] = field(default_factory=list)


@dataclass
class _Trace:
    model: str | None = None
    session: str | None = None
    priority: int = 0


class OtelUsageRow(UsageRecord):
    """A usage row as the rules made it, checked to fit `raw.agent_cli_usage`."""

    record_kind: enum("record_kind", KINDS, required=True)
    session_id: identifier("session_id", required=True)
    message_id: identifier("message_id")
    response_id: identifier("response_id")
    trace_id: identifier("trace_id")
    occurred_at: timestamp("occurred_at", required=True)
    model: name("model")
    provider: name("provider")
    input_tokens: integer("input_tokens", maximum=BIGINT_MAX)
    output_tokens: integer("output_tokens", maximum=BIGINT_MAX)
    cache_read_tokens: integer("cache_read_tokens", maximum=BIGINT_MAX)
    cache_creation_tokens: integer("cache_creation_tokens", maximum=BIGINT_MAX)
    reasoning_tokens: integer("reasoning_tokens", maximum=BIGINT_MAX)
    extra_output_tokens: integer("extra_output_tokens", maximum=BIGINT_MAX)
    total_tokens: integer("total_tokens", maximum=BIGINT_MAX)
    logged_cost_usd: cost("logged_cost_usd")


class ToolEventRow(UsageRecord):
    """A tool/error row, checked to fit `raw.agent_cli_tool_events`."""

    session_id: identifier("session_id", required=True)
    trace_id: identifier("trace_id")
    occurred_at: timestamp("occurred_at", required=True)
    tool_name: name("tool_name")
    is_error: boolean("is_error", required=True)
    error_type: name("error_type")
    duration_ms: integer("duration_ms", maximum=BIGINT_MAX)


def read(
    records: list[FlatRecord],
    fallback: datetime,
    context: LoadContext,
    claude_code: bool = False,
) -> Read:
    """Usage rows (ccusage's Copilot OTel rules; with `claude_code`, also Claude Code's
    api_request events) and tool/error rows of one file's records, in file order. `fallback`:
    the time of a record that has none (the file's)."""
    readable = [r for r in records if isinstance(r.record.get("attributes"), dict)]
    traces = _traces(readable)
    usage = {}
    for flat in readable:
        found = _candidate(flat.record, traces)
        if found is not None:
            usage[flat.key] = found
    seen = {
        (kind, by): {c[by] for c in usage.values() if c["record_kind"] == kind and c[by]}
        for kind in _HIDDEN_BY
        for by in ("trace_id", "response_id")
    }
    result = Read()
    for flat in readable:
        attributes = flat.record["attributes"]
        candidate = usage.get(flat.key)
        if candidate is not None and any(
            candidate[by] in seen[(higher, by)]
            for higher in _HIDDEN_BY[candidate["record_kind"]]
            for by in ("trace_id", "response_id")
        ):
            candidate = None
        if (
            candidate is None
            and claude_code
            and _claude_event(flat.record, attributes, "api_request")
        ):
            candidate = _claude_code_usage(flat.record, attributes, traces)
        tool = _tool(flat.record, attributes, traces)
        if candidate is None and tool is None:
            continue
        try:
            row, tool_row = _checked(flat, candidate, tool, fallback, context)
        except Exception as error:  # noqa: BLE001 - one bad record never stops the file
            result.rejected.append((flat, error))
            continue
        if row is not None:
            result.rows.append(row)
        if tool_row is not None:
            result.tools.append(tool_row)
    return result


def _traces(records: list[FlatRecord]) -> dict[str, _Trace]:
    """Per trace id: the first model a record names, and the first session attribute of the
    highest priority (later ones of the same priority do not replace it)."""
    traces: dict[str, _Trace] = {}
    for flat in records:
        trace_id = _id(flat.record, "traceId")
        if trace_id is None:
            continue
        attributes = flat.record["attributes"]
        trace = traces.setdefault(trace_id, _Trace())
        if trace.model is None:
            trace.model = next(
                (m for m in (text(attributes.get(k)) for k in MODEL_ATTRS) if m), None
            )
        session = _session(attributes)
        if session is not None and session[1] > trace.priority:
            trace.session, trace.priority = session
    return traces


def _session_of(attributes: dict, trace_id: str | None, traces: dict[str, _Trace]) -> str:
    own = _session(attributes)
    if own is not None:
        return own[0]
    trace = traces.get(trace_id) if trace_id else None
    return (trace.session if trace else None) or trace_id or UNKNOWN_SESSION


def _candidate(record: dict, traces: dict[str, _Trace]) -> dict | None:
    attributes = record["attributes"]
    kind = usage_kind(record, attributes)
    if kind is None:
        return None
    cache_read = _count(attributes, "gen_ai.usage.cache_read.input_tokens")
    cache_write = _first_count(
        attributes,
        ("gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.cache_creation.input_tokens"),
    )
    raw_input = _count(attributes, "gen_ai.usage.input_tokens")
    tokens = {
        "input_tokens": raw_input - min(raw_input, cache_read),
        "output_tokens": _count(attributes, "gen_ai.usage.output_tokens"),
        "cache_read_tokens": cache_read,
        "cache_creation_tokens": cache_write,
        "extra_output_tokens": 0,
    }
    shown = sum(tokens.values())
    total = _first_count(
        attributes, ("gen_ai.usage.total_tokens", "gen_ai.usage.total.token_count")
    )
    if total > shown:
        # The shortfall: output when the record shows none, else extra priced as output.
        which = "output_tokens" if tokens["output_tokens"] == 0 else "extra_output_tokens"
        tokens[which] += total - shown
    if not any(tokens.values()):
        return None
    trace_id = _id(record, "traceId")
    span_id = _id(record, "spanId")
    trace = traces.get(trace_id) if trace_id else None
    model = next((m for m in (text(attributes.get(k)) for k in MODEL_ATTRS) if m), None)
    return {
        "record_kind": kind,
        "session_id": _session_of(attributes, trace_id, traces),
        "message_id": f"{trace_id}:{span_id}" if trace_id and span_id else None,
        "response_id": text(attributes.get("gen_ai.response.id")),
        "trace_id": trace_id,
        "model": normalize_model(model or (trace.model if trace else None) or UNKNOWN_MODEL),
        "provider": text(attributes.get("gen_ai.provider.name"))
        or text(attributes.get("gen_ai.system")),
        "reasoning_tokens": _first_count(
            attributes,
            ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens"),
        ),
        "logged_cost_usd": None,
        **tokens,
    }


def _cost(value: Any) -> Any:
    """Claude Code writes its cost as a number or as a decimal string."""
    if isinstance(value, str):
        try:
            return float(trim(value))
        except ValueError:
            return value  # refused by the contract
    return value


def _claude_code_usage(record: dict, attributes: dict, traces: dict[str, _Trace]) -> dict | None:
    tokens = {
        "input_tokens": _count(attributes, "input_tokens"),
        "output_tokens": _count(attributes, "output_tokens"),
        "cache_read_tokens": _count(attributes, "cache_read_tokens"),
        "cache_creation_tokens": _count(attributes, "cache_creation_tokens"),
        "extra_output_tokens": 0,
    }
    logged_cost = _cost(attributes.get("cost_usd"))
    if not any(tokens.values()) and not logged_cost:
        return None
    trace_id = _id(record, "traceId")
    return {
        "record_kind": CLAUDE_CODE,
        "session_id": _session_of(attributes, trace_id, traces),
        "message_id": text(attributes.get("request_id")),
        "response_id": None,
        "trace_id": trace_id,
        "model": text(attributes.get("model")) or UNKNOWN_MODEL,
        "provider": text(attributes.get("gen_ai.provider.name"))
        or text(attributes.get("gen_ai.system")),
        "reasoning_tokens": 0,
        "logged_cost_usd": logged_cost,
        **tokens,
    }


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and trim(value).lower() == "false")


def _duration(value: Any) -> int | None:
    if isinstance(value, str):
        try:
            value = float(trim(value))
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0 or value > BIGINT_MAX:
        return None
    return int(value)


def _span_duration(record: dict) -> int | None:
    start, end = _parts_ns(record.get("startTime")), _parts_ns(record.get("endTime"))
    if start is None or end is None or end < start:
        return None
    return (end - start) // 1_000_000


def _parts_ns(value: Any) -> int | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    seconds, nanos = number(value[0]), number(value[1])
    return None if seconds is None or nanos is None else seconds * 1_000_000_000 + nanos


def _span_failed(record: dict, attributes: dict) -> tuple[bool, str | None]:
    status = record.get("status")
    code = status.get("code") if isinstance(status, dict) else None
    error_type = text(attributes.get("error.type"))
    failed = code in (STATUS_ERROR, "STATUS_CODE_ERROR", "ERROR") or error_type is not None
    return failed, error_type or ("status_error" if failed else None)


def _tool(record: dict, attributes: dict, traces: dict[str, _Trace]) -> dict | None:
    """The tool call or error a record reports, or None."""
    tool_name = text(attributes.get("gen_ai.tool.name"))
    if is_span(record):
        span_name = text(record.get("name")) or ""
        failed, error_type = _span_failed(record, attributes)
        is_tool = text(attributes.get("gen_ai.operation.name")) == "execute_tool" or (
            span_name == "execute_tool" or span_name.startswith("execute_tool ")
        )
        if not is_tool and not failed:
            return None
        # An exporter may carry the application's other traces too: only a GenAI span's
        # failure is an agent's error (an HTTP or database span's is not).
        if not is_tool and not any(str(key).startswith("gen_ai.") for key in attributes):
            return None
        if is_tool and tool_name is None:
            tool_name = text(span_name[len("execute_tool") :])
        found = {
            "tool_name": tool_name if is_tool else None,
            "is_error": failed,
            "error_type": error_type,
            "duration_ms": _span_duration(record),
        }
    elif _claude_event(record, attributes, "tool_result") or (
        "copilot_chat.tool.call" in _event_names(record, attributes)
    ):
        failed = _is_false(attributes.get("success"))
        found = {
            "tool_name": tool_name or text(attributes.get("tool_name")),
            "is_error": failed,
            "error_type": text(attributes.get("error.type")) if failed else None,
            "duration_ms": _duration(attributes.get("duration_ms")),
        }
    elif _claude_event(record, attributes, "api_error"):
        found = {
            "tool_name": None,
            "is_error": True,
            "error_type": text(attributes.get("error.type"))
            or text(str(attributes.get("status_code") or ""))
            or "api_error",
            "duration_ms": _duration(attributes.get("duration_ms")),
        }
    else:
        return None
    trace_id = _id(record, "traceId")
    return {
        "session_id": _session_of(attributes, trace_id, traces),
        "trace_id": trace_id,
        **found,
    }


def _checked(
    flat: FlatRecord,
    usage: dict | None,
    tool: dict | None,
    fallback: datetime,
    context: LoadContext,
) -> tuple[dict | None, dict | None]:
    """The record's rows, each checked by its contract (RowRejected names the field only)."""
    occurred = _moment(record_ms(flat.record), fallback)
    clean = is_clean(flat.payload)
    row = tool_row = None
    if usage is not None:
        total = sum(
            usage[k]
            for k in (
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_creation_tokens",
                "extra_output_tokens",
            )
        )
        valid = check(
            OtelUsageRow, {**usage, "occurred_at": occurred, "total_tokens": total}, context, clean
        )
        row = {
            **valid.model_dump(),
            "record_key": flat.key,
            "record_index": flat.index,
            "request_count": 1,
            "tier_rule": "model",
        }
    if tool is not None:
        valid = check(ToolEventRow, {**tool, "occurred_at": occurred}, context, clean)
        tool_row = {**valid.model_dump(), "record_key": flat.key}
    return row, tool_row


def rejection(file_key: str, flat: FlatRecord, error: BaseException) -> quarantine.Rejection:
    return quarantine.rejection(f"{file_key}:{flat.key}", error, flat.payload)


def line_object(raw_line: bytes) -> dict:
    """A line's JSON object, or RowRejected (not UTF-8, not JSON, not an object)."""
    try:
        decoded = raw_line.decode("utf-8")
    except UnicodeDecodeError:
        raise quarantine.RowRejected(quarantine.INVALID_UTF8, "line is not UTF-8") from None
    record = parse_json(decoded)
    if not isinstance(record, dict):
        raise quarantine.RowRejected(quarantine.WRONG_TYPE, "line is not an object")
    return record


def file_time(log: LogFile, context: LoadContext) -> datetime:
    """The file's modification time to the millisecond (ccusage's time for a record without
    one), or the load's clock when the file cannot be looked at."""
    try:
        modified_ns = log.path.stat().st_mtime_ns
    except (OSError, AttributeError):
        return context.now
    return _EPOCH + timedelta(milliseconds=modified_ns // 1_000_000)
