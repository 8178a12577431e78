"""Claude Code session logs (`~/.claude/projects/<project>/<session>.jsonl`, and
`<project>/<session>/subagents/agent-*.jsonl` in 2.x) into `raw.claude_code_lines`.

Files are read incrementally: a file that grew is read from where the last load stopped (only
whole lines; a line still being written waits for the next load), a file whose already-read part
changed is re-read from the start, an unchanged file is skipped. Each file's rows and its
`raw.claude_code_files` record commit together. Message text is redacted and token-estimated;
it stays in the raw schema.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ingestion import load_log, quarantine, redaction, tokenizer, watermarks
from ingestion.copy_rows import copy_rows
from ingestion.load_log import LoadCounts
from ingestion.quarantine import Rejection
from ingestion.warehouse_schema import ensure_raw_schema

SOURCE = "claude_code.session_logs"
LINE_COLUMNS = (
    "file_path", "line_number", "project", "file_session_id", "line_type", "session_id", "uuid",
    "parent_uuid", "occurred_at", "version", "cwd", "git_branch", "is_sidechain", "agent_id",
    "request_id", "message_id", "message_role", "model", "stop_reason", "input_tokens",
    "output_tokens", "cache_creation_input_tokens", "cache_creation_5m_tokens",
    "cache_creation_1h_tokens", "cache_read_input_tokens", "has_cache_creation_breakdown",
    "content_text", "content_chars", "estimated_tokens", "redaction_count", "tool_uses",
    "tool_results", "_run_id",
)


def project_dirs() -> list[Path]:
    """CLAUDE_PROJECTS_DIR: one or several directories (os.pathsep-separated); none by default."""
    value = os.environ.get("CLAUDE_PROJECTS_DIR", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


@dataclass(frozen=True)
class LogFile:
    path: Path
    key: str
    project: str
    session_id: str
    is_subagent: bool


def discover(root: Path) -> list[LogFile]:
    """Session logs under a projects directory; subagent logs belong to their parent session."""
    found = []
    for path in sorted(root.rglob("*.jsonl")):
        parts = path.relative_to(root).parts
        if len(parts) < 2:
            continue
        project = parts[0]
        is_subagent = "subagents" in parts[:-1]
        session_id = parts[parts.index("subagents") - 1] if is_subagent else path.stem
        found.append(LogFile(path, f"{root.name}/{'/'.join(parts)}", project, session_id,
                             is_subagent))
    return found


def _text_of(content) -> tuple[str, list[dict], list[dict]]:
    """Readable text, tool_use blocks and tool_result blocks of a message's content."""
    if isinstance(content, str):
        return content, [], []
    texts, uses, results = [], [], []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "thinking":
            texts.append(str(block.get("thinking", "")))
        elif kind == "tool_use":
            tool_input = block.get("input")
            use = {"id": block.get("id"), "name": block.get("name"),
                   "input_chars": len(json.dumps(tool_input, default=str))}
            if isinstance(tool_input, dict) and tool_input.get("subagent_type"):
                use["subagent_type"] = str(tool_input["subagent_type"])  # Task: which subagent
            uses.append(use)
        elif kind == "tool_result":
            body = block.get("content")
            body_text = body if isinstance(body, str) else json.dumps(body, default=str)
            texts.append(body_text)
            results.append({"tool_use_id": block.get("tool_use_id"),
                            "is_error": bool(block.get("is_error", False)),
                            "content_chars": len(body_text)})
    return "\n".join(t for t in texts if t), uses, results


def parse_line(record: dict) -> dict:
    """The columns of one log line; RowRejected for a timestamp that does not parse."""
    message = record.get("message") if isinstance(record.get("message"), dict) else {}
    usage = message.get("usage") if isinstance(message.get("usage"), dict) else {}
    breakdown = usage.get("cache_creation") if isinstance(usage.get("cache_creation"),
                                                           dict) else None
    if record.get("type") == "summary":
        text, uses, results = str(record.get("summary", "")), [], []
    elif record.get("type") == "system":
        text, uses, results = str(record.get("content", "")), [], []
    else:
        text, uses, results = _text_of(message.get("content"))
    timestamp = record.get("timestamp")
    occurred_at = None
    if timestamp is not None:
        try:
            occurred_at = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
        except ValueError:
            raise quarantine.RowRejected(quarantine.BAD_TIMESTAMP, "timestamp") from None
        if occurred_at.tzinfo is None:
            occurred_at = occurred_at.replace(tzinfo=UTC)
    return {
        "line_type": record.get("type"), "session_id": record.get("sessionId"),
        "uuid": record.get("uuid"), "parent_uuid": record.get("parentUuid"),
        "occurred_at": occurred_at, "version": record.get("version"), "cwd": record.get("cwd"),
        "git_branch": record.get("gitBranch"), "is_sidechain": record.get("isSidechain"),
        "agent_id": record.get("agentId"), "request_id": record.get("requestId"),
        "message_id": message.get("id"), "message_role": message.get("role"),
        "model": message.get("model"), "stop_reason": message.get("stop_reason"),
        "input_tokens": usage.get("input_tokens"), "output_tokens": usage.get("output_tokens"),
        "cache_creation_input_tokens": usage.get("cache_creation_input_tokens"),
        "cache_creation_5m_tokens": (breakdown or {}).get("ephemeral_5m_input_tokens"),
        "cache_creation_1h_tokens": (breakdown or {}).get("ephemeral_1h_input_tokens"),
        "cache_read_input_tokens": usage.get("cache_read_input_tokens"),
        "has_cache_creation_breakdown": breakdown is not None,
        "content_text": text,
        "tool_uses": json.dumps(uses) if uses else None,
        "tool_results": json.dumps(results) if results else None,
    }


def load_projects(warehouse: psycopg.Connection, run_id: str,
                  roots: list[Path] | None = None) -> LoadCounts:
    roots = project_dirs() if roots is None else roots
    ensure_raw_schema(warehouse)
    encoding = tokenizer.encoding_name()
    totals = LoadCounts(SOURCE)
    for root in roots:
        for log_file in discover(root):
            counts = load_file(warehouse, log_file, run_id, encoding)
            if counts is not None:
                totals.add(counts)
    return totals


def load_file(warehouse, log_file: LogFile, run_id: str, encoding: str) -> LoadCounts | None:
    data = log_file.path.read_bytes()
    started_at = datetime.now(UTC)
    with warehouse.transaction():
        watermarks.lock(warehouse, f"{SOURCE}:{log_file.key}")
        held = warehouse.execute(
            "select consumed_bytes, consumed_sha256, lines_consumed from raw.claude_code_files "
            "where file_path = %s", (log_file.key,)).fetchone()
        start, first_line = 0, 1
        if held and held[0] <= len(data) and hashlib.sha256(
                data[:held[0]]).hexdigest() == held[1]:
            start, first_line = held[0], held[2] + 1
        elif held:  # rewritten: what was read before no longer stands
            warehouse.execute("delete from raw.claude_code_lines where file_path = %s",
                              (log_file.key,))
        end = data.rfind(b"\n") + 1  # only whole lines; a line being written waits
        if end <= start:
            return None
        counts, rows, rejections, redactions = LoadCounts(SOURCE), [], [], Counter()
        for offset, raw_line in enumerate(data[start:end].split(b"\n")[:-1]):
            line_number = first_line + offset
            if not raw_line.strip():
                continue
            counts.rows_read += 1
            key = f"{log_file.key}:{line_number}"
            try:
                record = json.loads(raw_line.decode("utf-8"))
                if not isinstance(record, dict):
                    raise quarantine.RowRejected(quarantine.WRONG_TYPE, "line is not an object")
                row = parse_line(record)
            except quarantine.RowRejected as exc:
                rejections.append(Rejection(key, exc.reason_code, quarantine.row_hash(raw_line),
                                            exc.detail))
                continue
            except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError) as exc:
                reason = (quarantine.INVALID_UTF8 if isinstance(exc, UnicodeDecodeError)
                          else quarantine.MALFORMED_JSON if isinstance(exc, json.JSONDecodeError)
                          else quarantine.WRONG_TYPE)
                rejections.append(Rejection(key, reason, quarantine.row_hash(raw_line),
                                            type(exc).__name__))
                continue
            text, found = redaction.redact(row["content_text"].replace("\x00", ""))
            redactions.update(found)
            row.update(file_path=log_file.key, line_number=line_number,
                       project=log_file.project, file_session_id=log_file.session_id,
                       content_text=text, content_chars=len(text),
                       redaction_count=sum(found.values()), _run_id=run_id)
            rows.append(row)
        for row, tokens in zip(rows, tokenizer.count_tokens([r["content_text"] for r in rows],
                                                            encoding), strict=True):
            row["estimated_tokens"] = tokens
        copy_rows(warehouse, "raw.claude_code_lines", LINE_COLUMNS, rows)
        counts.rows_loaded = counts.rows_inserted = len(rows)
        counts.rows_quarantined = len(rejections)
        quarantine.record(warehouse, SOURCE, run_id, rejections)
        load_log.record_redactions(warehouse, run_id, SOURCE, redactions)
        lines_consumed = first_line - 1 + data[start:end].count(b"\n")
        warehouse.execute(
            """
            insert into raw.claude_code_files (file_path, project, session_id,
                is_subagent_file, size_bytes, consumed_bytes, consumed_sha256, lines_consumed,
                run_id)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (file_path) do update set
                size_bytes = excluded.size_bytes, consumed_bytes = excluded.consumed_bytes,
                consumed_sha256 = excluded.consumed_sha256,
                lines_consumed = excluded.lines_consumed, run_id = excluded.run_id,
                processed_at = now()
            """,
            (log_file.key, log_file.project, log_file.session_id, log_file.is_subagent,
             len(data), end, hashlib.sha256(data[:end]).hexdigest(), lines_consumed, run_id),
        )
        load_log.record(warehouse, run_id, counts, started_at)
    return counts
