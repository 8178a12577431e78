"""OpenCode messages into usage rows, counted as ccusage 20.0.24 counts them (`ccusage
opencode`).

The source is OpenCode's data folder (`~/.local/share/opencode`, or `$XDG_DATA_HOME/opencode`).
Older OpenCode keeps one JSON file per message, `storage/message/<sessionID>/<messageID>.json`,
rewritten while the message streams. Newer OpenCode keeps a SQLite store, `opencode.db` (else
the first `opencode-<channel>.db` by name), whose table `message(id, session_id, data, ...)`
holds the same JSON without `id` and `sessionID`. Parts, sessions, projects and diffs under
`storage/` hold no usage.

Counting rules (checked against ccusage 20.0.24's output; the long-context split only
indirectly, as no probe crossed a threshold in a single token type):

- A message counts when it has a `tokens` object, a `modelID` and a `providerID` (trimmed; an
  empty or non-string one counts as absent). Its `role` is not looked at.
- `input_tokens` = tokens.input (OpenCode's input holds no cache), `output_tokens` =
  tokens.output, `cache_read_tokens` = tokens.cache.read, `cache_creation_tokens` =
  tokens.cache.write.
- `tokens.reasoning` goes to `extra_output_tokens`: priced as output, counted in the total,
  shown in no column. When `tokens.total` is larger than all of these, the shortfall becomes
  the output if output is 0; otherwise it goes to `extra_output_tokens`.
- A message with every count at 0 counts nothing (a failed call). `total_tokens` = input +
  output + cache read + cache write + extra.
- Time: `time.created` (epoch ms), not `completed`. Session: `sessionID` (the database's
  `session_id`), else "unknown".
- Cost: the recorded `cost` when it is over 0 (`logged_cost_usd`), else the price table, with
  the model's own long-context rule (`tier_rule` "model", as ccusage's common pricing).
- ccusage counts a message id once: a database row over a storage file, then the first file by
  path. A message without an id is never de-duplicated. This is applied later, from `origin`
  and `message_id`, not here.

Where ccusage quietly reads something broken, this reader quarantines the message instead:

- counts that are not whole non-negative numbers (ccusage reads them as 0);
- a message with usage but no readable `time.created` (ccusage counts it on 1970-01-01).

The database's newer table, `session_message(id, session_id, type, time_created, data)`, is
read beside `message`, as ccusage 20.0.24 reads it (probed with databases made for it):

- Only rows of `type` "assistant" (exactly) count; the JSON's `role` is not looked at.
- The model is `model.id` and the provider `model.providerID` (an object), each else the
  flat `modelID` / `providerID`; `tokens` and `cost` are read as in `message`.
- Time: `time.created` when it is a whole number, else the row's `time_created` column.
- The session is the row's `session_id`, the message its `id`. A message id that `message`
  also holds counts from `message` (origin `db_v2` ranks after `db`, before `file`).

Its tool calls, and the `session_v2`/`session` tables, are not read: they hold no usage that
ccusage counts.
"""

import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, Field

from ingestion.agent_cli.usage import BIGINT_MAX, USAGE_COLUMNS, LogFile, Parsed, UsageRecord
from ingestion.core import quarantine, redaction
from ingestion.core.contract_fields import (
    LoadContext,
    check,
    contract_error,
    cost,
    identifier,
    integer,
    is_clean,
    name,
    parse_json,
    path,
    timestamp,
)
from ingestion.core.quarantine import RowRejected

DATABASE = "opencode.db"
_CHANNEL_DATABASE = re.compile(r"opencode-[A-Za-z0-9_-]*\.db")


def is_message_file(relative: str) -> bool:
    """Whether ccusage counts a file below the OpenCode data folder: any .json below
    `storage/message/` (OpenCode writes `<sessionID>/<messageID>.json`)."""
    parts = relative.split("/")
    return len(parts) >= 3 and parts[:2] == ["storage", "message"] and parts[-1].endswith(".json")


def database_name(names: Iterable[str]) -> str | None:
    """Which of the data folder's file names ccusage reads as the database: `opencode.db`,
    else the first `opencode-<channel>.db` by name."""
    names = set(names)
    if DATABASE in names:
        return DATABASE
    return min((n for n in names if _CHANNEL_DATABASE.fullmatch(n)), default=None)


def _whole(value: Any) -> Any:
    # ccusage reads only whole JSON numbers (100.0 is 0 to it): quarantined, not miscounted.
    if isinstance(value, float):
        raise contract_error(quarantine.WRONG_TYPE)
    return value


def _count(column: str | None):
    return Annotated[integer(column, maximum=BIGINT_MAX), BeforeValidator(_whole)]


def _epoch_ms(value: Any) -> Any:
    # ccusage reads `time.created` only as a whole number of milliseconds.
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise contract_error(quarantine.BAD_TIMESTAMP)
    return value


class OpenCodeCache(UsageRecord):
    read: _count("cache_read_tokens")
    write: _count("cache_creation_tokens")


class OpenCodeTokens(UsageRecord):
    input: _count("input_tokens")
    output: _count(None)  # a shortfall against `total` may land in output_tokens
    reasoning: _count("reasoning_tokens")
    total: _count(None)
    cache: OpenCodeCache | None = None


class OpenCodeTime(UsageRecord):
    created: Annotated[timestamp("occurred_at", epoch_ms=True), BeforeValidator(_epoch_ms)]


class OpenCodePath(UsageRecord):
    cwd: path("project")
    root: path(None)


class OpenCodeMessage(UsageRecord):
    """One message: a storage file, or a database row's `data` with its `id` and
    `session_id`."""

    id: identifier("message_id")
    session_id: Annotated[
        identifier("session_id"), Field(validation_alias=AliasChoices("sessionID"))
    ]
    model_id: Annotated[name("model"), Field(validation_alias=AliasChoices("modelID"))]
    provider_id: Annotated[name("provider"), Field(validation_alias=AliasChoices("providerID"))]
    time: OpenCodeTime | None = None
    tokens: OpenCodeTokens | None = None
    cost: cost("logged_cost_usd")
    path: OpenCodePath | None = None


def _text(value: Any) -> str | None:
    """An id, model or provider as ccusage reads it: a string, trimmed, not empty."""
    return (value.strip() or None) if isinstance(value, str) else None


def token_counts(tokens: OpenCodeTokens) -> dict | None:
    """The usage columns of one message's `tokens`, or None when it counts nothing."""
    cache = tokens.cache or OpenCodeCache()
    inp, out, reasoning = tokens.input or 0, tokens.output or 0, tokens.reasoning or 0
    read, write = cache.read or 0, cache.write or 0
    extra = reasoning
    missing = max(0, (tokens.total or 0) - (inp + out + read + write + reasoning))
    if missing and out == 0:
        out = missing
    else:
        extra += missing
    if not (inp or out or read or write or extra):
        return None
    counts = {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_read_tokens": read,
        "cache_creation_tokens": write,
        "reasoning_tokens": reasoning,
        "extra_output_tokens": extra,
        "total_tokens": inp + out + read + write + extra,
    }
    if max(counts.values()) > BIGINT_MAX:
        raise RowRejected(quarantine.OUT_OF_RANGE, "tokens: sum")
    return counts


def _row(
    record: Any, fallback_key: str, origin: str, context: LoadContext, clean: bool
) -> tuple[dict | None, Counter]:
    """A message's row (None when it holds no usage) and the redactions made in it; raises
    RowRejected for a message that breaks the contract."""
    if not isinstance(record, dict):
        raise RowRejected(quarantine.WRONG_TYPE, "message: not an object")
    if record.get("tokens") is None:
        return None, Counter()
    fields = {
        **record,
        **{key: _text(record.get(key)) for key in ("id", "sessionID", "modelID", "providerID")},
    }
    message = check(OpenCodeMessage, fields, context, clean=clean)
    counts = token_counts(message.tokens)
    if counts is None or message.model_id is None or message.provider_id is None:
        return None, context.redactions
    if message.time is None or message.time.created is None:
        raise RowRejected(quarantine.MISSING_REQUIRED_KEY, "time.created")
    logged = message.cost if message.cost else None  # ccusage prices a cost of 0
    folder = (message.path.cwd or message.path.root) if message.path else None
    row = dict.fromkeys(USAGE_COLUMNS)
    row.update(
        counts,
        record_key=message.id or fallback_key,
        record_index=0,
        record_kind="message",
        session_id=message.session_id or "unknown",
        message_id=message.id,
        project=folder,
        occurred_at=message.time.created,
        model=message.model_id,
        provider=message.provider_id,
        request_count=1,
        logged_cost_usd=logged,
        tier_rule="model",
        origin=origin,
    )
    return row, context.redactions


def parse(data: bytes, log: LogFile, context: LoadContext) -> Parsed:
    """The usage row of one `storage/message/**/*.json` file (one record). After it returns,
    `context.redactions` counts the file's redactions."""
    parsed, redactions = Parsed(records_read=1), Counter()
    try:
        # One message a file: without an id, any key is unique in it.
        row, redactions = _row(parse_json(data), "0", "file", context, is_clean(data))
    except Exception as error:  # noqa: BLE001 - a broken message is quarantined, never raised
        parsed.rejections.append(quarantine.rejection(log.key, error, data))
    else:
        parsed.rows += [row] if row else []
    context.redactions = redactions
    return parsed


def _row_key(message_id: Any, position: Any, context: LoadContext) -> str:
    """A database row's key: its id (redacted) when it is one, else its row id."""
    if isinstance(message_id, str) and message_id.isprintable() and 0 < len(message_id) <= 512:
        return redaction.redact_identifier(message_id, context.fingerprint_key)[0]
    return f"row {position}"


# The tables of usage a database may hold, and the origin their usage rows get.
TABLES = {"message": "db", "session_message": "db_v2"}


def _table_rows(connection: sqlite3.Connection, table: str) -> sqlite3.Cursor:
    """A table's rows as (row id, id, session id, type, time created, data); a column the table
    lacks reads null (only `session_message` has `type`)."""
    present = {row[1] for row in connection.execute(f"pragma table_info({table})")}
    columns = ", ".join(c if c in present else "null" for c in ("type", "time_created"))
    query = f"select {{}}, id, session_id, {columns}, data from {table}"  # noqa: S608 - names above
    try:
        return connection.execute(query.format("rowid"))
    except sqlite3.OperationalError:  # a table without rowid
        return connection.execute(query.format("null"))


def _newer_record(record: dict, created: Any) -> dict:
    """A `session_message` row's JSON in the shape of a `message` row's."""
    model = record.get("model")
    model = model if isinstance(model, dict) else {}
    time = record.get("time")
    time = time if isinstance(time, dict) else {}
    own_time = time.get("created")
    if isinstance(own_time, bool) or not isinstance(own_time, int):
        time = {**time, "created": created}
    return {
        **record,
        "modelID": _text(model.get("id")) or record.get("modelID"),
        "providerID": _text(model.get("providerID")) or record.get("providerID"),
        "time": time,
    }


def parse_database(path: Path, log: LogFile, context: LoadContext) -> Parsed:
    """The usage rows of an OpenCode database's `message` and `session_message` tables, opened
    read-only. A row that breaks the contract is quarantined as `<log.key>:<id or row id>`
    (`<log.key>:session_message:<...>` for the newer table), a table that cannot be read as
    `<log.key>:<table>`; a database that cannot be read, or has neither table, as `log.key`.
    After it returns, `context.redactions` counts the redactions of every row."""
    parsed, redactions = Parsed(), Counter()
    try:
        connection = sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as error:
        return _unreadable(parsed, log, error)
    # Text that is not UTF-8 reaches the contract (and is quarantined there) instead of
    # stopping the query.
    connection.text_factory = lambda value: value.decode("utf-8", "surrogateescape")
    try:
        tables = {
            name
            for (name,) in connection.execute(
                "select name from sqlite_master where type = 'table' and name in "
                "('message', 'session_message')"
            )
        }
        if not tables:
            raise RowRejected(quarantine.UNREADABLE_FILE, "database: no message table")
        position = 0
        for table in (name for name in TABLES if name in tables):
            try:
                for rowid, message_id, session_id, kind, created, data in _table_rows(
                    connection, table
                ):
                    parsed.records_read += 1
                    # A table may name a column of its own `rowid`: only SQLite's is a number.
                    number = rowid if type(rowid) is int else position
                    row = _database_row(
                        table,
                        (message_id, session_id, kind, created, data),
                        _row_key(message_id, number, context),
                        log,
                        context,
                        parsed,
                        redactions,
                    )
                    if row:
                        row["record_index"] = position
                        parsed.rows.append(row)
                    position += 1
            except sqlite3.Error as error:
                # A table that cannot be read (a column missing, a broken page) is quarantined
                # alone: the other table still loads.
                parsed.records_read += 1
                parsed.rejections.append(
                    quarantine.rejection(
                        f"{log.key}:{table}",
                        RowRejected(quarantine.UNREADABLE_FILE, f"table: {type(error).__name__}"),
                        table,
                    )
                )
    except (sqlite3.Error, RowRejected) as error:
        _unreadable(parsed, log, error)
    finally:
        connection.close()
    context.redactions = redactions
    return parsed


def _database_row(
    table: str,
    values: tuple,
    row_key: str,
    log: LogFile,
    context: LoadContext,
    parsed: Parsed,
    redactions: Counter,
) -> dict | None:
    """One database row's usage row, or None (no usage, or quarantined into `parsed`)."""
    message_id, session_id, kind, created, data = values
    if table == "session_message" and kind != "assistant":
        return None  # user prompts, compactions, model switches: no usage counted
    # The newer table's keys are apart from the older's: an id both tables hold.
    prefix = "" if table == "message" else f"{table}:"
    try:
        if not all(isinstance(v, str) for v in (message_id, session_id, data)):
            raise RowRejected(quarantine.WRONG_TYPE, "id, session_id, data: not text")
        record = parse_json(data)
        if isinstance(record, dict):
            # The row's columns, not the JSON, say which message and session it is.
            record = {**record, "id": message_id, "sessionID": session_id}
            if table == "session_message":
                record = _newer_record(record, created)
        clean = is_clean(data) and is_clean(f"{message_id} {session_id}")
        row, found = _row(record, row_key, TABLES[table], context, clean)
    except Exception as error:  # noqa: BLE001 - one bad row never stops the database
        parsed.rejections.append(
            quarantine.rejection(f"{log.key}:{prefix}{row_key}", error, str(data))
        )
        return None
    redactions.update(found)
    if row:
        row["record_key"] = prefix + row["record_key"]
    return row


def _unreadable(parsed: Parsed, log: LogFile, error: BaseException) -> Parsed:
    if not isinstance(error, RowRejected):
        # sqlite3's messages may quote the file; only the error's class is kept.
        error = RowRejected(quarantine.UNREADABLE_FILE, f"database: {type(error).__name__}")
    parsed.records_read = max(parsed.records_read, 1)
    parsed.rejections.append(quarantine.rejection(log.key, error, log.key))
    return parsed
