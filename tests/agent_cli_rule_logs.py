"""Small agent CLI logs made to exercise each of ccusage 20.0.24's counting rules, written as
the CLI writes them (Codex: compact JSON, one object per line). The parity suite runs ccusage
over them where npm exists and compares every report with the warehouse's marts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def _line(stamp: str, kind: str, payload: dict) -> str:
    return json.dumps({"timestamp": stamp, "type": kind, "payload": payload}, separators=(",", ":"))


def _usage(inp: int, cached: int, out: int, reasoning: int, total: int | None = None) -> dict:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out if total is None else total,
    }


def _token_count(stamp: str, last: dict | None, total: dict | None, model=None) -> str:
    info: dict = {}
    if last is not None:
        info["last_token_usage"] = last
    if total is not None:
        info["total_token_usage"] = total
    if model is not None:
        info["model"] = model
    return _line(stamp, "event_msg", {"type": "token_count", "info": info, "rate_limits": {}})


def _meta(stamp: str, thread: str, parent: str | None = None) -> str:
    payload = {"id": thread, "cwd": "/work/rules", "source": "cli", "originator": "codex_cli_rs"}
    if parent:
        payload["forked_from_id"] = parent
    return _line(stamp, "session_meta", payload)


def _turn(stamp: str, model: str) -> str:
    return _line(stamp, "turn_context", {"model": model, "cwd": "/work/rules"})


def _cumulative(events: list[tuple[str, dict]]) -> list[str]:
    """token_count lines with last and cumulative totals."""
    lines, running = [], dict.fromkeys(_usage(0, 0, 0, 0), 0)
    for stamp, usage in events:
        running = {key: running[key] + usage[key] for key in running}
        lines.append(_token_count(stamp, usage, dict(running)))
    return lines


def write_codex_rule_logs(home: Path) -> None:
    """A `~/.codex` holding one rollout per rule."""
    day = home / "sessions" / "2026" / "06" / "08"
    day.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {}
    a, b, c = _usage(1000, 600, 50, 10), _usage(1000, 800, 40, 10), _usage(1200, 900, 30, 5)
    # A parent and its fork, which replays the parent's two events at new times, then works.
    files["rollout-2026-06-08T09-00-00-parent"] = [
        _meta("2026-06-08T09:00:00.000Z", "thread-parent"),
        _turn("2026-06-08T09:00:00.100Z", "gpt-5.2-codex"),
        *_cumulative([("2026-06-08T09:01:00.000Z", a), ("2026-06-08T09:05:00.000Z", b)]),
    ]
    files["rollout-2026-06-08T10-00-00-child"] = [
        _meta("2026-06-08T10:00:00.000Z", "thread-child", "thread-parent"),
        _turn("2026-06-08T10:00:00.100Z", "gpt-5.2-codex"),
        *_cumulative(
            [
                ("2026-06-08T10:00:01.000Z", a),
                ("2026-06-08T10:00:04.000Z", b),
                ("2026-06-08T10:07:00.000Z", c),
            ]
        ),
    ]
    # Forks without their parent: a burst across a second's tick (replayed), and two events
    # 1.2 s apart (not a burst: both count).
    files["rollout-2026-06-08T11-00-00-burst"] = [
        _meta("2026-06-08T11:00:04.000Z", "thread-burst", "thread-gone"),
        *_cumulative(
            [
                ("2026-06-08T11:00:04.900Z", a),
                ("2026-06-08T11:00:05.050Z", b),
                ("2026-06-08T11:00:05.900Z", b),
                ("2026-06-08T11:09:00.000Z", c),
            ]
        ),
    ]
    files["rollout-2026-06-08T11-30-00-no-burst"] = [
        _meta("2026-06-08T11:30:04.000Z", "thread-slow", "thread-gone"),
        _turn("2026-06-08T11:30:04.100Z", "gpt-5"),
        *_cumulative([("2026-06-08T11:30:04.900Z", a), ("2026-06-08T11:30:06.100Z", b)]),
    ]
    # Not a fork: a burst counts.
    files["rollout-2026-06-08T12-00-00-plain-burst"] = [
        _meta("2026-06-08T12:00:00.000Z", "thread-plain"),
        _turn("2026-06-08T12:00:00.100Z", "gpt-5.2-codex"),
        *_cumulative([("2026-06-08T12:00:00.200Z", a), ("2026-06-08T12:00:00.300Z", b)]),
    ]
    # Cumulative totals only, a repeated snapshot, info null, a model named by the event, a
    # compaction, a total that differs from input + output, and a line written with spaces
    # (ccusage reads only compact lines: no usage).
    files["rollout-2026-06-08T13-00-00-legacy"] = [
        _meta("2026-06-08T13:00:00.000Z", "thread-legacy"),
        _turn("2026-06-08T13:00:00.100Z", "gpt-5.2-codex"),
        _token_count("2026-06-08T13:01:00.000Z", None, _usage(5000, 1000, 200, 50, 5300)),
        _token_count("2026-06-08T13:01:30.000Z", None, _usage(5000, 1000, 200, 50, 5300)),
        _line("2026-06-08T13:01:40.000Z", "event_msg", {"type": "token_count", "info": None}),
        _token_count(
            "2026-06-08T13:02:00.000Z", None, _usage(9000, 3000, 500, 80), "gpt-5.3-codex"
        ),
        _line("2026-06-08T13:03:00.000Z", "compacted", {"message": "", "replacement_history": []}),
        _line("2026-06-08T13:03:00.010Z", "event_msg", {"type": "context_compacted"}),
        _token_count("2026-06-08T13:04:00.000Z", None, _usage(12000, 6000, 700, 90)),
        json.dumps(
            {
                "timestamp": "2026-06-08T13:05:00.000Z",
                "type": "event_msg",
                "payload": {
                    "type": "token_count",
                    "info": {"last_token_usage": _usage(777, 0, 7, 0)},
                },
            }
        ),
    ]
    # Long context: an event past gpt-5.4's threshold is priced whole at the higher rates.
    files["rollout-2026-06-08T14-00-00-long"] = [
        _meta("2026-06-08T14:00:00.000Z", "thread-long"),
        _turn("2026-06-08T14:00:00.100Z", "gpt-5.4"),
        *_cumulative(
            [
                ("2026-06-08T14:01:00.000Z", _usage(300_000, 100_000, 2_000, 100)),
                ("2026-06-08T14:02:00.000Z", _usage(100_000, 0, 1_000, 0)),
            ]
        ),
    ]
    # Just before and after midnight UTC.
    files["rollout-2026-06-08T23-59-00-midnight"] = [
        _meta("2026-06-08T23:59:00.000Z", "thread-midnight"),
        _turn("2026-06-08T23:59:00.100Z", "gpt-5.2-codex"),
        *_cumulative([("2026-06-08T23:59:59.999Z", a), ("2026-06-09T00:00:00.000Z", c)]),
    ]
    for name, lines in files.items():
        (day / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    archived = home / "archived_sessions"
    archived.mkdir(parents=True, exist_ok=True)
    (archived / "rollout-2026-06-07T08-00-00-archived.jsonl").write_text(
        "\n".join(
            [
                _meta("2026-06-07T08:00:00.000Z", "thread-archived"),
                _turn("2026-06-07T08:00:00.100Z", "gpt-5.2-codex"),
                *_cumulative([("2026-06-07T08:01:00.000Z", c)]),
            ]
        )
        + "\n"
    )


# Long context by the model's price (macros/tiered_cost.sql), as ccusage's common pricing
# applies it to Copilot CLI and OpenCode: (uncached input, cache read, cache write, output).
# gpt-5.4 and gpt-5.5 (272 K) and gemini-2.5-pro (200 K) price a record whose context passes
# the threshold whole at the higher rates; Claude models price each token type past 200 K
# higher (claude-sonnet-4 by the override seed); gpt-5 has no tier, and no cache-write price.
LONG_CONTEXT_MODELS = (
    ("gpt-5.4", "openai"),
    ("gpt-5.5", "openai"),
    ("gemini-2.5-pro", "google"),
    ("claude-sonnet-4.5", "anthropic"),
    ("claude-sonnet-4", "anthropic"),
    ("gpt-5", "openai"),
)
GEMINI_3_PRO_PAST = "gemini-3-pro-preview-context-past"  # a session of write_copilot_rule_logs
LONG_CONTEXT_SHAPES = {
    "small": (10_000, 18_000, 0, 1_000),
    "context-past": (100_000, 180_000, 0, 10_000),  # no type past 200 K, the context past 272 K
    "reads-past": (100_000, 500_000, 0, 10_000),  # cache reads past 200 K alone
    "input-only": (250_000, 0, 0, 1_000),  # past 200 K, below 272 K
    "writes": (5_000, 20_000, 190_000, 1_000),  # the context past 200 K by cache writes
}


def _copilot_shutdown(stamp: str, event: str, model: str, counts: tuple[int, ...]) -> str:
    fresh, read, write, out = counts
    usage = {
        "inputTokens": fresh + read + write,  # Copilot's input holds the cache
        "outputTokens": out,
        "cacheReadTokens": read,
        "cacheWriteTokens": write,
        "reasoningTokens": 0,
    }
    data = {"modelMetrics": {model: {"requests": {"count": 1}, "usage": usage}}}
    return json.dumps({"type": "session.shutdown", "data": data, "id": event, "timestamp": stamp})


def write_copilot_rule_logs(home: Path) -> None:
    """A `~/.copilot` with one session per model and long-context shape, and one whose
    cumulative shutdowns pass gpt-5.4's threshold only together (each interval is priced on
    its own context)."""
    sessions: dict[str, list[str]] = {}
    for m, (model, _) in enumerate(LONG_CONTEXT_MODELS):
        for s, (shape, counts) in enumerate(LONG_CONTEXT_SHAPES.items()):
            stamp = f"2026-06-{8 + m:02d}T{10 + s:02d}:00:00.000Z"
            sessions[f"{model}-{shape}"] = [
                _copilot_shutdown(stamp, f"shutdown-{m}-{s}", model, counts)
            ]
    sessions["gpt-5.4-two-shutdowns"] = [
        _copilot_shutdown(
            "2026-06-20T10:00:00.000Z", "first", "gpt-5.4", (50_000, 150_000, 0, 2_000)
        ),
        _copilot_shutdown(
            "2026-06-20T11:00:00.000Z", "second", "gpt-5.4", (100_000, 300_000, 0, 4_000)
        ),
    ]
    # Where ccusage is wrong: it has no long-context prices for gemini-3-pro-preview, which
    # Google bills at the higher rates past 200 K of context (its day alone).
    sessions[GEMINI_3_PRO_PAST] = [
        _copilot_shutdown(
            "2026-06-25T10:00:00.000Z",
            "gemini-3",
            "gemini-3-pro-preview",
            LONG_CONTEXT_SHAPES["context-past"],
        )
    ]
    for name, lines in sessions.items():
        folder = home / "session-state" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "events.jsonl").write_text("\n".join(lines) + "\n")


def write_opencode_rule_logs(home: Path) -> None:
    """An OpenCode data folder (file storage) with one unpriced message (`cost` 0) per model
    and long-context shape, each its own session, and a database of both schemas."""
    home.mkdir(parents=True, exist_ok=True)
    write_opencode_database(home)
    storage = home / "storage"
    created = 1_780_900_000_000  # 2026-06-08
    for m, (model, provider) in enumerate(LONG_CONTEXT_MODELS):
        for s, (shape, (fresh, read, write, out)) in enumerate(LONG_CONTEXT_SHAPES.items()):
            session, message = f"ses_rules_{m}_{s}", f"msg_rules_{m}_{s}"
            at = created + (m * 10 + s) * 3_600_000
            (storage / "session" / "global").mkdir(parents=True, exist_ok=True)
            (storage / "session" / "global" / f"{session}.json").write_text(
                json.dumps({"id": session, "title": shape, "time": {"created": at, "updated": at}})
            )
            _write_opencode_file(
                storage,
                _opencode_message(at, model, provider, _opencode_tokens(fresh, out, read, write)),
                message,
                session,
            )


def _opencode_tokens(fresh: int, out: int, read: int = 0, write: int = 0) -> dict:
    return {"input": fresh, "output": out, "reasoning": 0, "cache": {"read": read, "write": write}}


def _opencode_message(at: int, model: str, provider: str, tokens: dict) -> dict:
    """An unpriced (`cost` 0) assistant message as OpenCode's older schema keeps it, without
    its ids."""
    return {
        "role": "assistant",
        "time": {"created": at},
        "modelID": model,
        "providerID": provider,
        "cost": 0,
        "tokens": tokens,
    }


def _write_opencode_file(storage: Path, message: dict, message_id: str, session: str) -> None:
    folder = storage / "message" / session
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{message_id}.json").write_text(
        json.dumps({"id": message_id, "sessionID": session, **message})
    )


def write_opencode_database(home: Path) -> None:
    """An `opencode.db` with both tables: `message` (the older schema) and `session_message`
    (the newer), a message id in both and one in the newer table and in a storage file. ccusage
    counts each id once: `message`, then `session_message`, then the file."""
    at = 1_781_500_000_000  # 2026-06-15
    gpt = {"model": {"id": "gpt-5", "providerID": "openai"}, "cost": 0}
    newer = [
        ("msg_both_tables", "ses_db_both", 1, {**gpt, "tokens": _opencode_tokens(999, 9)}),
        ("msg_newer", "ses_db_newer", 2, {**gpt, "tokens": _opencode_tokens(300, 30)}),
        ("msg_newer_and_file", "ses_db_file", 3, {**gpt, "tokens": _opencode_tokens(400, 40)}),
        ("msg_prompt", "ses_db_newer", 4, {"text": "hi", "tokens": _opencode_tokens(5, 5)}),
    ]
    with sqlite3.connect(home / "opencode.db") as db:
        db.execute("create table message (id text primary key, session_id text, data text)")
        db.execute(
            "insert into message values (?, ?, ?)",
            (
                "msg_both_tables",
                "ses_db_both",
                json.dumps(_opencode_message(at, "gpt-5", "openai", _opencode_tokens(100, 10))),
            ),
        )
        db.execute(
            "create table session_message (id text primary key, session_id text not null, "
            "type text not null, seq integer not null, time_created integer not null, "
            "time_updated integer not null, data text not null)"
        )
        db.executemany(
            "insert into session_message values (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i,
                    s,
                    "user" if i == "msg_prompt" else "assistant",
                    n,
                    at + n,
                    at + n,
                    json.dumps(d),
                )
                for i, s, n, d in newer
            ],
        )
    db.close()
    _write_opencode_file(
        home / "storage",
        _opencode_message(at, "gpt-5", "openai", _opencode_tokens(7, 7)),
        "msg_newer_and_file",
        "ses_db_file",
    )
