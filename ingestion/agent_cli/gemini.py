"""Gemini CLI chat files into usage rows, counted as ccusage 20.0.24 counts them (`ccusage
gemini`).

The source is `~/.gemini/tmp/<project hash>/chats/`. Gemini CLI writes each session as one JSON
document, `session-<time>-<id>.json` (`sessionId`, `startTime`, `lastUpdated`, `messages[]`),
rewritten in place as the chat grows. Newer versions append to `session-<time>-<id>.jsonl`
instead: a metadata line, then a line per message, the same message written again whenever it
changes; a subagent's file is `chats/<parent session>/<id>.jsonl`. A file is read whole each
time it changes. `logs.json`, `checkpoint-*.json` and `shell_history` hold no usage.

Counting rules (each checked against ccusage 20.0.24's output):

- A message counts when its `type` is exactly "gemini", it has a `tokens` object and it has a
  model. In a .json document that is its own `model`. In a .jsonl file it is the latest
  `model` of any line so far, this one included. Ids, models and session ids are trimmed, and
  an empty or non-string one counts as absent.
- Cache inside input: when `cached` > 0 and `total` = input + output + thoughts + tool, the
  input includes the cache, so `input_tokens` = input - min(input, cached); otherwise the
  input holds no cache. `tool` is then added to `input_tokens`.
- `output_tokens` = output, `cache_read_tokens` = cached, no cache creation.
- A missing `total` is input_tokens + output + cached + thoughts. A larger `total` leaves a
  shortfall. The shortfall becomes the output when output is 0; otherwise it is added to the
  thoughts in `extra_output_tokens`. `extra_output_tokens` is priced as output and shown in no
  column.
- `total_tokens` is the larger of the (logged or computed) total and the shown columns' sum.
- A message with all of input, output, cache and extra at 0 counts nothing.
- Time: `timestamp`, else `created_at`, else the document's `startTime`, else `lastUpdated`.
  ccusage reads only `YYYY-MM-DDTHH:MM:SS[.mmm]` with `Z` or `+HH:MM`.
- Session: the document's `sessionId`, else the file's stem. In a .jsonl file, a line with a
  session id sets the session of the lines after it (and its own).
- In a .jsonl file, a message whose id was already counted replaces the earlier count.
  `$rewindTo` lines change nothing.
- Long context: when input_tokens + cache_read_tokens is over the model's threshold, the whole
  message is priced at the higher rates (`tier_rule` "whole", `tier_basis_tokens`).
- Nothing is de-duplicated across files: a copied chat counts twice.

Where ccusage quietly reads something broken, this reader quarantines the record instead:

- counts that are strings, negative, fractional or booleans (ccusage reads them as 0 or
  truncates them);
- a message timestamp that ccusage could not read (ccusage moves on to the next field);
- a message with no time at all (ccusage uses the file's modification time, which a pure
  reader does not have).

Not read: the headless `stats` records and Antigravity `.db` files, which ccusage also reads
and Gemini CLI does not write under `chats/`.
"""

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import PurePosixPath
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, Field

from ingestion.agent_cli.usage import BIGINT_MAX, USAGE_COLUMNS, LogFile, Parsed, UsageRecord
from ingestion.core import quarantine
from ingestion.core.contract_fields import (
    LoadContext,
    check,
    contract_error,
    identifier,
    integer,
    is_clean,
    name,
    parse_json,
    timestamp,
)
from ingestion.core.quarantine import RowRejected

PROVIDER = "google"

# The only timestamps ccusage reads: Gemini CLI's `toISOString()`, or the same with an offset.
_ISO = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)


def is_chat_file(relative: str) -> bool:
    """Whether ccusage counts a file below the Gemini data folder (`~/.gemini/tmp`): a .json or
    .jsonl file in a project's `chats/` folder, subagents' subfolders included. (ccusage reads
    every .json and .jsonl below the folder, but only chat files hold messages.)"""
    parts = relative.split("/")
    return len(parts) >= 3 and parts[1] == "chats" and parts[-1].endswith((".json", ".jsonl"))


def _iso(value: Any) -> Any:
    if value is not None and not (isinstance(value, str) and _ISO.fullmatch(value)):
        raise contract_error(quarantine.BAD_TIMESTAMP)
    return value


def _when(column: str | None):
    """A time ccusage can read (see `_ISO`); any other form is quarantined."""
    return Annotated[timestamp(column), BeforeValidator(_iso)]


def _count(column: str | None, *keys: str):
    """A token count, under any of the names ccusage reads for it; `column`: where it lands
    unchanged (None: it is combined with others first)."""
    return Annotated[
        integer(column, maximum=BIGINT_MAX), Field(validation_alias=AliasChoices(*keys))
    ]


class GeminiTokens(UsageRecord):
    input: _count(None, "input", "prompt", "input_tokens", "prompt_tokens")
    output: _count(None, "output", "candidates", "output_tokens", "candidates_tokens")
    cached: _count("cache_read_tokens", "cached", "cached_tokens")
    thoughts: _count(
        "reasoning_tokens", "thoughts", "reasoning", "thoughts_tokens", "reasoning_tokens"
    )
    tool: _count(None, "tool", "tool_tokens")
    total: _count(None, "total", "total_tokens")


class GeminiMessage(UsageRecord):
    """A `gemini` item of a chat document's `messages[]`, or such a line of a .jsonl file."""

    id: identifier("message_id")
    timestamp: _when("occurred_at")
    created_at: Annotated[_when(None), Field(validation_alias=AliasChoices("created_at"))]
    model: name("model")
    tokens: GeminiTokens | None = None


class GeminiSession(UsageRecord):
    """Where a chat file's messages belong: the session (`sessionId`, else the file's stem)
    and the project folder the file is in."""

    session_id: Annotated[
        identifier("session_id"), Field(validation_alias=AliasChoices("sessionId", "session_id"))
    ]
    project: identifier("project")


def _text(value: Any) -> str | None:
    """An id, model or session id as ccusage reads it: a string, trimmed, not empty."""
    return (value.strip() or None) if isinstance(value, str) else None


def _session_of(record: dict) -> str | None:
    return _text(record.get("sessionId")) or _text(record.get("session_id"))


def _readable(value: Any) -> bool:
    if not (isinstance(value, str) and _ISO.fullmatch(value)):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _payload(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError):
        return repr(type(value))


def token_counts(tokens: GeminiTokens) -> dict | None:
    """The usage columns of one message's `tokens`, or None when it counts nothing."""
    inp, out, cached, thoughts, tool = (
        tokens.input or 0,
        tokens.output or 0,
        tokens.cached or 0,
        tokens.thoughts or 0,
        tokens.tool or 0,
    )
    if cached > 0 and tokens.total == inp + out + thoughts + tool:
        inp -= min(inp, cached)  # the logged total leaves the cache out: the input holds it
    shown_input = inp + tool
    known = shown_input + out + cached + thoughts
    total = known if tokens.total is None else tokens.total
    extra, missing = thoughts, max(0, total - known)
    if missing and out == 0:
        out = missing
    else:
        extra += missing
    if not (shown_input or out or cached or extra):
        return None
    counts = {
        "input_tokens": shown_input,
        "output_tokens": out,
        "cache_read_tokens": cached,
        "cache_creation_tokens": 0,
        "reasoning_tokens": thoughts,
        "extra_output_tokens": extra,
        "total_tokens": max(total, shown_input + out + cached),
        "tier_basis_tokens": shown_input + cached,
    }
    if max(counts.values()) > BIGINT_MAX:
        raise RowRejected(quarantine.OUT_OF_RANGE, "tokens: sum")
    return counts


class _Reader:
    """One file's reading: its rows, rejections and redactions."""

    def __init__(self, data: bytes, log: LogFile, context: LoadContext):
        self.log, self.context = log, context
        self.clean = is_clean(data)
        self.parsed = Parsed()
        self.redactions: Counter = Counter()

    def check(self, model, record: dict, clean: bool = True):
        valid = check(model, record, self.context, clean=clean and self.clean)
        self.redactions.update(self.context.redactions)
        return valid

    def reject(self, index: int | None, error: BaseException, payload: bytes | str) -> None:
        key = self.log.key if index is None else f"{self.log.key}:{index}"
        self.parsed.rejections.append(quarantine.rejection(key, error, payload))

    def session(self, session_id: str | None) -> GeminiSession:
        stem = self.log.session_id or PurePosixPath(self.log.relative).stem
        project = self.log.relative.split("/")[0]
        # The stem and the project come from the path, which `is_clean` did not see.
        record = {"sessionId": session_id or stem, "project": project}
        return self.check(GeminiSession, record, clean=False)

    def message(
        self, item: dict, index: int, model: str | None, session: GeminiSession, fallback: Any
    ) -> dict | None:
        """The row of one `gemini` message, or None when it holds no usage."""
        if item.get("tokens") is None:
            return None
        fields = {**item, "id": _text(item.get("id")), "model": model}
        if item.get("timestamp") is None and item.get("created_at") is None:
            fields["timestamp"] = fallback
        message = self.check(GeminiMessage, fields)
        if message.model is None:
            return None
        counts = token_counts(message.tokens)
        if counts is None:
            return None
        occurred_at = message.timestamp or message.created_at
        if occurred_at is None:
            raise RowRejected(quarantine.BAD_TIMESTAMP, "timestamp: none in the file")
        row = dict.fromkeys(USAGE_COLUMNS)
        row.update(
            counts,
            record_key=str(index),
            record_index=index,
            record_kind="message",
            session_id=session.session_id,
            message_id=message.id,
            project=session.project,
            occurred_at=occurred_at,
            model=message.model,
            provider=PROVIDER,
            request_count=1,
            tier_rule="whole",
        )
        return row

    def document(self, data: bytes) -> None:
        """A .json chat: one document, `messages[]` in it."""
        try:
            document = parse_json(data)
            if not isinstance(document, dict):
                raise RowRejected(quarantine.WRONG_TYPE, "document: not an object")
            session = self.session(_session_of(document))
        except Exception as error:  # noqa: BLE001 - a broken file is quarantined, never raised
            self.parsed.records_read = 1
            self.reject(None, error, data)
            return
        messages = document.get("messages")
        if not isinstance(messages, list):
            return  # ccusage finds no messages in it either
        fallback = next(
            (t for t in (document.get("startTime"), document.get("lastUpdated")) if _readable(t)),
            None,
        )
        self.parsed.records_read = len(messages)
        for index, item in enumerate(messages):
            if not isinstance(item, dict) or item.get("type") != "gemini":
                continue
            try:
                row = self.message(item, index, _text(item.get("model")), session, fallback)
            except Exception as error:  # noqa: BLE001 - one bad message never stops the file
                self.reject(index, error, _payload(item))
                continue
            if row is not None:
                self.parsed.rows.append(row)

    def lines(self, data: bytes) -> None:
        """A .jsonl chat: one record a line; a message written again replaces its count."""
        try:
            session = self.session(None)
        except RowRejected as error:
            self.parsed.records_read = 1
            self.reject(None, error, data)
            return
        model, counted = None, {}  # message id -> its row's position in `rows`
        lines = data.split(b"\n")
        for index, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                record = parse_json(line)
            except RowRejected as error:
                if index == len(lines) - 1:
                    continue  # a last line without its newline: still being written
                self.parsed.records_read += 1
                self.reject(index, error, line)
                continue
            self.parsed.records_read += 1
            try:
                if not isinstance(record, dict):
                    raise RowRejected(quarantine.WRONG_TYPE, "line: not an object")
                if _session_of(record):
                    session = self.session(_session_of(record))
                model = _text(record.get("model")) or model
                if record.get("type") != "gemini":
                    continue
                row = self.message(record, index, model, session, None)
            except Exception as error:  # noqa: BLE001 - one bad line never stops the file
                self.reject(index, error, line)
                continue
            if row is None:
                continue
            if row["message_id"] in counted:
                self.parsed.rows[counted[row["message_id"]]] = row
                continue
            if row["message_id"] is not None:
                counted[row["message_id"]] = len(self.parsed.rows)
            self.parsed.rows.append(row)


def parse(data: bytes, log: LogFile, context: LoadContext) -> Parsed:
    """The usage rows of one chat file (`log.relative` below the data folder: the project
    folder first). After it returns, `context.redactions` counts the whole file's redactions."""
    reader = _Reader(data, log, context)
    if log.relative.endswith(".jsonl"):
        reader.lines(data)
    else:
        reader.document(data)
    context.redactions = reader.redactions
    return reader.parsed
