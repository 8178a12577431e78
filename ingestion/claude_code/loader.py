"""Claude Code session logs (`~/.claude/projects/<project>/<session>.jsonl`, and
`<project>/<session>/subagents/agent-*.jsonl` in 2.x) into `raw.claude_code_lines`.

Files are read incrementally: a file that grew is read from where the last load stopped (only
whole lines; a line still being written waits for the next load), a file whose already-read part
changed is re-read from the start, an unchanged file is skipped. A file whose size, modification
time and inode are those recorded when it was last read is not even opened: the stat is recorded
only for a file that had been still for the settle time, so that reading it again could add
nothing. Each file's rows and its `raw.claude_code_files` record commit together. Message text
is redacted and token-estimated; it stays in the raw schema.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ingestion.claude_code import contract
from ingestion.core import (
    file_stamps,
    load_log,
    partitions,
    quarantine,
    reconciliation,
    redaction,
    settings,
    tokenizer,
    watermarks,
)
from ingestion.core.contract_fields import check, is_clean, load_context, parse_json
from ingestion.core.copy_rows import copy_rows
from ingestion.core.load_log import LoadCounts
from ingestion.core.quarantine import Rejection
from ingestion.core.raw_schema import ensure_raw_schema
from ingestion.file_drops.loader import path_key, read_file, strip_bom, unreadable

SOURCE = "claude_code.session_logs"
# What the loader reads of a log (columns, the path's project and session, which lines count).
# A log read under older rules is read again from the start, so every line follows these.
# 2: relayed `progress` usage, costUSD, speed, usage_countable, ccusage's path sessions.
RULES_VERSION = 2
LINE_COLUMNS = (
    "file_path",
    "line_number",
    "project",
    "file_session_id",
    "line_type",
    "session_id",
    "uuid",
    "parent_uuid",
    "occurred_at",
    "version",
    "cwd",
    "git_branch",
    "is_sidechain",
    "agent_id",
    "request_id",
    "message_id",
    "message_role",
    "model",
    "stop_reason",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_creation_5m_tokens",
    "cache_creation_1h_tokens",
    "cache_read_input_tokens",
    "has_cache_creation_breakdown",
    "content_text",
    "content_chars",
    "estimated_tokens",
    "redaction_count",
    "tool_uses",
    "tool_results",
    "usage_source",
    "usage_at",
    "cost_usd",
    "speed",
    "usage_countable",
    "_event_at",
    "_run_id",
)


@dataclass(frozen=True)
class LogFile:
    path: Path
    key: str
    project: str
    session_id: str
    is_subagent: bool


def log_paths(root: Path) -> list[Path]:
    """Entries named *.jsonl at least one folder below a projects directory, in path order:
    those that are not readable files too (they are quarantined as such); folder links are not
    followed."""
    found = []
    for folder, subfolders, files in os.walk(root, onerror=lambda error: None):
        for entry in files + subfolders:
            path = Path(folder) / entry
            if entry.endswith(".jsonl") and len(path.relative_to(root).parts) >= 2:
                found.append(path)
    return sorted(found, key=str)


def root_labels(roots: list[Path]) -> list[str]:
    """How each projects folder starts its logs' keys: its name, and where two configured
    folders share a name (`~/.claude/projects` and `~/.config/claude/projects`) a digest of its
    path too, so that their logs never take each other's keys."""
    names = [root.name for root in roots]
    return [
        name
        if names.count(name) == 1
        else f"{name}~{hashlib.sha256(str(root.expanduser().resolve()).encode()).hexdigest()[:8]}"
        for name, root in zip(names, roots, strict=True)
    ]


def discover(root: Path, fingerprint_key: bytes, label: str | None = None) -> list[LogFile]:
    """Session logs under a projects directory; subagent logs belong to their parent session.
    Keys, projects and session ids come from paths, so they are redacted like any other
    identifier."""

    def clean(value: str) -> str:
        return redaction.redact_identifier(path_key(value), fingerprint_key)[0]

    found = []
    for path in log_paths(root):
        parts = path.relative_to(root).parts
        project, session_id, is_subagent = project_and_session(parts)
        found.append(
            LogFile(
                path,
                clean(f"{label or root.name}/{'/'.join(parts)}"),
                clean(project),
                clean(session_id),
                is_subagent,
            )
        )
    return found


def project_and_session(parts: tuple[str, ...]) -> tuple[str, str, bool]:
    """A log's project and session from its path under the projects folder, as ccusage's
    session report groups them: `p/S.jsonl` is session S of p; a log in a folder is the
    folder's session (`p/S/chat.jsonl`, `p/S/subagents/agent-1.jsonl`: S of p; `p/a/S/x.jsonl`:
    S of p/a), so subagents count in their parent's session."""
    folders = list(parts[:-1])
    is_subagent = len(folders) > 2 and folders[-1] == "subagents"
    if is_subagent:
        folders.pop()
    if len(folders) == 1:
        return folders[0], Path(parts[-1]).stem, is_subagent
    return "/".join(folders[:-1]), folders[-1], is_subagent


def line_row(line: contract.ClaudeCodeLine) -> dict:
    """The columns of one validated log line. A `progress` line that relays a subagent's
    message carries that message's id, model and usage (at the message's own time, with its
    request id, sidechain flag and cost): when the subagent's own log is missing, it is the
    only record of that API call."""
    relayed = (
        line.data.message
        if line.type == "progress" and line.message is None and line.data and line.data.message
        else None
    )
    message = relayed.message if relayed and relayed.message else line.message
    usage = message.usage if message else None
    breakdown = usage.cache_creation if usage else None
    if line.type == "summary":
        content = contract.MessageContent(line.summary or "")
    elif line.message is not None:
        content = line.message.content
    else:
        content = line.content  # system, queue and progress lines keep their own text here
    source = relayed if relayed and relayed.message else None
    return {
        "line_type": line.type,
        "session_id": line.session_id,
        "uuid": line.uuid,
        "parent_uuid": line.parent_uuid,
        "occurred_at": line.timestamp,
        "version": line.version,
        "cwd": line.cwd,
        "git_branch": line.git_branch,
        "is_sidechain": source.is_sidechain if source else line.is_sidechain,
        "agent_id": line.agent_id,
        "request_id": source.request_id if source else line.request_id,
        "message_id": message.id if message else None,
        "message_role": message.role if message else None,
        "model": message.model if message else None,
        "stop_reason": message.stop_reason if message else None,
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens if usage else None,
        "cache_creation_5m_tokens": breakdown.ephemeral_5m_input_tokens if breakdown else None,
        "cache_creation_1h_tokens": breakdown.ephemeral_1h_input_tokens if breakdown else None,
        "cache_read_input_tokens": usage.cache_read_input_tokens if usage else None,
        "has_cache_creation_breakdown": breakdown is not None,
        "usage_source": None if usage is None else "progress" if source else "message",
        "usage_at": source.timestamp if source else None,
        "cost_usd": source.cost_usd if source else line.cost_usd,
        "speed": usage.speed if usage else None,
        "content_text": content.text,
        "tool_uses": json.dumps(list(content.tool_uses)) if content.tool_uses else None,
        "tool_results": json.dumps(list(content.tool_results)) if content.tool_results else None,
    }


# ccusage 20.0.24 reads a line's usage only if the line holds these bytes, and drops a line
# where any of these keys is null anywhere in it (its parser reads the line as text first).
_USAGE_BYTES = b'"usage":{'
_NULL_KEYS = re.compile(
    rb'"(?:id|cwd|model|speed|costUSD|version|sessionId|requestId|isApiErrorMessage'
    rb'|cache_read_input_tokens|cache_creation_input_tokens)":null'
)
_VERSION = re.compile(r"\d+\.\d+\.\d+")
_ZONED = re.compile(r"(?:Z|[+-]\d\d:?\d\d)\Z", re.IGNORECASE)


def usage_countable(raw_line: bytes, record: dict, row: dict) -> bool:
    """Whether this line's usage counts, by ccusage 20.0.24's line filter: it has input and
    output tokens; no listed key is null; ids, model and session are not empty strings; the
    version (if any) starts with N.N.N; the usage's timestamp names its zone."""
    if row["input_tokens"] is None or row["output_tokens"] is None:
        return False
    if _USAGE_BYTES not in raw_line or _NULL_KEYS.search(raw_line):
        return False
    relayed = (
        record.get("data", {}).get("message", {}) if row["usage_source"] == "progress" else record
    )
    message = relayed.get("message") or {}
    if "" in (
        message.get("id"),
        message.get("model"),
        relayed.get("requestId"),
        record.get("sessionId"),
    ):
        return False
    version = record.get("version")
    if isinstance(version, str) and not _VERSION.match(version):
        return False
    stamp = relayed.get("timestamp")
    return isinstance(stamp, str) and _ZONED.search(stamp) is not None


def load_projects(
    warehouse: psycopg.Connection,
    run_id: str,
    roots: list[Path] | None = None,
    reconcile_all: bool = False,
    reread_unchanged: bool = False,
) -> LoadCounts:
    """Read every new or grown log; then reconcile the logs this load read (with
    `reconcile_all`, every log ever read) with raw. A log whose stat is the one recorded when
    it was last read is not opened; `reread_unchanged` reads it all the same, which checks what
    was read of it against its hash (a rewrite that kept its size, time and inode)."""
    roots = settings.claude_projects_dirs() if roots is None else roots
    ensure_raw_schema(warehouse)
    encoding = tokenizer.encoding_name()
    key_material = warehouse.execute("select key from raw.redaction_key").fetchone()[0].encode()
    recorded = {} if reread_unchanged else _recorded_stamps(warehouse)
    warehouse.commit()
    totals = LoadCounts(SOURCE)
    read = []
    for root, label in zip(roots, root_labels(roots), strict=True):
        for log_file in discover(root, key_material, label):
            if file_stamps.unchanged(log_file.path, recorded.get(log_file.key)):
                continue
            counts = load_file(warehouse, log_file, run_id, encoding)
            if counts is not None:
                totals.add(counts)
                read.append(log_file.key)
    with warehouse.transaction():
        reconciliation.claude_code_logs(warehouse, run_id, None if reconcile_all else read, SOURCE)
    return totals


def load_file(warehouse, log_file: LogFile, run_id: str, encoding: str) -> LoadCounts | None:
    started_at = datetime.now(UTC)
    # Before the read: a later change changes it.
    stamp = file_stamps.settled_stamp(log_file.path, settle_seconds())
    data, modified, why = read_file(log_file.path)
    if data is None:
        return unreadable(warehouse, SOURCE, log_file.key, run_id, why, started_at)
    if stamp is not None and stamp[0] != len(data):
        stamp = None  # changed while it was read
    size, modified_ns, inode = stamp or (len(data), None, None)
    with warehouse.transaction():
        watermarks.lock(warehouse, f"{SOURCE}:{log_file.key}")
        held = warehouse.execute(
            "select consumed_bytes, consumed_sha256, lines_consumed, lines_read, "
            "lines_quarantined, responses_read, rules_version from raw.claude_code_files "
            "where file_path = %s",
            (log_file.key,),
        ).fetchone()
        start, first_line, before, rewritten = 0, 1, (0, 0, 0), False
        if _resumable(held, data):
            start, first_line, before = held[0], held[2] + 1, held[3:6]
            if 0 < start < len(data) and data[start - 1 : start] != b"\n":
                start += 1  # the newline of a last line read before it had one
        elif held:  # rewritten: what was read before no longer stands
            warehouse.execute(
                "delete from raw.claude_code_lines where file_path = %s", (log_file.key,)
            )
            rewritten = True
        end = data.rfind(b"\n") + 1  # only whole lines; a line being written waits
        chunk = data[start:end]
        if end < len(data) and _complete_last_line(data[max(end, start) :], modified):
            end, chunk = len(data), data[start:] + b"\n"
        if end <= start and not rewritten:
            # Nothing new (a rewritten file is recorded even while empty); its stat is.
            warehouse.execute(
                "update raw.claude_code_files set size_bytes = %s, modified_ns = %s, inode = %s "
                "where file_path = %s "
                "and (size_bytes, modified_ns, inode) is distinct from (%s, %s, %s)",
                (size, modified_ns, inode, log_file.key, size, modified_ns, inode),
            )
            return None
        end = max(end, start)
        context = load_context(warehouse)
        counts, rows, rejections, redactions = LoadCounts(SOURCE), [], [], Counter()
        lines = chunk.split(b"\n")[:-1]
        if start == 0 and lines:
            lines[0] = strip_bom(lines[0])
        for offset, raw_line in enumerate(lines):
            line_number = first_line + offset
            if not raw_line.strip():
                continue
            counts.rows_read += 1
            key = f"{log_file.key}:{line_number}"
            try:
                record = _line_object(raw_line)
                line = check(contract.ClaudeCodeLine, record, context, clean=is_clean(raw_line))
                row = line_row(line)
                row["usage_countable"] = usage_countable(raw_line, record, row)
            except Exception as error:  # noqa: BLE001 - one bad line never stops the file
                rejections.append(quarantine.rejection(key, error, raw_line))
                continue
            redactions.update(context.redactions)
            row.update(
                file_path=log_file.key,
                line_number=line_number,
                project=log_file.project,
                file_session_id=log_file.session_id,
                content_chars=len(row["content_text"]),
                redaction_count=sum(context.redactions.values()),
                _run_id=run_id,
            )
            rows.append(row)
        counted = tokenizer.count_tokens_each([r["content_text"] for r in rows], encoding)
        kept = []
        for row, tokens in zip(rows, counted, strict=True):
            if tokens is None:
                key = f"{row['file_path']}:{row['line_number']}"
                rejections.append(
                    Rejection(
                        key, quarantine.UNEXPECTED_ERROR, quarantine.row_hash(key), "token count"
                    )
                )
                continue
            row["estimated_tokens"] = tokens
            # Retention goes by it, and it places the line in its month's partition.
            row["_event_at"] = row["occurred_at"] or context.now
            kept.append(row)
        partitions.add_months(
            warehouse, "raw.claude_code_lines", (row["_event_at"] for row in kept)
        )
        refused = copy_rows(
            warehouse,
            "raw.claude_code_lines",
            LINE_COLUMNS,
            kept,
            key_of=lambda row: f"{row['file_path']}:{row['line_number']}",
        )
        rejections += refused
        partitions.add_months(warehouse, "raw.claude_code_lines")
        counts.rows_loaded = counts.rows_inserted = len(kept) - len(refused)
        counts.rows_quarantined = len(rejections)
        quarantine.record(warehouse, SOURCE, run_id, rejections)
        load_log.record_redactions(warehouse, run_id, SOURCE, redactions)
        lines_consumed = first_line - 1 + chunk.count(b"\n")
        refused_keys = {r.source_key for r in refused}
        responses = sum(
            1
            for row in kept
            if _is_response(row) and f"{row['file_path']}:{row['line_number']}" not in refused_keys
        )
        # What was read of this version of the file, for its reconciliation (a rewritten file
        # starts again; retention's purges are counted by retention).
        read = (
            before[0] + counts.rows_read,
            before[1] + counts.rows_quarantined,
            before[2] + responses,
        )
        warehouse.execute(
            """
            insert into raw.claude_code_files (file_path, project, session_id,
                is_subagent_file, size_bytes, consumed_bytes, consumed_sha256, lines_consumed,
                lines_read, lines_quarantined, responses_read, rules_version, modified_ns, inode,
                run_id)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (file_path) do update set
                project = excluded.project, session_id = excluded.session_id,
                rules_version = excluded.rules_version,
                size_bytes = excluded.size_bytes, consumed_bytes = excluded.consumed_bytes,
                modified_ns = excluded.modified_ns, inode = excluded.inode,
                consumed_sha256 = excluded.consumed_sha256,
                lines_consumed = excluded.lines_consumed, lines_read = excluded.lines_read,
                lines_quarantined = excluded.lines_quarantined,
                responses_read = excluded.responses_read,
                lines_purged = case when %s then 0 else raw.claude_code_files.lines_purged end,
                responses_purged = case when %s then 0
                    else raw.claude_code_files.responses_purged end,
                run_id = excluded.run_id, processed_at = now()
            """,
            (
                log_file.key,
                log_file.project,
                log_file.session_id,
                log_file.is_subagent,
                size,
                end,
                hashlib.sha256(data[:end]).hexdigest(),
                lines_consumed,
                *read,
                RULES_VERSION,
                modified_ns,
                inode,
                run_id,
                start == 0,
                start == 0,
            ),
        )
        load_log.record(warehouse, run_id, counts, started_at)
    return counts


def _recorded_stamps(warehouse) -> dict[str, file_stamps.Stamp]:
    """The recorded stamp of every log read under these rules, by key (one query)."""
    return {
        key: (size, modified_ns, inode)
        for key, size, modified_ns, inode in warehouse.execute(
            "select file_path, size_bytes, modified_ns, inode from raw.claude_code_files "
            "where modified_ns is not null and rules_version = %s",
            (RULES_VERSION,),
        )
    }


def _resumable(held: tuple | None, data: bytes) -> bool:
    """Whether a log can be read on from where the last load stopped: it was read under these
    rules, what was read is unchanged, and a last line read without its newline was whole (what
    follows it starts with the newline)."""
    if held is None or held[6] != RULES_VERSION or held[0] > len(data):
        return False
    if hashlib.sha256(data[: held[0]]).hexdigest() != held[1]:
        return False
    consumed = held[0]
    return not (
        0 < consumed < len(data)
        and data[consumed - 1 : consumed] != b"\n"
        and data[consumed : consumed + 1] != b"\n"
    )


def settle_seconds() -> float:
    """ATW_CLAUDE_CODE_SETTLE_SECONDS (60): how long a log must stay unchanged before its last
    line, complete but without a newline, is read."""
    return settings.number("ATW_CLAUDE_CODE_SETTLE_SECONDS")


def _complete_last_line(tail: bytes, modified: float | None) -> bool:
    """A last line without its newline is read (as ccusage reads it) once it parses as a JSON
    object and the file has not changed for `settle_seconds`: Claude Code is done with it."""
    if not tail.strip() or modified is None or time.time() - modified < settle_seconds():
        return False
    try:
        return isinstance(parse_json(tail.decode("utf-8")), dict)
    except Exception:  # noqa: BLE001 - not a complete line: it waits for its newline
        return False


def _is_response(row: dict) -> bool:
    """A line that reports an API response's usage (what reconciliation counts)."""
    return row["message_id"] is not None and row["input_tokens"] is not None


def _line_object(raw_line: bytes) -> dict:
    """A line's JSON object. JSON's own escapes may hold lone surrogates, which Claude Code
    writes and ccusage reads; bytes that are not UTF-8 are a broken line."""
    try:
        text = raw_line.decode("utf-8")
    except UnicodeDecodeError:
        raise quarantine.RowRejected(quarantine.INVALID_UTF8, "line is not UTF-8") from None
    record = parse_json(text)
    if not isinstance(record, dict):
        raise quarantine.RowRejected(quarantine.WRONG_TYPE, "line is not an object")
    return record
