"""Codex CLI rollouts (`$CODEX_HOME/sessions/**/*.jsonl`, `$CODEX_HOME/archived_sessions/`):
one JSON object per line, counted by ccusage 20.0.24's rules.

- A line counts only as Codex writes it: compact JSON whose bytes hold `"type":"<its type>"`
  (ccusage filters lines by those bytes first, so a re-serialised `"type": "event_msg"` line is
  read and holds no usage).
- Usage comes from `event_msg` lines of type `token_count` with an `info`. A `total_token_usage`
  equal to the file's previous one is a repeated snapshot and is skipped. The event's usage is
  its `last_token_usage`, or else the growth of the cumulative total since the previous one (the
  first counts whole). An event whose six counts are all 0 is skipped. A missing or 0
  `total_tokens` is input + output.
- A cumulative total that falls below the previous one means the counter started again: the
  new total counts whole. ccusage 20.0.24 counts the fall as 0 and then only the growth past
  the restarted counter's value, which loses the usage before it.
- The model is the event's `info.model`, else the latest `turn_context` model, else `gpt-5`
  (ccusage's fallback, flagged).
- ccusage shows input without the cached part (`input - cached`) and cached as cache reads;
  output already holds reasoning, which is shown and not priced again; the total is the log's.
- Long context: an event whose raw input (cached included) passes the model's threshold is
  priced whole at the higher rates (`tier_rule` whole).
- Forks (a first-line `session_meta` with `forked_from_id`, or
  `source.subagent.thread_spawn.parent_thread_id`) replay their parent's history. Two rules
  from ccusage: the leading events that equal the parent's (when the parent's rollout is
  loaded: SQL), else a leading burst of events at most 1 s apart (`in_leading_burst`).
  ccusage 20.0.24 counts a replay spread over more than a second again (its own
  `replay-multisecond` fixture: 238.7 M tokens for 5,500 used). We do not: an event in a turn
  whose `task_started` marker says it started before the fork (`started_at` earlier than the
  fork's first line) is the parent's, replayed (`is_replayed_turn`).
- De-duplication across files (a branch that copies its parent's lines) is SQL's: `dedup_key`
  is the event's time in ms, model and six counts.

Tool calls (`response_item` function, custom tool, local shell and web search calls) go to the
tool rows.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator

from ingestion.agent_cli.usage import BIGINT_MAX, LogFile, Parsed, UsageRecord
from ingestion.core import quarantine
from ingestion.core.contract_fields import (
    LoadContext,
    check,
    identifier,
    integer,
    is_clean,
    name,
    parse_json,
    path,
    timestamp,
)

COUNTS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "total_tokens",
)
FALLBACK_MODEL = "gpt-5"
# The tool calls a rollout records, and the tool name of those that carry none.
TOOL_CALLS = {
    "function_call": None,
    "custom_tool_call": None,
    "local_shell_call": "local_shell",
    "web_search_call": "web_search",
}
BURST_MS = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TokenUsage(UsageRecord):
    input_tokens: integer(None, maximum=BIGINT_MAX)
    cached_input_tokens: integer(None, maximum=BIGINT_MAX)
    output_tokens: integer(None, maximum=BIGINT_MAX)
    reasoning_output_tokens: integer(None, maximum=BIGINT_MAX)
    total_tokens: integer(None, maximum=BIGINT_MAX)


class TokenInfo(UsageRecord):
    model: name("model")
    last_token_usage: TokenUsage | None = None
    total_token_usage: TokenUsage | None = None


def _object_or_none(value: Any) -> Any:
    """`info: null` (rate limits only) and any other non-object hold no usage."""
    return value if isinstance(value, dict) else None


class CodexPayload(UsageRecord):
    type: name(None)
    id: identifier("thread_id")
    forked_from_id: identifier("forked_from_id")
    model: name("model")
    cwd: path("project")
    name: name("tool_name")
    started_at: Annotated[float | None, BeforeValidator(lambda value: _epoch_seconds(value))] = None
    info: Annotated[TokenInfo | None, BeforeValidator(_object_or_none)] = None


class CodexLine(UsageRecord):
    """One rollout line that the warehouse reads (session_meta, turn_context, event_msg,
    response_item tool calls); other line types are read and hold nothing."""

    source_case: ClassVar[str] = "snake"
    timestamp: timestamp("occurred_at", required=True)
    type: name(None, required=True)
    payload: CodexPayload | None = None


def _epoch_seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _parent_of(payload: dict) -> Any:
    """The parent thread a fork names: `forked_from_id`, or a subagent's spawning thread."""
    if payload.get("forked_from_id") is not None:
        return payload.get("forked_from_id")
    source = payload.get("source")
    if isinstance(source, dict):
        spawn = (source.get("subagent") or {}) if isinstance(source.get("subagent"), dict) else {}
        thread = spawn.get("thread_spawn")
        if isinstance(thread, dict):
            return thread.get("parent_thread_id")
    return None


def _counts(usage: TokenUsage | None) -> dict | None:
    if usage is None:
        return None
    counts = {key: getattr(usage, key) or 0 for key in COUNTS}
    if not counts["total_tokens"]:
        counts["total_tokens"] = counts["input_tokens"] + counts["output_tokens"]
    return counts


_READ_TYPES = frozenset({"session_meta", "turn_context", "event_msg", "response_item"})


def parse(data: bytes, log: LogFile, context: LoadContext) -> tuple[Parsed, list[dict]]:
    """A rollout's usage rows and tool rows (see the module's docstring for the rules)."""
    parsed, tools = Parsed(), []
    state = _State()
    for index, raw_line in enumerate(data.split(b"\n")):
        if not raw_line.strip():
            continue
        parsed.records_read += 1
        line_number = index + 1
        try:
            row, tool = state.read(raw_line, line_number, log, context)
        except Exception as error:  # noqa: BLE001 - one bad line never stops the file
            parsed.rejections.append(
                quarantine.rejection(f"{log.key}:{line_number}", error, raw_line)
            )
            continue
        if row is not None:
            parsed.rows.append(row)
        if tool is not None:
            tools.append(tool)
    state.mark_replays(parsed.rows)
    return parsed, state.own_tools(parsed.rows, tools)


class _State:
    """What a rollout's earlier lines say about the next: the model in effect, the previous
    cumulative total, the fork, the turn in progress."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.previous: dict | None = None
        self.first_line = True
        self.thread_id: str | None = None
        self.forked_from_id: str | None = None
        self.forked_at: datetime | None = None
        self.project: str | None = None
        self.turn_started_at: float | None = None
        self.usage_events = 0

    def read(self, raw_line: bytes, line_number: int, log: LogFile, context: LoadContext):
        try:
            text = raw_line.decode("utf-8")
        except UnicodeDecodeError:
            raise quarantine.RowRejected(quarantine.INVALID_UTF8, "line is not UTF-8") from None
        record = parse_json(text)
        first, self.first_line = self.first_line, False
        if not isinstance(record, dict):
            raise quarantine.RowRejected(quarantine.WRONG_TYPE, "line is not an object")
        kind = record.get("type")
        if not isinstance(kind, str) or kind not in _READ_TYPES:
            return None, None
        if f'"type":"{kind}"'.encode() not in raw_line:
            return None, None  # ccusage's byte filter: not a line Codex wrote
        raw_payload = record.get("payload")
        if not isinstance(raw_payload, dict):
            raw_payload = None
        elif kind == "session_meta":
            raw_payload = {**raw_payload, "forked_from_id": _parent_of(raw_payload)}
        line = check(CodexLine, {**record, "payload": raw_payload}, context, is_clean(raw_line))
        payload = line.payload
        if payload is None:
            return None, None
        if kind == "session_meta":
            if first:
                self.thread_id = payload.id
                self.forked_from_id = payload.forked_from_id
                self.forked_at = line.timestamp
            self.project = self.project or payload.cwd
            return None, None
        if kind == "turn_context":
            if payload.model:
                self.model = payload.model
            return None, None
        if kind == "response_item":
            if payload.type not in TOOL_CALLS:
                return None, None
            return None, {
                "record_key": str(line_number),
                "session_id": log.session_id,
                "occurred_at": line.timestamp,
                "tool_name": payload.name or TOOL_CALLS[payload.type] or payload.type,
                "is_error": False,
                # Where it stands among the usage events, to tell a fork's replayed calls.
                "_usage_before": self.usage_events,
                "_replayed": self._replayed(),
            }
        if payload.type == "task_started":
            self.turn_started_at = payload.started_at
            return None, None
        if payload.type != "token_count" or payload.info is None:
            return None, None
        return self._usage(payload.info, line, line_number, log), None

    def _usage(self, info: TokenInfo, line: CodexLine, line_number: int, log: LogFile):
        last, total = _counts(info.last_token_usage), _counts(info.total_token_usage)
        if last is None and total is None:
            return None
        if total is not None and self.previous is not None and total == self.previous:
            return None  # a repeated snapshot
        if last is not None:
            delta = last
        else:
            before = self.previous or dict.fromkeys(COUNTS, 0)
            if any(total[key] < before[key] for key in COUNTS):
                delta = total  # the counter started again: all of it is new
            else:
                delta = {key: total[key] - before[key] for key in COUNTS}
        if total is not None:
            self.previous = total
        if not any(delta.values()):
            return None
        self.usage_events += 1
        model = info.model or self.model
        cached = min(delta["cached_input_tokens"], delta["input_tokens"])
        occurred_ms = (line.timestamp - _EPOCH) // timedelta(milliseconds=1)
        return {
            "record_key": str(line_number),
            "record_index": line_number - 1,
            "record_kind": "token_count",
            "session_id": log.session_id,
            "thread_id": self.thread_id,
            "forked_from_id": self.forked_from_id,
            "project": self.project,
            "occurred_at": line.timestamp,
            "model": model or FALLBACK_MODEL,
            "provider": "openai",
            "is_fallback_model": model is None,
            "input_tokens": delta["input_tokens"] - cached,
            "output_tokens": delta["output_tokens"],
            "cache_read_tokens": delta["cached_input_tokens"],
            "cache_creation_tokens": 0,
            "reasoning_tokens": delta["reasoning_output_tokens"],
            "extra_output_tokens": 0,
            "total_tokens": delta["total_tokens"],
            "request_count": 1,
            "tier_rule": "whole",
            "tier_basis_tokens": delta["input_tokens"],
            "usage_ordinal": self.usage_events,
            "in_leading_burst": False,
            "is_replayed_turn": self._replayed(),
            "dedup_key": "|".join(
                str(part)
                for part in (
                    occurred_ms,
                    model or FALLBACK_MODEL,
                    delta["input_tokens"],
                    delta["cached_input_tokens"],
                    0,
                    delta["output_tokens"],
                    delta["reasoning_output_tokens"],
                    delta["total_tokens"],
                )
            ),
        }

    def _replayed(self) -> bool:
        """A fork's event inside a turn that started before the fork: the parent's history."""
        return (
            self.forked_from_id is not None
            and self.forked_at is not None
            and self.turn_started_at is not None
            and self.turn_started_at < math.floor(self.forked_at.timestamp())
        )

    def own_tools(self, rows: list[dict], tools: list[dict]) -> list[dict]:
        """The tool calls of this rollout's own turns: a fork's calls in a replayed turn, or
        before the end of its leading replay burst, are its parent's. (Those of a prefix that
        equals a loaded parent's are counted: that rule needs the parent, in SQL.)"""
        burst = sum(1 for row in rows if row["in_leading_burst"])
        own = [
            tool
            for tool in tools
            if not tool.pop("_replayed") and not (burst and tool["_usage_before"] < burst)
        ]
        for tool in own:
            tool.pop("_usage_before", None)
        return own

    def mark_replays(self, rows: list[dict]) -> None:
        """ccusage's burst rule for a fork: when its first two usage events are at most 1 s
        apart, they and each next event at most 1 s after the one before are replayed."""
        if self.forked_from_id is None or len(rows) < 2:
            return

        def gap(a: dict, b: dict) -> float:
            return (b["occurred_at"] - a["occurred_at"]).total_seconds() * 1000

        if not 0 <= gap(rows[0], rows[1]) <= BURST_MS:
            return
        rows[0]["in_leading_burst"] = True
        for before, row in zip(rows, rows[1:], strict=False):
            if not 0 <= gap(before, row) <= BURST_MS:
                break
            row["in_leading_burst"] = True
