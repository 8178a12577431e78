"""Small agent CLI logs made to exercise each of ccusage 20.0.24's counting rules, written as
the CLI writes them (Codex: compact JSON, one object per line). The parity suite runs ccusage
over them where npm exists and compares every report with the warehouse's marts."""

from __future__ import annotations

import json
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
