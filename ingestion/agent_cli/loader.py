"""The logs of agent CLIs other than Claude Code, and OTLP file exports, into
`raw.agent_cli_usage` and `raw.agent_cli_tool_events`.

Each CLI has its folders (one per machine or user when logs are gathered centrally; see
`sources.py`). A file whose size, modification time and inode are those recorded when it was
last read is not opened. A changed file (grown, rewritten) is read again whole: its rows are
replaced and its `raw.agent_cli_files` row written in one transaction. Whole reads keep each
reader a plain function of the file's bytes, which some rules need (Codex's deltas of a
cumulative counter, Copilot's intervals between shutdowns, rewritten Gemini chats). A file whose
bytes are those already read is only re-stamped.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from ingestion.agent_cli.sources import CLIS, KINDS, AgentCli, FoundFile, discover
from ingestion.agent_cli.usage import TOKEN_COLUMNS, TOOL_COLUMNS, USAGE_COLUMNS
from ingestion.core import file_stamps, load_log, quarantine, reconciliation, settings
from ingestion.core.contract_fields import INT32_MAX, load_context
from ingestion.core.copy_rows import copy_rows
from ingestion.core.load_log import LoadCounts
from ingestion.core.quarantine import Rejection
from ingestion.core.raw_schema import ensure_raw_schema
from ingestion.file_drops.loader import read_file, unreadable

FILES_PER_COMMIT = 500
# Usage columns that are false unless a reader says otherwise.
_FLAGS = ("is_fallback_model", "in_leading_burst", "is_replayed_turn")


def load_cli(
    warehouse: psycopg.Connection,
    run_id: str,
    cli: AgentCli,
    roots: list[Path] | None = None,
    reconcile_all: bool = False,
    schema_ready: bool = False,
) -> LoadCounts:
    """Read every new or changed file of one CLI under its folders; then reconcile the files
    this load read (with `reconcile_all`, every file ever read) with raw. `schema_ready`: the
    caller has set up the raw schema already (once for all the CLIs it loads)."""
    roots = cli.roots() if roots is None else roots
    if not schema_ready:
        ensure_raw_schema(warehouse)
    key_material = warehouse.execute("select key from raw.redaction_key").fetchone()[0].encode()
    recorded = _recorded(warehouse, cli.name)
    warehouse.commit()
    totals, read = LoadCounts(cli.source), []
    found_files = discover(cli, roots, key_material)
    if cli.name == "codex":
        # Only a rollout archived since the last load (a key not read yet) can be a move.
        _retire_archived_rollouts(
            warehouse, [found for found in found_files if found.log.key not in recorded]
        )
    pending = []
    for found in found_files:
        held = recorded.get(found.log.key)
        # A database's new rows may sit in its write-ahead log, which its own stat does not
        # show: it is hashed with that log every time.
        if (
            held is not None
            and not found.kind.has_wal
            and file_stamps.unchanged(found.log.path, held[0])
        ):
            continue
        pending.append((found, held[1] if held else None))
    # Files commit in batches (each file's rows and record still together, in a savepoint of
    # its own): a day's OpenCode messages are hundreds of small files, and a commit each
    # would cost more than reading them.
    for start in range(0, len(pending), FILES_PER_COMMIT):
        with warehouse.transaction():
            for found, read_sha in pending[start : start + FILES_PER_COMMIT]:
                counts = load_file(warehouse, cli, found, run_id, read_sha)
                if counts is not None:
                    totals.add(counts)
                    read.append(found.log.key)
    with warehouse.transaction():
        reconciliation.agent_cli_files(
            warehouse, run_id, cli.name, None if reconcile_all else read, cli.source
        )
    return totals


def load_file(
    warehouse, cli: AgentCli, found: FoundFile, run_id: str, read_sha: str | None
) -> LoadCounts | None:
    started_at = datetime.now(UTC)
    log = found.log
    stamp = file_stamps.settled_stamp(log.path, settle_seconds())
    data, _, why = read_file(log.path)
    if data is None:
        return unreadable(warehouse, cli.source, log.key, run_id, why, started_at)
    if stamp is not None and stamp[0] != len(data):
        stamp = None  # changed while it was read
    size, modified_ns, inode = stamp or (len(data), None, None)
    if stamp is None and found.kind.line_based and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]  # a line being written waits for the next read
    if found.kind.has_wal:
        data += read_file(Path(f"{log.path}-wal"))[0] or b""
    sha = hashlib.sha256(data).hexdigest()
    with warehouse.transaction():
        if sha == read_sha:
            warehouse.execute(
                "update raw.agent_cli_files set size_bytes = %s, modified_ns = %s, inode = %s "
                "where agent_cli = %s and file_path = %s",
                (size, modified_ns, inode, cli.name, log.key),
            )
            return None
        context = load_context(warehouse)
        parsed, tools = found.kind.read(data, log, context)
        if _whole_file_refused(parsed, log):
            if stamp is None and not found.kind.line_based:
                return None  # a document being rewritten: read once it is whole
            # The file as a whole cannot be read now (a document that does not parse, a
            # database that is locked or broken): what was read of it before stays, and it is
            # read again next time.
            return _refused_whole(warehouse, cli, log, run_id, parsed, started_at)
        for row in parsed.rows:
            row.setdefault("session_id", log.session_id)
        parsed.rows = _within_bounds(parsed, log)
        warehouse.execute(
            "delete from raw.agent_cli_usage where agent_cli = %s and file_path = %s",
            (cli.name, log.key),
        )
        warehouse.execute(
            "delete from raw.agent_cli_tool_events where agent_cli = %s and file_path = %s",
            (cli.name, log.key),
        )
        common = {"agent_cli": cli.name, "file_path": log.key, "_run_id": run_id}
        rows = [{**dict.fromkeys(USAGE_COLUMNS), **row, **common} for row in parsed.rows]
        for row in rows:
            for flag in _FLAGS:
                row[flag] = bool(row[flag])
        refused = copy_rows(
            warehouse,
            "raw.agent_cli_usage",
            ("agent_cli", "file_path", *USAGE_COLUMNS, "_run_id"),
            rows,
            key_of=lambda row: f"{log.key}:{row['record_key']}",
        )
        tool_rows = [{**dict.fromkeys(TOOL_COLUMNS), **tool, **common} for tool in tools]
        for tool in tool_rows:
            tool["session_id"] = tool["session_id"] or log.session_id
        refused += copy_rows(
            warehouse,
            "raw.agent_cli_tool_events",
            ("agent_cli", "file_path", *TOOL_COLUMNS, "_run_id"),
            tool_rows,
            key_of=lambda row: f"{log.key}:tool:{row['record_key']}",
        )
        rejections = parsed.rejections + refused
        quarantine.record(warehouse, cli.source, run_id, rejections)
        refused_keys = {r.source_key for r in refused}
        kept = [row for row in rows if f"{log.key}:{row['record_key']}" not in refused_keys]
        usage_rows = len(kept)
        tools_kept = len(tool_rows) - sum(1 for r in refused if ":tool:" in r.source_key)
        # The load log counts rows: the usage and tool rows the reader made, and what was set
        # aside. Lines that hold neither are counted in raw.agent_cli_files.records_read.
        loaded = usage_rows + tools_kept
        counts = LoadCounts(
            cli.source,
            rows_read=loaded + len(rejections),
            rows_loaded=loaded,
            rows_inserted=loaded,
            rows_quarantined=len(rejections),
        )
        warehouse.execute(
            """
            insert into raw.agent_cli_files as f (agent_cli, file_path, file_kind, size_bytes,
                sha256, modified_ns, inode, records_read, records_quarantined, usage_rows_read,
                tool_rows_read, tokens_read, rules_version, run_id)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (agent_cli, file_path) do update set
                file_kind = excluded.file_kind, size_bytes = excluded.size_bytes,
                sha256 = excluded.sha256, modified_ns = excluded.modified_ns,
                inode = excluded.inode, records_read = excluded.records_read,
                records_quarantined = excluded.records_quarantined,
                usage_rows_read = excluded.usage_rows_read,
                tool_rows_read = excluded.tool_rows_read, tokens_read = excluded.tokens_read,
                rules_version = excluded.rules_version, run_id = excluded.run_id,
                processed_at = now()
            """,
            (
                cli.name,
                log.key,
                found.kind.name,
                size,
                sha,
                modified_ns,
                inode,
                parsed.records_read,
                len(rejections),
                usage_rows,
                tools_kept,
                sum(row["total_tokens"] or 0 for row in kept),
                found.kind.rules,
                run_id,
            ),
        )
        load_log.record(warehouse, run_id, counts, started_at)
    return counts


def _retire_archived_rollouts(warehouse, found_files) -> None:
    """Codex archives a session by moving its rollout from `sessions/Y/M/D/` to
    `archived_sessions/`. The rows read from the old path, now gone, are retired: the rollout
    counts once, under its new path, as ccusage counts it (a rollout deleted outright keeps
    its rows, as every source's history does)."""
    for found in found_files:
        relative = found.log.relative
        if not relative.startswith("archived_sessions/"):
            continue
        root = Path(str(found.log.path)[: -len(relative)])
        prefix = found.log.key[: -len(relative)]  # the folder's label and a slash
        name = "/" + relative.rsplit("/", 1)[-1]
        with warehouse.transaction():
            old = warehouse.execute(
                "select file_path from raw.agent_cli_files where agent_cli = 'codex' "
                "and starts_with(file_path, %s) and right(file_path, %s) = %s",
                (prefix + "sessions/", len(name), name),
            ).fetchall()
            for (key,) in old:
                if (root / key[len(prefix) :]).exists():
                    continue
                for table in ("agent_cli_usage", "agent_cli_tool_events", "agent_cli_files"):
                    warehouse.execute(
                        sql.SQL(
                            "delete from {} where agent_cli = 'codex' and file_path = %s"
                        ).format(sql.Identifier("raw", table)),
                        (key,),
                    )


def load_all(
    warehouse: psycopg.Connection, run_id: str, reconcile_all: bool = False
) -> list[LoadCounts]:
    """Every CLI with folders configured."""
    ensure_raw_schema(warehouse)
    return [
        load_cli(warehouse, run_id, cli, reconcile_all=reconcile_all, schema_ready=True)
        for cli in CLIS
        if cli.roots()
    ]


def _refused_whole(warehouse, cli, log, run_id: str, parsed, started_at) -> LoadCounts:
    whole = [r for r in parsed.rejections if r.source_key == log.key]
    quarantine.record(warehouse, cli.source, run_id, whole)
    counts = LoadCounts(cli.source, rows_read=len(whole), rows_quarantined=len(whole))
    load_log.record(warehouse, run_id, counts, started_at)
    return counts


def _within_bounds(parsed, log) -> list[dict]:
    """The rows whose every count fits the calls fact's integer columns (2**31 - 1: no real
    call, nor a Copilot session's cumulative total, comes near it); the others are
    quarantined, not allowed to fail the build."""
    kept = []
    for row in parsed.rows:
        if any((row.get(column) or 0) > INT32_MAX for column in TOKEN_COLUMNS):
            key = f"{log.key}:{row['record_key']}"
            parsed.rejections.append(
                Rejection(key, quarantine.OUT_OF_RANGE, quarantine.row_hash(key), "a token count")
            )
        else:
            kept.append(row)
    return kept


def _whole_file_refused(parsed, log) -> bool:
    return any(rejection.source_key == log.key for rejection in parsed.rejections)


def settle_seconds() -> float:
    """ATW_AGENT_LOG_SETTLE_SECONDS (60): how long a file must stay unchanged before a last
    line without its newline, or a document that does not parse, is taken as it is."""
    return settings.number("ATW_AGENT_LOG_SETTLE_SECONDS")


def _recorded(warehouse, agent_cli: str) -> dict[str, tuple[file_stamps.Stamp | None, str]]:
    """Per file read under its kind's current rules (`FileKind.rules`; a file read under older
    ones is read again): its recorded stamp (None: read it next time) and the hash of what was
    read."""
    return {
        key: ((size, modified_ns, inode) if modified_ns is not None else None, sha)
        for key, kind, rules, size, modified_ns, inode, sha in warehouse.execute(
            "select file_path, file_kind, rules_version, size_bytes, modified_ns, inode, sha256 "
            "from raw.agent_cli_files where agent_cli = %s",
            (agent_cli,),
        )
        if kind in KINDS and rules == KINDS[kind].rules
    }
