"""GitHub Copilot CLI (`$COPILOT_HOME`, `~/.copilot`): session-state event logs and OTel files,
counted by ccusage 20.0.24's rules (each checked against the 20.0.24 binary: probes, and its
`copilot-cli/ccusage-fixtures` reports).

`session-state/<session>/events.jsonl`, one event per line; the session is the folder's name.

- Only `session.shutdown` lines count. `data.modelMetrics` maps a model to its cumulative
  `usage` for the session (`inputTokens` cache included, `outputTokens` reasoning included,
  `cacheReadTokens`, `cacheWriteTokens`, `reasoningTokens`) and `requests.count`.
  `totalNanoAiu`, `requests.cost` and `session.usage_checkpoint` lines are not read.
- The model: the key trimmed, a `-1m-internal` or `-1m` suffix taken off once; empty, the entry
  is skipped. So is an entry without `usage` (null), and one whose five counts and requests are
  all 0: neither is a snapshot.
- A snapshot shows input without cache (input - cache read - cache write, never below 0), cache
  read, cache write as cache creation, and output; reasoning is informational (shown nowhere,
  not priced, not in the total).
- Each snapshot's row is the interval since the previous snapshot of the same model, per field,
  snapshots in time order (a shutdown's `timestamp`: `YYYY-MM-DDTHH:MM:SS`, optionally `.mmm`,
  then `Z` or `+HH:MM`; ties in file order, and a line's models in key order). The first counts
  whole. An interval of all zeros (reasoning too) with no request is no row. It is counted on
  the shutdown's day.
- A snapshot that a later one of the same event (`id`, trimmed, a non-empty string) and model
  repeats is dropped before the intervals: ccusage keeps the last (`x`@1: 100, `y`@2: 300,
  `x`@3: 600 counts 300 + 300).
- Counter reset, where we differ from ccusage: when a cumulative field drops below the previous
  snapshot's (an older Copilot restarting its totals), ccusage 20.0.24 counts 0 and loses the
  usage until the counter passes its old value again (1,000 -> 400 -> 700 counts 1,300). We
  count the smaller snapshot whole, as a new start (1,000 + 400 + 300 = 1,700). A reset is a
  drop below the previous snapshot of the same model key: two keys that name one model
  (`m` and `m-1m` in one shutdown) interleave in ccusage's sequence, and a drop between them
  counts 0 as ccusage counts it.
- A line that breaks the contract is quarantined and is no snapshot. ccusage reads a count it
  cannot use (a string, a float, a negative) as 0 instead; we reject the line, so a broken
  snapshot never makes the next interval count from 0. (A whole float such as 200.0 is 200
  here, as in every contract of the warehouse.)

`otel/**/*.jsonl`: the OTel JS SDK file exporter's flat records, one per line, read by the rules
of `otel_records` (ccusage reads only a line whose bytes hold `"attributes"`). A record without
a time of its own takes the file's modification time. Dropping an OTel row that a session-state
shutdown covers (same session and model, shutdown at or after it) needs both files: it is SQL's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator

from ingestion.agent_cli import otel_records
from ingestion.agent_cli.usage import BIGINT_MAX, LogFile, Parsed, UsageRecord
from ingestion.core import quarantine
from ingestion.core.contract_fields import (
    INT32_MAX,
    LoadContext,
    check,
    contract_error,
    identifier,
    integer,
    is_clean,
    name,
    timestamp,
)

SHUTDOWN = "session.shutdown"
_EVENTS_FILE = re.compile(r"session-state/[^/]+/events\.jsonl")
# The shutdown times ccusage 20.0.24 reads (others: the line is skipped).
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)
# A snapshot's fields, in the order of an interval.
FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning", "requests")
# The token counts that tell a restart: `requests` is often left out of later snapshots.
RESET_FIELDS = ("input", "output", "cache_read", "cache_write")


def is_events_file(relative: str) -> bool:
    """`session-state/<session>/events.jsonl` below the Copilot home."""
    return _EVENTS_FILE.fullmatch(relative) is not None


def is_otel_file(relative: str) -> bool:
    """`otel/**/*.jsonl` below the Copilot home (any depth, lower-case extension)."""
    parts = relative.split("/")
    return len(parts) >= 2 and parts[0] == "otel" and parts[-1].endswith(".jsonl")


# --- session-state contract ---------------------------------------------------------------


def _shutdown_time(value: Any) -> Any:
    """ccusage's accepted forms only (surrounding white space allowed)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _TIME.fullmatch(otel_records.trim(value)):
        raise contract_error(quarantine.BAD_TIMESTAMP)
    return otel_records.trim(value)


def _id_text(value: Any) -> Any:
    """ccusage ignores the event id; a numeric one is kept as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _entries(value: Any) -> Any:
    """`modelMetrics` as a list in key order (ccusage reads it as a sorted map), each entry
    with its model name."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise contract_error(quarantine.WRONG_TYPE)
    entries = []
    for key in sorted(value):
        metrics = value[key]
        if not isinstance(metrics, dict):
            raise contract_error(quarantine.WRONG_TYPE)
        entries.append(
            {"model": key, "usage": metrics.get("usage"), "requests": metrics.get("requests")}
        )
    return entries


class ShutdownUsage(UsageRecord):
    source_case: ClassVar[str] = "camel"
    input_tokens: integer(None, maximum=BIGINT_MAX)
    output_tokens: integer(None, maximum=BIGINT_MAX)
    cache_read_tokens: integer(None, maximum=BIGINT_MAX)
    cache_write_tokens: integer(None, maximum=BIGINT_MAX)
    reasoning_tokens: integer(None, maximum=BIGINT_MAX)


class ShutdownRequests(UsageRecord):
    count: integer(None, maximum=INT32_MAX)  # request_count is an integer column


class ModelMetrics(UsageRecord):
    source_case: ClassVar[str] = "camel"
    model: name(None)
    usage: ShutdownUsage | None = None
    requests: ShutdownRequests | None = None


class ShutdownData(UsageRecord):
    source_case: ClassVar[str] = "camel"
    model_metrics: Annotated[list[ModelMetrics], BeforeValidator(_entries)] = []


class ShutdownLine(UsageRecord):
    """A `session.shutdown` line of a session-state event log."""

    source_case: ClassVar[str] = "camel"
    type: name(None, required=True)
    id: Annotated[identifier("message_id"), BeforeValidator(_id_text)]
    timestamp: Annotated[timestamp("occurred_at", required=True), BeforeValidator(_shutdown_time)]
    data: ShutdownData | None = None


# --- session-state ------------------------------------------------------------------------


def _snapshot(metrics: ModelMetrics) -> dict | None:
    """A model entry's cumulative counts as ccusage shows them, or None: not a snapshot."""
    usage = metrics.usage
    if usage is None:
        return None
    inp, cache_read, cache_write = (
        usage.input_tokens or 0,
        usage.cache_read_tokens or 0,
        usage.cache_write_tokens or 0,
    )
    output, reasoning = usage.output_tokens or 0, usage.reasoning_tokens or 0
    requests = metrics.requests.count if metrics.requests and metrics.requests.count else 0
    if not any((inp, output, cache_read, cache_write, reasoning, requests)):
        return None
    snapshot = {
        "input": max(inp - cache_read - cache_write, 0),
        "output": output,
        "cache_read": cache_read,
        "cache_write": cache_write,
        "reasoning": reasoning,
        "requests": requests,
    }
    shown = snapshot["input"] + output + cache_read + cache_write
    if shown > BIGINT_MAX:  # an interval's total is at most its snapshot's
        raise quarantine.RowRejected(quarantine.OUT_OF_RANGE, "data.modelMetrics: total")
    return snapshot


def _interval(current: dict, previous: dict | None, own: dict | None) -> dict:
    """Growth since the model's previous snapshot (ccusage: never below 0). A field below the
    previous snapshot of the same model key (`own`) means the counters started again: the
    whole snapshot is new, every field of it (a field that has already grown past its old
    value counts whole too). A token count tells it; `requests`, often left out, does not."""
    if previous is None:
        return dict(current)
    if own is not None and any(current[key] < own[key] for key in RESET_FIELDS):
        return dict(current)
    return {key: max(current[key] - previous[key], 0) for key in FIELDS}


@dataclass(frozen=True)
class _Snapshot:
    at: datetime
    line_number: int
    position: int  # in the line's models, in key order
    event_id: str | None  # as validated (redacted)
    same_event: str | None  # the line's `id` trimmed, when a non-empty string
    raw_model: str
    model: str
    counts: dict


def _latest_of_each_event(snapshots: list[_Snapshot]) -> list[_Snapshot]:
    """Time-ordered snapshots without those a later one of the same event id and model
    repeats (ccusage keeps the last; an event without an id is never a repeat)."""
    ordered = sorted(snapshots, key=lambda s: (s.at, s.line_number, s.position))
    last = {(s.same_event, s.model): i for i, s in enumerate(ordered) if s.same_event}
    return [
        s for i, s in enumerate(ordered) if not s.same_event or last[(s.same_event, s.model)] == i
    ]


def parse_events(data: bytes, log: LogFile, context: LoadContext) -> Parsed:
    """A session-state event log's usage rows: one per shutdown and model, the interval since
    that model's previous shutdown (see the module's docstring)."""
    parsed = Parsed()
    session_id = log.session_id or log.relative.split("/")[1]
    snapshots: list[_Snapshot] = []
    for index, raw_line in enumerate(data.split(b"\n")):
        if not raw_line.strip():
            continue
        parsed.records_read += 1
        line_number = index + 1
        try:
            snapshots += _shutdown_snapshots(raw_line, line_number, context)
        except Exception as error:  # noqa: BLE001 - one bad line never stops the file
            parsed.rejections.append(
                quarantine.rejection(f"{log.key}:{line_number}", error, raw_line)
            )
    previous: dict[str, dict] = {}  # by model
    own: dict[str, dict] = {}  # by the model's key in the file
    rows = []
    for snapshot in _latest_of_each_event(snapshots):
        counts = snapshot.counts
        interval = _interval(counts, previous.get(snapshot.model), own.get(snapshot.raw_model))
        previous[snapshot.model] = own[snapshot.raw_model] = counts
        if any(interval.values()):
            rows.append((snapshot, _row(snapshot, interval, session_id)))
    parsed.rows = [row for _, row in sorted(rows, key=lambda r: (r[0].line_number, r[0].position))]
    return parsed


def _row(snapshot: _Snapshot, interval: dict, session_id: str) -> dict:
    return {
        "record_key": f"{snapshot.line_number}:{snapshot.raw_model}",
        "record_index": snapshot.line_number - 1,
        "record_kind": "shutdown",
        "session_id": session_id,
        "message_id": snapshot.event_id,
        "occurred_at": snapshot.at,
        "model": snapshot.model,
        "provider": None,
        "input_tokens": interval["input"],
        "output_tokens": interval["output"],
        "cache_read_tokens": interval["cache_read"],
        "cache_creation_tokens": interval["cache_write"],
        "reasoning_tokens": interval["reasoning"],
        "extra_output_tokens": 0,
        "total_tokens": sum(interval[k] for k in ("input", "output", "cache_read", "cache_write")),
        "request_count": interval["requests"],
        "tier_rule": "model",
    }


def _shutdown_snapshots(raw_line: bytes, line_number: int, context: LoadContext) -> list:
    record = otel_records.line_object(raw_line)
    if record.get("type") != SHUTDOWN:
        return []  # other events hold no usage
    line = check(ShutdownLine, record, context, is_clean(raw_line))
    same_event = otel_records.text(record.get("id"))
    found = []
    for position, metrics in enumerate(line.data.model_metrics if line.data else []):
        model = otel_records.normalize_model(metrics.model or "")
        counts = _snapshot(metrics)
        if model and counts is not None:
            found.append(
                _Snapshot(
                    line.timestamp,
                    line_number,
                    position,
                    line.id,
                    same_event,
                    metrics.model,
                    model,
                    counts,
                )
            )
    return found


# --- OTel files ---------------------------------------------------------------------------


def read_otel(data: bytes, log: LogFile, context: LoadContext) -> tuple[Parsed, list[dict]]:
    """An OTel file's usage rows and tool/error rows (`otel_records`'s rules)."""
    parsed, records = Parsed(), []
    for index, raw_line in enumerate(data.split(b"\n")):
        if not raw_line.strip():
            continue
        parsed.records_read += 1
        line_number = index + 1
        try:
            record = otel_records.line_object(raw_line)
        except Exception as error:  # noqa: BLE001 - one bad line never stops the file
            parsed.rejections.append(
                quarantine.rejection(f"{log.key}:{line_number}", error, raw_line)
            )
            continue
        # ccusage reads only lines whose bytes name attributes; the rest hold no usage.
        if b'"attributes"' in raw_line:
            records.append(otel_records.FlatRecord(str(line_number), index, record, raw_line))
    found = otel_records.read(records, otel_records.file_time(log, context), context)
    parsed.rows = found.rows
    parsed.rejections += [otel_records.rejection(log.key, r, e) for r, e in found.rejected]
    return parsed, found.tools


def parse_otel(data: bytes, log: LogFile, context: LoadContext) -> Parsed:
    """An OTel file's usage rows (its tool/error rows: `read_otel`)."""
    return read_otel(data, log, context)[0]
