"""Small Claude Code logs, shaped like real ones, that each exercise one of ccusage 20.0.24's
counting rules: one project (and UTC day) per rule. tests/integration/test_ccusage_rules.py
checks what the warehouse makes of them; tests/e2e/test_ccusage_parity.py also runs ccusage
itself over them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

SONNET = "claude-sonnet-4-20250514"


def _line(
    when: str,
    message_id: str | None,
    request_id: str | None,
    session: str,
    *,
    model: str = SONNET,
    tokens: tuple[int, int] = (100, 10),
    sidechain: bool = False,
    usage: dict | None = None,
    extra: dict | None = None,
) -> dict:
    message = {
        "role": "assistant",
        "model": model,
        "type": "message",
        "content": [],
        "usage": {
            "input_tokens": tokens[0],
            "output_tokens": tokens[1],
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            **(usage or {}),
        },
    }
    if message_id is not None:
        message["id"] = message_id
    line = {
        "parentUuid": None,
        "isSidechain": sidechain,
        "userType": "external",
        "cwd": "/repo",
        "sessionId": session,
        "version": "2.1.14",
        "type": "assistant",
        "message": message,
        "uuid": f"u-{when}-{message_id}",
        "timestamp": when,
    }
    if request_id is not None:
        line["requestId"] = request_id
    line.update(extra or {})
    return line


def _progress(when: str, relayed: dict, session: str) -> dict:
    """A parent log's `progress` line relaying a subagent's response."""
    inner = {
        "type": "assistant",
        "timestamp": relayed["timestamp"],
        "message": relayed["message"],
        "requestId": relayed.get("requestId"),
    }
    return {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/repo",
        "sessionId": session,
        "version": "2.1.14",
        "type": "progress",
        "uuid": f"p-{when}",
        "timestamp": when,
        "data": {"type": "agent_progress", "agentId": "a1", "message": inner},
    }


def _write(projects: Path, relative: str, lines: list, newline_at_end: bool = True) -> Path:
    path = projects / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(
        line if isinstance(line, str) else json.dumps(line, separators=(",", ":")) for line in lines
    )
    path.write_text(text + ("\n" if newline_at_end else ""))
    return path


def write_rule_logs(projects: Path) -> None:
    """The logs, under `projects` (a `projects/` folder)."""
    # One response logged twice in its file (content blocks: the larger copy counts) and again
    # by the resumed session's file: counted once.
    first = _line("2026-01-05T10:00:00.000Z", "msg_dup", "req_dup", "S1", tokens=(100, 10))
    _write(
        projects,
        "dup/S1.jsonl",
        [first, _line("2026-01-05T10:00:00.500Z", "msg_dup", "req_dup", "S1", tokens=(100, 20))],
    )
    _write(
        projects,
        "dup/S1R.jsonl",
        [_line("2026-01-05T10:00:00.000Z", "msg_dup", "req_dup", "S1R", tokens=(100, 20))],
    )
    # /btw: a sidechain copy under another request id in the same session. The daily report
    # drops it; the others only drop it at the same millisecond (this one is 30 s later).
    _write(
        projects,
        "btw/S2.jsonl",
        [
            _line("2026-01-06T10:00:00.000Z", "msg_btw", "req_btw", "S2", tokens=(50, 5)),
            _line(
                "2026-01-06T10:00:30.000Z",
                "msg_btw",
                "req_btw_side",
                "S2",
                tokens=(50, 5),
                sidechain=True,
            ),
        ],
    )
    # No request id: daily keys id + session + millisecond, the others id + session.
    _write(
        projects,
        "noreq/S3.jsonl",
        [
            _line("2026-01-07T11:00:00.000Z", "msg_noreq", None, "S3", tokens=(7, 1)),
            _line("2026-01-07T11:00:00.000Z", "msg_noreq", None, "S3", tokens=(7, 1)),
            _line("2026-01-07T11:00:00.001Z", "msg_noreq", None, "S3", tokens=(7, 1)),
        ],
    )
    # No message id: a response of its own, never a duplicate.
    _write(
        projects,
        "noid/S4.jsonl",
        [
            _line("2026-01-08T09:00:00.000Z", None, "req_noid", "S4", tokens=(3, 2)),
            _line("2026-01-08T09:00:00.000Z", None, "req_noid", "S4", tokens=(3, 2)),
        ],
    )
    # A null id, model or request id anywhere in a line: ccusage skips the line.
    _write(
        projects,
        "nulls/S5.jsonl",
        [
            _line(
                "2026-01-09T09:00:00.000Z",
                "msg_null_req",
                None,
                "S5",
                tokens=(1000, 1),
                extra={"requestId": None},
            ),
            _line(
                "2026-01-09T09:01:00.000Z",
                "msg_null_model",
                "req_null_model",
                "S5",
                tokens=(1000, 1),
                model=None,
            ),
        ],
    )
    # `progress` lines relay subagent responses: the daily report counts them (one of them is
    # also in the subagent's own log: one response); the other reports read only the logs.
    subagent = _line(
        "2026-01-10T12:02:00.000Z",
        "msg_sub",
        "req_sub",
        "S6",
        tokens=(30, 3),
        sidechain=True,
        extra={"agentId": "a1"},
    )
    orphan = _line(
        "2026-01-10T12:01:00.000Z",
        "msg_orphan",
        "req_orphan",
        "S6",
        model="claude-haiku-4-5-20251001",
        tokens=(2000, 0),
        sidechain=True,
    )
    _write(
        projects,
        "relay/S6.jsonl",
        [
            _line("2026-01-10T12:00:00.000Z", "msg_main", "req_main", "S6", tokens=(10, 1)),
            _progress("2026-01-10T12:01:00.050Z", orphan, "S6"),
            _progress("2026-01-10T12:02:00.050Z", subagent, "S6"),
        ],
    )
    _write(projects, "relay/S6/subagents/agent-a1.jsonl", [subagent])
    # Fast mode: the model is named `<model>-fast`; Opus 4.6's fast price is 6x.
    _write(
        projects,
        "fast/S7.jsonl",
        [
            _line(
                "2026-02-10T09:00:00.000Z",
                "msg_fast",
                "req_fast",
                "S7",
                model="claude-opus-4-6",
                tokens=(1000, 100),
                usage={"speed": "fast"},
            )
        ],
    )
    # A line's own costUSD is its cost.
    _write(
        projects,
        "logged/S8.jsonl",
        [
            _line(
                "2026-01-12T09:00:00.000Z",
                "msg_logged",
                "req_logged",
                "S8",
                tokens=(10, 10),
                extra={"costUSD": 1.23},
            )
        ],
    )
    # `<synthetic>`: a message Claude Code wrote itself; no tokens, no cost, still a response.
    _write(
        projects,
        "synthetic/S9.jsonl",
        [
            _line(
                "2026-01-13T09:00:00.000Z",
                "msg_synthetic",
                "req_synthetic",
                "S9",
                model="<synthetic>",
                tokens=(0, 0),
            )
        ],
    )
    # A complete last line without its newline, in a log nobody writes any more, is read.
    tail = _write(
        projects,
        "tail/S10.jsonl",
        [_line("2026-01-14T09:00:00.000Z", "msg_tail", "req_tail", "S10", tokens=(5, 5))],
        newline_at_end=False,
    )
    an_hour_ago = time.time() - 3600
    os.utime(tail, (an_hour_ago, an_hour_ago))
    # A log in a session folder: the folder is the session.
    _write(
        projects,
        "nested/S11/chat.jsonl",
        [_line("2026-01-15T09:00:00.000Z", "msg_nested", "req_nested", "S11", tokens=(4, 4))],
    )
    # Blocks: exactly 5 hours later stays in the block; a millisecond more starts a new one.
    _write(
        projects,
        "blocks/S12.jsonl",
        [
            _line("2026-01-20T00:00:00.000Z", "msg_b1", "req_b1", "S12", tokens=(1, 1)),
            _line("2026-01-20T05:00:00.000Z", "msg_b2", "req_b2", "S12", tokens=(1, 1)),
            _line("2026-01-20T10:00:00.001Z", "msg_b3", "req_b3", "S12", tokens=(1, 1)),
        ],
    )
