"""Which files of each agent CLI are read, from which configured folders, and by which reader.

- codex: ATW_CODEX_HOME (`~/.codex`): `sessions/**/*.jsonl`, `archived_sessions/**/*.jsonl`;
- gemini_cli: ATW_GEMINI_DIR (`~/.gemini/tmp`): `<project>/chats/session-*.json`;
- opencode: ATW_OPENCODE_DIR (`~/.local/share/opencode`): `storage/message/*/*.json`,
  `opencode*.db`;
- copilot_cli: ATW_COPILOT_HOME (`~/.copilot`): `session-state/*/events.jsonl`,
  `otel/**/*.jsonl`;
- otlp: ATW_OTLP_DIR (an OTLP file exporter's folder): `**/*.json`, `**/*.jsonl`.

Each setting holds one or several folders (os.pathsep-separated).

Keys, like Claude Code's, are the folder's label and the path below it, redacted as
identifiers; session ids that ccusage takes from paths are taken the same way.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingestion.agent_cli import codex, copilot, gemini, opencode, otlp
from ingestion.agent_cli.usage import LogFile, Parsed
from ingestion.core import redaction, settings
from ingestion.core.contract_fields import LoadContext
from ingestion.file_drops.loader import path_key

Reader = Callable[[bytes, LogFile, LoadContext], tuple[Parsed, list[dict]]]


@dataclass(frozen=True)
class FileKind:
    name: str
    read: Reader
    # Lines appended as the CLI works: a last line without its newline waits until the file
    # settles. Otherwise one document, rewritten whole: read once it parses.
    line_based: bool
    # A SQLite database: what is new may be in its `-wal` file.
    has_wal: bool = False
    # The rules a file of this kind is read under: raised when its reader counts something new,
    # so that the files read before are read again once.
    rules: int = 1


def _no_tools(reader: Callable[[bytes, LogFile, LoadContext], Parsed]) -> Reader:
    return lambda data, log, context: (reader(data, log, context), [])


ROLLOUT = FileKind("rollout", codex.parse, True)
CHAT = FileKind("chat", _no_tools(gemini.parse), False)
MESSAGE = FileKind("message", _no_tools(opencode.parse), False)
DATABASE = FileKind(
    "database",
    _no_tools(lambda data, log, context: opencode.parse_database(log.path, log, context)),
    False,
    has_wal=True,
    rules=2,  # 2: the newer `session_message` table
)
EVENTS = FileKind("events", _no_tools(copilot.parse_events), True)
OTEL = FileKind("otel", copilot.read_otel, True)
OTLP = FileKind("otlp", otlp.parse, True)
KINDS = {kind.name: kind for kind in (ROLLOUT, CHAT, MESSAGE, DATABASE, EVENTS, OTEL, OTLP)}


@dataclass(frozen=True)
class FoundFile:
    log: LogFile
    kind: FileKind


@dataclass(frozen=True)
class AgentCli:
    name: str  # raw.agent_cli_usage.agent_cli, and the calls' source_system
    source: str  # the load log's and quarantine's source name
    setting: str
    example: str
    # (path below the folder) -> (kind, session id from the path) or None: not read
    classify: Callable[[str], tuple[FileKind, str | None] | None]
    # The paths below a folder that are read, of all those there.
    narrow: Callable[[list[str]], list[str]] = list
    # Whether a folder (path below the configured one) can hold a file that is read: the walk
    # skips the others (OpenCode's part files outnumber its messages ten to one).
    descend: Callable[[str], bool] = lambda relative: True

    def roots(self) -> list[Path]:
        value = settings.get(self.setting) or ""
        return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def _codex(relative: str) -> tuple[FileKind, str | None] | None:
    top, _, rest = relative.partition("/")
    if top in ("sessions", "archived_sessions") and rest.endswith(".jsonl"):
        return ROLLOUT, rest[: -len(".jsonl")]
    return None


def _gemini(relative: str) -> tuple[FileKind, str | None] | None:
    return (CHAT, None) if gemini.is_chat_file(relative) else None


def _opencode(relative: str) -> tuple[FileKind, str | None] | None:
    if opencode.is_message_file(relative):
        return MESSAGE, None
    if "/" not in relative and relative.startswith("opencode") and relative.endswith(".db"):
        return DATABASE, None
    return None


def _under(*tops: str) -> Callable[[str], bool]:
    return lambda relative: any(
        relative == top or relative.startswith(f"{top}/") or top.startswith(f"{relative}/")
        for top in tops
    )


def _one_database(relatives: list[str]) -> list[str]:
    """OpenCode: the one database ccusage reads (opencode.db, else the first channel's)."""
    chosen = opencode.database_name(r for r in relatives if "/" not in r)
    return [r for r in relatives if "/" in r or not r.endswith(".db") or r == chosen]


def _copilot(relative: str) -> tuple[FileKind, str | None] | None:
    if copilot.is_events_file(relative):
        return EVENTS, relative.split("/")[1]
    if copilot.is_otel_file(relative):
        return OTEL, None
    return None


def _otlp(relative: str) -> tuple[FileKind, str | None] | None:
    return (OTLP, None) if relative.endswith((".json", ".jsonl")) else None


CLIS: tuple[AgentCli, ...] = (
    AgentCli(
        "codex",
        "codex.rollouts",
        "ATW_CODEX_HOME",
        "~/.codex",
        _codex,
        descend=_under("sessions", "archived_sessions"),
    ),
    AgentCli("gemini_cli", "gemini_cli.chats", "ATW_GEMINI_DIR", "~/.gemini/tmp", _gemini),
    AgentCli(
        "opencode",
        "opencode.messages",
        "ATW_OPENCODE_DIR",
        "~/.local/share/opencode",
        _opencode,
        _one_database,
    ),
    AgentCli("copilot_cli", "copilot_cli.sessions", "ATW_COPILOT_HOME", "~/.copilot", _copilot),
    AgentCli("otlp", "otlp.exports", "ATW_OTLP_DIR", "an OTLP file exporter's folder", _otlp),
)
BY_NAME = {cli.name: cli for cli in CLIS}


def _label(root: Path) -> str:
    """A folder's label: its path's digest, so two machines' folders of the same name (every
    `~/.codex`) never share keys."""
    resolved = str(root.expanduser().resolve())
    return f"{root.name or 'root'}~{hashlib.sha256(resolved.encode()).hexdigest()[:8]}"


def _walk(root: Path, descend: Callable[[str], bool]) -> Iterator[str]:
    """Paths below a folder ('/'-separated), in order: files, and folders too (one named like
    a log is quarantined as unreadable, not passed over); folder links are not followed, nor
    folders `descend` rules out."""
    found = []
    for folder, subfolders, files in os.walk(root, onerror=lambda error: None):
        here = Path(folder).relative_to(root).as_posix()
        for entry in files + subfolders:
            found.append(entry if here == "." else f"{here}/{entry}")
        subfolders[:] = [
            entry for entry in subfolders if descend(entry if here == "." else f"{here}/{entry}")
        ]
    yield from sorted(found)


def discover(cli: AgentCli, roots: list[Path], fingerprint_key: bytes) -> list[FoundFile]:
    """The files of `cli` under its folders. Codex: a rollout kept both in `sessions/` and in
    `archived_sessions/` is read from `sessions/`, as ccusage reads it."""

    def clean(value: str) -> str:
        return redaction.redact_identifier(path_key(value), fingerprint_key)[0]

    found = []
    for root in roots:
        label = _label(root)
        kept: dict[str, FoundFile] = {}
        for relative in cli.narrow(list(_walk(root, cli.descend))):
            classified = cli.classify(relative)
            if classified is None:
                continue
            kind, session_id = classified
            log = LogFile(
                root / relative,
                clean(f"{label}/{relative}"),
                path_key(relative),
                clean(session_id) if session_id is not None else None,
            )
            identity = (
                session_id if kind is ROLLOUT else relative
            )  # sessions/ sorts after archived_sessions/: it wins
            kept[identity] = FoundFile(log, kind)
        found += kept.values()
    return found
