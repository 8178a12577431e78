"""The Codex rollout reader: ccusage 20.0.24's counting rules, the cases where we differ from it,
and hostile lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.agent_cli import codex
from ingestion.agent_cli.usage import LogFile
from ingestion.core.contract_fields import LoadContext
from tests.agent_cli_rule_logs import _line, _meta, _token_count, _turn, _usage

SECRET = "sk-ant-api03-" + "A" * 40
LOG = LogFile(Path("rollout.jsonl"), "home~1/sessions/r.jsonl", "sessions/r.jsonl", "r")


def _context() -> LoadContext:
    return LoadContext(now=datetime(2026, 12, 1, tzinfo=UTC), fingerprint_key=b"test key")


def _parse(lines: list[str | bytes], end: bytes = b"\n"):
    data = b"\n".join(x.encode() if isinstance(x, str) else x for x in lines) + end
    return codex.parse(data, LOG, _context())


def _totals(rows, counted=lambda row: True) -> dict:
    keys = ("input_tokens", "cache_read_tokens", "output_tokens", "total_tokens")
    return {key: sum(row[key] for row in rows if counted(row)) for key in keys}


def test_last_usage_and_model_switch():
    parsed, _ = _parse(
        [
            _turn("2026-06-08T10:00:00.000Z", "gpt-5.2-codex"),
            _token_count("2026-06-08T10:01:00.000Z", _usage(1000, 600, 50, 10), None),
            _token_count(
                "2026-06-08T10:02:00.000Z", _usage(500, 0, 20, 0), None, model="gpt-5.3-codex"
            ),
        ]
    )
    assert [row["model"] for row in parsed.rows] == ["gpt-5.2-codex", "gpt-5.3-codex"]
    first = parsed.rows[0]
    assert (first["input_tokens"], first["cache_read_tokens"], first["total_tokens"]) == (
        400,
        600,
        1050,
    )
    assert first["tier_rule"] == "whole" and first["tier_basis_tokens"] == 1000


def test_cumulative_only_repeats_and_null_info():
    parsed, _ = _parse(
        [
            _token_count("2026-06-08T10:01:00.000Z", None, _usage(5000, 1000, 200, 50)),
            _token_count("2026-06-08T10:01:30.000Z", None, _usage(5000, 1000, 200, 50)),
            _line("2026-06-08T10:01:40.000Z", "event_msg", {"type": "token_count", "info": None}),
            _token_count("2026-06-08T10:02:00.000Z", None, _usage(9000, 3000, 500, 80)),
        ]
    )
    assert len(parsed.rows) == 2 and parsed.records_read == 4
    assert parsed.rows[1]["input_tokens"] == 2000  # (9000 - 5000) - (3000 - 1000)
    assert all(row["is_fallback_model"] and row["model"] == "gpt-5" for row in parsed.rows)


def test_compaction_keeps_counting():
    parsed, _ = _parse(
        [
            _token_count("2026-06-08T10:01:00.000Z", None, _usage(5000, 1000, 200, 50)),
            _line("2026-06-08T10:02:00.000Z", "compacted", {"message": ""}),
            _line("2026-06-08T10:02:00.010Z", "event_msg", {"type": "context_compacted"}),
            _token_count("2026-06-08T10:03:00.000Z", None, _usage(6000, 1500, 260, 50)),
        ]
    )
    assert [row["total_tokens"] for row in parsed.rows] == [5200, 1060]


def test_counter_restart_counts_the_new_total_whole_unlike_ccusage():
    """ccusage 20.0.24 reports 6,250 total tokens for these three snapshots (checked with its
    binary): it counts the fall as 0 and then only the growth past 3,100, losing the 3,100
    used after the restart. We count 5,200 + 3,100 + 1,050."""
    parsed, _ = _parse(
        [
            _token_count("2026-06-08T10:01:00.000Z", None, _usage(5000, 1000, 200, 50)),
            _token_count("2026-06-08T10:02:00.000Z", None, _usage(3000, 500, 100, 10)),
            _token_count("2026-06-08T10:03:00.000Z", None, _usage(4000, 900, 150, 20)),
        ]
    )
    assert [row["total_tokens"] for row in parsed.rows] == [5200, 3100, 1050]
    assert sum(row["total_tokens"] for row in parsed.rows) - 6250 == 3100


def test_only_compact_lines_hold_usage():
    spaced = json.dumps(
        {
            "timestamp": "2026-06-08T10:01:00.000Z",
            "type": "event_msg",
            "payload": {"type": "token_count", "info": {"last_token_usage": _usage(9, 0, 1, 0)}},
        }
    )
    parsed, _ = _parse([spaced])
    assert parsed.rows == [] and parsed.rejections == [] and parsed.records_read == 1


def test_fork_burst_and_replayed_turns():
    a, b, c = _usage(1000, 600, 50, 10), _usage(1000, 800, 40, 10), _usage(1000, 1000, 30, 10)
    parsed, _ = _parse(
        [
            _meta("2026-06-08T11:39:04.000Z", "child", "parent"),
            _token_count("2026-06-08T11:39:04.900Z", a, None),
            _token_count("2026-06-08T11:39:05.050Z", b, None),
            _token_count("2026-06-08T11:40:10.000Z", c, None),
        ]
    )
    assert [row["in_leading_burst"] for row in parsed.rows] == [True, True, False]
    assert {row["forked_from_id"] for row in parsed.rows} == {"parent"}
    assert [row["usage_ordinal"] for row in parsed.rows] == [1, 2, 3]
    # 1.2 s apart: not a burst; a file that is not a fork: never.
    slow, _ = _parse(
        [
            _meta("2026-06-08T11:39:04.000Z", "child", "parent"),
            _token_count("2026-06-08T11:39:04.900Z", a, None),
            _token_count("2026-06-08T11:39:06.100Z", b, None),
        ]
    )
    assert not any(row["in_leading_burst"] for row in slow.rows)
    plain, _ = _parse(
        [
            _meta("2026-06-08T11:39:04.000Z", "thread"),
            _token_count("2026-06-08T11:39:04.900Z", a, None),
            _token_count("2026-06-08T11:39:05.000Z", b, None),
        ]
    )
    assert not any(row["in_leading_burst"] for row in plain.rows)


def test_replayed_turn_of_the_parent_is_not_counted_unlike_ccusage():
    """ccusage 20.0.24 counts the parent's turns a fork replays over more than a second again
    (its replay-multisecond fixture). A turn whose task_started says it began before the fork
    is the parent's."""
    started = datetime(2026, 6, 8, 11, 39, 4, tzinfo=UTC).timestamp()
    parsed, _ = _parse(
        [
            _meta("2026-06-08T11:39:04.000Z", "leaf", "parent"),
            _line(
                "2026-06-08T11:39:04.100Z",
                "event_msg",
                {"type": "task_started", "started_at": started - 86400},
            ),
            _token_count("2026-06-08T11:39:04.900Z", _usage(100, 80, 1, 0), None),
            _token_count("2026-06-08T11:39:06.100Z", _usage(200, 80, 1, 0), None),
            _line(
                "2026-06-08T12:00:00.000Z",
                "event_msg",
                {"type": "task_started", "started_at": started + 1200},
            ),
            _token_count("2026-06-08T12:01:00.000Z", _usage(5000, 3000, 500, 50), None),
        ]
    )
    assert [row["is_replayed_turn"] for row in parsed.rows] == [True, True, False]


def test_tool_calls():
    _, tools = _parse(
        [
            _line(
                "2026-06-08T10:00:00.000Z",
                "response_item",
                {"type": "function_call", "name": "exec_command"},
            ),  # noqa: E501
            _line("2026-06-08T10:00:01.000Z", "response_item", {"type": "web_search_call"}),
            _line("2026-06-08T10:00:02.000Z", "response_item", {"type": "message"}),
        ]
    )
    assert [tool["tool_name"] for tool in tools] == ["exec_command", "web_search"]


def test_a_forks_replayed_tool_calls_are_its_parents():
    """Tool calls copied with a fork's replayed history (in its leading burst, or in a turn
    that began before the fork) are not the fork's own."""
    call = {"type": "function_call", "name": "exec_command"}
    started = datetime(2026, 6, 8, 11, 39, 4, tzinfo=UTC).timestamp()
    _, tools = _parse(
        [
            _meta("2026-06-08T11:39:04.000Z", "child", "parent"),
            _line("2026-06-08T11:39:04.050Z", "response_item", call),
            _token_count("2026-06-08T11:39:04.100Z", _usage(10, 0, 1, 0), None),
            _line("2026-06-08T11:39:04.150Z", "response_item", call),
            _token_count("2026-06-08T11:39:04.200Z", _usage(20, 0, 1, 0), None),
            _line(
                "2026-06-08T11:39:04.300Z",
                "event_msg",
                {"type": "task_started", "started_at": started - 60},
            ),
            _line("2026-06-08T11:39:04.400Z", "response_item", call),
            _line(
                "2026-06-08T12:00:00.000Z",
                "event_msg",
                {"type": "task_started", "started_at": started + 1200},
            ),
            _line("2026-06-08T12:00:01.000Z", "response_item", call),
            _token_count("2026-06-08T12:01:00.000Z", _usage(30, 0, 1, 0), None),
        ]
    )
    assert [tool["record_key"] for tool in tools] == ["9"]
    assert all(
        set(tool) == {"record_key", "session_id", "occurred_at", "tool_name", "is_error"}
        for tool in tools
    )


def test_truncated_last_line_is_quarantined_and_the_rest_kept():
    good = _token_count("2026-06-08T10:01:00.000Z", _usage(10, 0, 1, 0), None)
    parsed, _ = _parse([good, good[:40]], end=b"")
    assert len(parsed.rows) == 1
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
        (f"{LOG.key}:2", "malformed_json")
    ]


def test_bad_values_are_quarantined_without_echoing_them():
    lines = [
        _token_count("2026-06-08T10:01:00.000Z", {"input_tokens": SECRET}, None),
        _token_count("2026-06-08T10:01:00.000Z", {"input_tokens": -5}, None),
        _token_count("2026-06-08T10:01:00.000Z", {"input_tokens": 2**70}, None),
        _token_count(SECRET, _usage(10, 0, 1, 0), None),
        _line("2026-06-08T10:01:00.000Z", "turn_context", {"model": {"x": SECRET}}),
        b"\xff\xfe not utf-8",
        "[1, 2]",
    ]
    parsed, _ = _parse(lines)
    assert parsed.rows == [] and len(parsed.rejections) == len(lines)
    for rejection in parsed.rejections:
        assert SECRET not in rejection.detail and "sk-ant" not in rejection.detail


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=60),
            _json.map(lambda v: json.dumps(v, separators=(",", ":")).encode()),
            st.builds(
                lambda kind, payload: json.dumps(
                    {"timestamp": "2026-06-08T10:00:00Z", "type": kind, "payload": payload},
                    separators=(",", ":"),
                ).encode(),
                st.sampled_from(["event_msg", "turn_context", "session_meta", "response_item"]),
                _json,
            ),
        ),
        max_size=8,
    )
)
def test_any_lines_are_accounted_for(lines):
    """Any bytes: nothing raises; every non-blank line is read; a rejection names its line."""
    data = b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n"
    parsed, _ = codex.parse(data, LOG, _context())
    assert parsed.records_read == sum(1 for line in data.split(b"\n") if line.strip())
    assert len(parsed.rows) + len(parsed.rejections) <= parsed.records_read
    for rejection in parsed.rejections:
        assert rejection.source_key.startswith(f"{LOG.key}:")
