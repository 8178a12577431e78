"""Copilot CLI's session-state event logs and OTel files read by ccusage 20.0.24's rules: the
stored reports of ccusage's own fixture set, hand-made logs compared with the live binary where
it is installed, each rule on its own, and hostile input."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.agent_cli import copilot
from ingestion.agent_cli.usage import BIGINT_MAX, LogFile, Parsed
from ingestion.core.contract_fields import LoadContext
from ingestion.core.settings import PROJECT_ROOT
from tests import ccusage
from tests.unit.test_contracts import JSON_VALUES

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURE = SHARED / "fixtures" / "agent-logs" / "copilot-cli" / "ccusage-fixtures"
# The installed binary only (tests/ccusage.py's `binary()` would install it with npm).
CCUSAGE = PROJECT_ROOT / ".warehouse" / f"ccusage-{ccusage.VERSION}" / "node_modules" / ".bin"
CCUSAGE = CCUSAGE / "ccusage"
SECRET = "sk-ant-api03-abcdefghijklmnopqrstuv"
# USD per million tokens (input, output, cache read, cache write), as ccusage --offline prices
# them (research §1.3; gpt-5.4's cache write from a probe).
PRICES = {
    "claude-opus-4.6": (5.0, 25.0, 0.5, 6.25),
    "gpt-5.4": (2.5, 15.0, 0.25, 3.125),
}
TOKEN_FIELDS = {
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "cacheReadTokens": "cache_read_tokens",
    "cacheCreationTokens": "cache_creation_tokens",
}
OTEL_KINDS = {"otel_chat_span", "otel_inference_log", "otel_agent_turn", "otel_invoke_agent"}


def context() -> LoadContext:
    return LoadContext(now=datetime.now(UTC), fingerprint_key=b"test-key")


# --- reading a Copilot home the way the loader will, and ccusage's reports of it -----------


def read_home(home: Path) -> tuple[list[dict], list[Parsed]]:
    """Every usage row under a Copilot home, and each file's Parsed."""
    rows, parsed = [], []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        relative = path.relative_to(home).as_posix()
        if copilot.is_events_file(relative):
            log = LogFile(path, f"home/{relative}", relative, relative.split("/")[1])
            found = copilot.parse_events(path.read_bytes(), log, context())
        elif copilot.is_otel_file(relative):
            log = LogFile(path, f"home/{relative}", relative)
            found = copilot.parse_otel(path.read_bytes(), log, context())
        else:
            continue
        parsed.append(found)
        rows += found.rows
    return rows, parsed


def suppressed(rows: list[dict]) -> list[dict]:
    """ccusage's rule across files (SQL's in the warehouse): an OTel row is dropped when a
    shutdown row of its session and model is at or after its time."""
    latest: dict[tuple, datetime] = {}
    for row in rows:
        if row["record_kind"] == "shutdown":
            key = (row["session_id"], row["model"])
            latest[key] = max(latest.get(key, row["occurred_at"]), row["occurred_at"])
    return [
        row
        for row in rows
        if row["record_kind"] not in OTEL_KINDS
        or row["occurred_at"]
        > latest.get((row["session_id"], row["model"]), datetime.min.replace(tzinfo=UTC))
    ]


def cost(row: dict) -> float:
    inp, out, read, write = PRICES.get(row["model"], (0, 0, 0, 0))
    return (
        row["input_tokens"] * inp
        + (row["output_tokens"] + row["extra_output_tokens"]) * out
        + row["cache_read_tokens"] * read
        + row["cache_creation_tokens"] * write
    ) / 1e6


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def report(rows: list[dict], kind: str) -> dict[str, dict]:
    """Our rows as ccusage's daily / monthly / session report rows, by period or session."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        day = row["occurred_at"].astimezone(UTC).strftime("%Y-%m-%d")
        key = {"daily": day, "monthly": day[:7], "session": row["session_id"]}[kind]
        groups[key].append(row)
    out = {}
    for key, members in groups.items():
        summary = {name: sum(r[column] for r in members) for name, column in TOKEN_FIELDS.items()}
        summary["totalTokens"] = sum(r["total_tokens"] for r in members)
        summary["messageCount"] = sum(r["request_count"] for r in members)
        summary["totalCost"] = sum(cost(r) for r in members)
        summary["modelsUsed"] = {r["model"] for r in members}
        if kind == "session":
            summary["firstActivity"] = _stamp(min(r["occurred_at"] for r in members))
            summary["lastActivity"] = _stamp(max(r["occurred_at"] for r in members))
        out[key] = summary
    return out


def assert_matches(ours: dict[str, dict], theirs: dict, kind: str) -> None:
    """Every token field and messageCount exactly, cost within 0.5 %, the same rows."""
    listed = theirs[{"daily": "daily", "monthly": "monthly", "session": "sessions"}[kind]]
    key = {"daily": "date", "monthly": "month", "session": "sessionId"}[kind]
    by_key = {row[key]: row for row in listed}
    assert sorted(ours) == sorted(by_key), kind
    for name, mine in ours.items():
        reference = by_key[name]
        for field in (*TOKEN_FIELDS, "totalTokens"):
            assert mine[field] == reference[field], (kind, name, field)
        assert mine["messageCount"] == reference.get("messageCount", 0), (kind, name)
        assert mine["totalCost"] == pytest.approx(reference["totalCost"], rel=0.005, abs=1e-12)
        assert mine["modelsUsed"] == set(reference["modelsUsed"]), (kind, name)
        if kind == "session":
            assert mine["firstActivity"] == reference["firstActivity"], name
            assert mine["lastActivity"] == reference["lastActivity"], name


def live(home: Path, kind: str, otel_file: Path | None = None) -> dict:
    if not CCUSAGE.is_file():
        pytest.skip(f"ccusage {ccusage.VERSION} is not installed in .warehouse/")
    extra = {"COPILOT_OTEL_FILE_EXPORTER_PATH": str(otel_file)} if otel_file else None
    return ccusage.agent_report(CCUSAGE, "copilot_cli", home, kind, extra)


# --- ccusage's own fixture set and its stored reports --------------------------------------


@pytest.mark.parametrize("kind", ["daily", "monthly", "session"])
def test_the_fixture_set_matches_ccusages_stored_reports(kind):
    if not FIXTURE.is_dir():
        pytest.skip(f"{FIXTURE} is absent (../shared holds the agent-log fixtures)")
    rows, parsed = read_home(FIXTURE / "home" / ".copilot")
    stored = json.loads((FIXTURE / "ccusage-20.0.24" / f"{kind}-UTC.json").read_text())
    assert_matches(report(suppressed(rows), kind), stored, kind)
    # The one line that is not JSON is quarantined, the rest of its file read.
    assert [r.reason_code for p in parsed for r in p.rejections] == ["malformed_json"]


# --- hand-made logs, compared with the live binary -----------------------------------------


def _shutdown(stamp: str, metrics: dict, event_id=None) -> dict:
    line = {"type": "session.shutdown", "timestamp": stamp, "data": {"modelMetrics": metrics}}
    return line if event_id is None else {**line, "id": event_id}


def _metrics(inp: int, out: int, read: int = 0, write: int = 0, reasoning: int = 0, requests=None):
    usage = {
        "inputTokens": inp,
        "outputTokens": out,
        "cacheReadTokens": read,
        "cacheWriteTokens": write,
        "reasoningTokens": reasoning,
    }
    return {"usage": usage, **({"requests": {"count": requests}} if requests is not None else {})}


def _chat(trace: str, span: str, end: list, session: str, model: str, **usage) -> dict:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.response.model": model,
        "gen_ai.conversation.id": session,
        **{f"gen_ai.usage.{k}": v for k, v in usage.items()},
    }
    return {
        "type": "span",
        "traceId": trace,
        "spanId": span,
        "name": f"chat {model}",
        "endTime": end,
        "attributes": attributes,
    }


MIDNIGHT = 1772496000  # 2026-03-03T00:00:00Z


def _write(path: Path, lines: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((json.dumps(x) if not isinstance(x, str) else x) + "\n" for x in lines))


def _rule_home(root: Path) -> Path:
    """A resumed session (two shutdowns, input holding its cache, a -1m model), a second model
    appearing on resume, an OTel span the shutdowns cover, a repeated chat span, an inference
    log in a chat span's trace, and times that cross midnight by a nanosecond."""
    home = root / ".copilot"
    _write(
        home / "session-state" / "resume" / "events.jsonl",
        [
            {"type": "session.start", "timestamp": "2026-03-01T09:00:00.000Z", "data": {}},
            _shutdown(
                "2026-03-01T10:00:00.000Z",
                {"claude-opus-4.6-1m": _metrics(1000, 300, 200, 100, 50, 3)},
                "s1",
            ),
            "not json",
            _shutdown(
                "2026-03-02T11:00:00.000Z",
                {
                    "claude-opus-4.6-1m": _metrics(1500, 400, 300, 150, 60, 5),
                    "gpt-5.4-1m-internal": _metrics(100, 10, requests=1),
                },
                "s2",
            ),
        ],
    )
    # The same event written twice (ids x, y, x): the earlier x is dropped.
    _write(
        home / "session-state" / "repeated-event" / "events.jsonl",
        [
            _shutdown("2026-03-01T01:00:00.000Z", {"gpt-5.4": _metrics(100, 1)}, "x"),
            _shutdown("2026-03-02T01:00:00.000Z", {"gpt-5.4-1m": _metrics(300, 3)}, "y"),
            _shutdown("2026-03-03T01:00:00.000Z", {"gpt-5.4": _metrics(600, 6)}, " x "),
        ],
    )
    # Two keys naming one model, interleaved in one sequence (not a counter reset).
    _write(
        home / "session-state" / "two-keys" / "events.jsonl",
        [
            _shutdown(
                "2026-03-01T01:00:00.000Z",
                {"gpt-5.4-1m": _metrics(100, 1), "gpt-5.4": _metrics(50, 1)},
            ),
            _shutdown(
                "2026-03-02T01:00:00.000Z",
                {"gpt-5.4-1m": _metrics(120, 2), "gpt-5.4": _metrics(60, 2)},
            ),
        ],
    )
    _write(
        home / "session-state" / "other" / "events.jsonl",
        [_shutdown("2026-03-02T23:59:59.999Z", {"gpt-5.4": _metrics(40, 4, 10, requests=2)})],
    )
    inference = {
        "hrTime": [MIDNIGHT + 60, 0],
        "spanContext": {"traceId": "t-both", "spanId": "log-1"},
        "attributes": {
            "event.name": "gen_ai.client.inference.operation.details",
            "gen_ai.response.model": "gpt-5.4",
            "gen_ai.conversation.id": "otel-only",
            "gen_ai.usage.input_tokens": 500,
            "gen_ai.usage.output_tokens": 50,
        },
        "_body": "GenAI inference: gpt-5.4",
    }
    lone_log = {
        "timeUnixNano": str((MIDNIGHT + 3600) * 10**9 + 5),
        "attributes": {
            "event.name": "gen_ai.client.inference.operation.details",
            "gen_ai.request.model": "claude-opus-4.6-1m-internal",
            "gen_ai.response.id": "resp-lone",
            "gen_ai.usage.input_tokens": "33",
            "gen_ai.usage.output_tokens": "3",
            "gen_ai.usage.cache_read.input_tokens": 10,
        },
    }
    _write(
        home / "otel" / "nested" / "trace.jsonl",
        [
            # Covered by the resumed session's shutdowns (same session and normalised model).
            _chat(
                "t-cov",
                "c1",
                [MIDNIGHT - 2 * 86400 + 1800, 0],
                "resume",
                "claude-opus-4.6-1m-internal",
                input_tokens=77,
                output_tokens=7,
            ),
            # After the last shutdown of its model: counted.
            _chat(
                "t-after",
                "c2",
                [MIDNIGHT + 7200, 0],
                "resume",
                "gpt-5.4",
                input_tokens=20,
                output_tokens=2,
            ),
            # A chat span repeated (same response id, model and usage, new span): both count.
            _chat(
                "t-rep",
                "r1",
                [MIDNIGHT - 1, 999_999_999],
                "otel-only",
                "gpt-5.4",
                input_tokens=90,
                output_tokens=9,
                **{"cache_read.input_tokens": 30, "cache_write.input_tokens": 5},
            ),
            _chat(
                "t-rep",
                "r2",
                [MIDNIGHT, 0],
                "otel-only",
                "gpt-5.4",
                input_tokens=90,
                output_tokens=9,
                **{"cache_read.input_tokens": 30, "cache_write.input_tokens": 5},
            ),
            # The inference log repeats the chat span of its trace: dropped.
            _chat(
                "t-both",
                "c3",
                [MIDNIGHT + 60, 0],
                "otel-only",
                "gpt-5.4",
                input_tokens=500,
                output_tokens=50,
                total_tokens=600,
            ),
            inference,
            lone_log,
            {
                "type": "span",
                "traceId": "t-tool",
                "spanId": "x",
                "name": "execute_tool grep",
                "endTime": [MIDNIGHT, 5],
                "attributes": {"gen_ai.tool.name": "grep"},
            },
        ],
    )
    return home


@pytest.mark.parametrize("kind", ["daily", "monthly", "session"])
def test_hand_made_logs_match_live_ccusage(tmp_path, kind):
    home = _rule_home(tmp_path)
    theirs = live(home, kind)
    rows, _ = read_home(home)
    assert_matches(report(suppressed(rows), kind), theirs, kind)


def test_counter_reset_counts_what_ccusage_20_0_24_loses(tmp_path):
    """Where we differ from ccusage on purpose: after a reset (1,000 -> 400 -> 700) ccusage
    counts 1,000 + 0 + 300 and loses the 400 used before the counter passed its old value."""
    home = tmp_path / ".copilot"
    _write(
        home / "session-state" / "reset" / "events.jsonl",
        [
            _shutdown(
                "2026-03-01T10:00:00.000Z", {"gpt-5.4": _metrics(1000, 100, 200, requests=5)}
            ),
            _shutdown("2026-03-02T10:00:00.000Z", {"gpt-5.4": _metrics(400, 40, 100, requests=2)}),
            _shutdown("2026-03-03T10:00:00.000Z", {"gpt-5.4": _metrics(700, 70, 150, requests=3)}),
        ],
    )
    rows, _ = read_home(home)
    ours = report(rows, "session")["reset"]
    # Shown input is input - cache read: 800, 300, 550 cumulative.
    assert (ours["inputTokens"], ours["outputTokens"], ours["cacheReadTokens"]) == (
        800 + 300 + 250,
        100 + 40 + 30,
        200 + 100 + 50,
    )
    assert ours["messageCount"] == 5 + 2 + 1
    lost = {"inputTokens": 300, "outputTokens": 40, "cacheReadTokens": 100, "messageCount": 2}
    theirs = live(home, "session")["sessions"][0]
    for field, amount in lost.items():
        assert ours[field] - theirs[field] == amount, field
    assert ours["totalTokens"] - theirs["totalTokens"] == 300 + 40 + 100


def test_a_restart_counts_the_whole_snapshot_even_fields_that_grew(tmp_path):
    """Input falls (1,000 -> 400: the counters started again) while output has already grown
    past its old value (100 -> 150): the whole second snapshot is new, output 150, not 50."""
    home = tmp_path / ".copilot"
    _write(
        home / "session-state" / "restart" / "events.jsonl",
        [
            _shutdown("2026-03-01T10:00:00.000Z", {"gpt-5.4": _metrics(1000, 100, 0)}),
            _shutdown("2026-03-02T10:00:00.000Z", {"gpt-5.4": _metrics(400, 150, 0)}),
        ],
    )
    rows, _ = read_home(home)
    ours = report(rows, "session")["restart"]
    assert (ours["inputTokens"], ours["outputTokens"]) == (1000 + 400, 100 + 150)


# --- the rules, one by one -----------------------------------------------------------------


def events(lines: list, session: str = "s") -> Parsed:
    data = "".join((json.dumps(x) if not isinstance(x, str) else x) + "\n" for x in lines)
    relative = f"session-state/{session}/events.jsonl"
    return copilot.parse_events(
        data.encode(), LogFile(Path("/nonexistent"), f"k/{relative}", relative, session), context()
    )


def otel(lines: list) -> Parsed:
    data = "".join((json.dumps(x) if not isinstance(x, str) else x) + "\n" for x in lines)
    return copilot.parse_otel(
        data.encode(), LogFile(Path("/nonexistent"), "k/otel/a.jsonl", "otel/a.jsonl"), context()
    )


def _tokens(row: dict) -> tuple:
    return tuple(
        row[c]
        for c in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_creation_tokens",
            "total_tokens",
            "request_count",
        )
    )


def test_paths():
    assert copilot.is_events_file("session-state/abc/events.jsonl")
    assert not copilot.is_events_file("session-state/abc/deeper/events.jsonl")
    assert not copilot.is_events_file("session-state/events.jsonl")
    assert copilot.is_otel_file("otel/a.jsonl") and copilot.is_otel_file("otel/x/y/a.jsonl")
    assert not copilot.is_otel_file("otel/a.JSONL") and not copilot.is_otel_file("a.jsonl")


def test_shutdowns_count_intervals_in_time_order_with_the_model_normalised():
    parsed = events(
        [
            _shutdown("2026-03-03T00:00:00Z", {"gpt-5.4-1m": _metrics(300, 30, requests=4)}),
            _shutdown("2026-03-01T00:00:00Z", {"gpt-5.4": _metrics(100, 10, requests=1)}),
            # Not a snapshot (no usage; all zeros): the next interval is from 100.
            _shutdown("2026-03-02T00:00:00Z", {"gpt-5.4": {"requests": {"count": 9}}}),
            _shutdown("2026-03-02T01:00:00Z", {"gpt-5.4": _metrics(0, 0)}),
        ]
    )
    assert [(r["record_key"], r["model"], _tokens(r)) for r in parsed.rows] == [
        ("1:gpt-5.4-1m", "gpt-5.4", (200, 20, 0, 0, 220, 3)),
        ("2:gpt-5.4", "gpt-5.4", (100, 10, 0, 0, 110, 1)),
    ]
    assert parsed.records_read == 4 and parsed.rejections == []


def test_input_holds_the_cache_and_reasoning_is_informational():
    [row] = events(
        [
            _shutdown(
                "2026-03-01T00:00:00.123Z",
                {"claude-opus-4.6-1m-internal": _metrics(100, 50, 10, 20, 5)},
            )
        ]
    ).rows
    assert _tokens(row) == (70, 50, 10, 20, 150, 0)
    assert (row["model"], row["reasoning_tokens"], row["extra_output_tokens"]) == (
        "claude-opus-4.6",
        5,
        0,
    )
    assert row["occurred_at"] == datetime(2026, 3, 1, 0, 0, 0, 123000, tzinfo=UTC)


def test_an_unchanged_snapshot_is_no_row_but_requests_or_reasoning_alone_are():
    parsed = events(
        [
            _shutdown(
                "2026-03-01T00:00:00Z", {"a": _metrics(10, 1), "b": _metrics(0, 0, requests=2)}
            ),
            _shutdown(
                "2026-03-02T00:00:00Z", {"a": _metrics(10, 1), "c": _metrics(0, 0, reasoning=3)}
            ),
        ]
    )
    assert [(r["model"], r["request_count"], r["reasoning_tokens"]) for r in parsed.rows] == [
        ("a", 0, 0),
        ("b", 2, 0),
        ("c", 0, 3),
    ]


def test_ties_keep_file_order_and_a_lines_models_go_in_key_order():
    parsed = events(
        [
            _shutdown("2026-03-01T00:00:00Z", {"m-1m": _metrics(100, 0), "m": _metrics(50, 0)}),
            _shutdown("2026-03-01T00:00:00Z", {"m": _metrics(60, 0), "m-1m": _metrics(120, 0)}),
        ]
    )
    # Key order: m (50), m-1m (100), m (60), m-1m (120): 50 + 50 + 0 + 60, as ccusage counts
    # (60 is below m-1m's 100, not below m's own 50: no reset).
    assert sum(r["input_tokens"] for r in parsed.rows) == 160


def test_bytes_that_are_not_utf8_are_one_rejected_line():
    line = json.dumps(_shutdown("2026-03-01T00:00:00Z", {"a": _metrics(1, 1)})).encode()
    relative = "session-state/s/events.jsonl"
    log = LogFile(Path("/nonexistent"), f"k/{relative}", relative, "s")
    parsed = copilot.parse_events(b"\xff\xfe{}\n" + line + b"\n", log, context())
    assert [r.reason_code for r in parsed.rejections] == ["invalid_utf8"]
    assert len(parsed.rows) == 1 and parsed.records_read == 2


def test_a_repeated_event_keeps_its_last_snapshot():
    parsed = events(
        [
            _shutdown("2026-03-01T00:00:00Z", {"m": _metrics(100, 0)}, "x"),
            _shutdown("2026-03-02T00:00:00Z", {"m": _metrics(300, 0), "n": _metrics(5, 0)}, "y"),
            _shutdown("2026-03-03T00:00:00Z", {"m-1m": _metrics(600, 0)}, " x "),
            # The same id in another model, no id, an empty or numeric id: no repeats.
            _shutdown("2026-03-04T00:00:00Z", {"n": _metrics(7, 0)}, "x"),
            _shutdown("2026-03-05T00:00:00Z", {"m": _metrics(700, 0)}),
            _shutdown("2026-03-06T00:00:00Z", {"m": _metrics(800, 0)}, ""),
            _shutdown("2026-03-07T00:00:00Z", {"m": _metrics(900, 0)}, 5),
        ]
    )
    assert [(r["record_key"], r["input_tokens"]) for r in parsed.rows] == [
        ("2:m", 300),
        ("2:n", 5),
        ("3:m-1m", 300),
        ("4:n", 2),
        ("5:m", 100),
        ("6:m", 100),
        ("7:m", 100),
    ]
    assert parsed.rows[-1]["message_id"] == "5"


def test_ccusages_timestamp_forms_only():
    good = ["2026-03-01T00:00:00Z", " 2026-03-01T00:00:00.123Z", "2026-03-01T05:30:00+05:30"]
    bad = [
        "2026-03-01T00:00:00.5Z",
        "2026-03-01T00:00:00",
        "2026-03-01 00:00:00Z",
        "2026-03-01T00:00:00+0000",
        "2026-03-01T00:00:00+05:60",
        1772323200000,
    ]
    for stamp in good:
        assert len(events([_shutdown(stamp, {"a": _metrics(1, 1)})]).rows) == 1, stamp
    for stamp in bad:
        parsed = events([_shutdown(stamp, {"a": _metrics(1, 1)})])
        assert parsed.rows == [] and [r.reason_code for r in parsed.rejections] == [
            "unparseable_timestamp"
        ], stamp


def test_a_broken_line_is_quarantined_and_is_no_snapshot():
    parsed = events(
        [
            _shutdown("2026-03-01T00:00:00Z", {"a": _metrics(100, 0)}),
            _shutdown("2026-03-02T00:00:00Z", {"a": {"usage": {"inputTokens": SECRET}}}),
            _shutdown("2026-03-03T00:00:00Z", {"a": _metrics(300, 0)}),
            [1, 2],
            "{not json",
            "",
        ]
    )
    assert [r["input_tokens"] for r in parsed.rows] == [100, 200]
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
        ("k/session-state/s/events.jsonl:2", "wrong_type"),
        ("k/session-state/s/events.jsonl:4", "wrong_type"),
        ("k/session-state/s/events.jsonl:5", "malformed_json"),
    ]
    assert parsed.records_read == 5  # the blank line is none
    assert all(SECRET not in r.detail for r in parsed.rejections)


def test_otel_tokens_cache_read_only_comes_off_the_input_and_a_total_fills_the_shortfall():
    parsed = otel(
        [
            _chat(
                "t1",
                "s",
                [MIDNIGHT, 0],
                "a",
                "gpt-5.4",
                input_tokens=100,
                output_tokens=50,
                **{
                    "cache_read.input_tokens": 10,
                    "cache_write.input_tokens": 20,
                    "reasoning.output_tokens": 30,
                },
                total_tokens=200,
            ),
            _chat("t2", "s", [MIDNIGHT, 0], "b", "gpt-5.4", input_tokens=100, total_tokens=150),
            _chat(
                "t3",
                "s",
                [MIDNIGHT, 0],
                "c",
                "gpt-5.4",
                input_tokens=5,
                output_tokens=1,
                **{"cache_read.input_tokens": 10},
            ),
            _chat(
                "t4",
                "s",
                [MIDNIGHT, 0],
                "d",
                "gpt-5.4",
                input_tokens=1.5,
                output_tokens=-1,
                **{"reasoning_tokens": 9},
            ),
            _chat(
                "t5", "s", [MIDNIGHT, 0], "e", "gpt-5.4", input_tokens=" +12 ", output_tokens="x"
            ),
        ]
    )
    assert [
        (
            r["session_id"],
            r["input_tokens"],
            r["output_tokens"],
            r["cache_read_tokens"],
            r["cache_creation_tokens"],
            r["extra_output_tokens"],
            r["total_tokens"],
        )
        for r in parsed.rows
    ] == [
        ("a", 90, 50, 10, 20, 30, 200),
        ("b", 100, 50, 0, 0, 0, 150),
        ("c", 0, 1, 10, 0, 0, 11),
        ("e", 12, 0, 0, 0, 0, 12),
    ]
    assert parsed.rows[0]["reasoning_tokens"] == 30


def test_otel_precedence_by_trace_and_response_id_and_repeats_kept():
    turn = {
        "hrTime": [MIDNIGHT, 0],
        "traceId": "t2",
        "attributes": {"event.name": "copilot_chat.agent.turn", "gen_ai.usage.input_tokens": 3},
    }
    agent = {
        "type": "span",
        "traceId": "t2",
        "spanId": "a",
        "name": "invoke_agent x",
        "attributes": {"gen_ai.usage.input_tokens": 4},
    }
    agent_alone = {
        "type": "span",
        "traceId": "t3",
        "spanId": "a",
        "name": "invoke_agent x",
        "attributes": {"gen_ai.usage.input_tokens": 5},
    }
    by_response = {
        "hrTime": [MIDNIGHT, 0],
        "attributes": {
            "event.name": "gen_ai.client.inference.operation.details",
            "gen_ai.response.id": "r1",
            "gen_ai.usage.input_tokens": 6,
        },
    }
    zero_chat = _chat("t4", "z", [MIDNIGHT, 0], "s", "m")
    hidden_by_nothing = {
        "hrTime": [MIDNIGHT, 0],
        "traceId": "t4",
        "attributes": {
            "event.name": "gen_ai.client.inference.operation.details",
            "gen_ai.usage.input_tokens": 7,
        },
    }
    chat = _chat("t1", "c", [MIDNIGHT, 0], "s", "m", input_tokens=1)
    chat["attributes"]["gen_ai.response.id"] = "r1"
    parsed = otel([chat, chat, turn, agent, agent_alone, by_response, zero_chat, hidden_by_nothing])
    assert [(r["record_kind"], r["input_tokens"]) for r in parsed.rows] == [
        ("otel_chat_span", 1),
        ("otel_chat_span", 1),
        ("otel_agent_turn", 3),
        ("otel_invoke_agent", 5),
        ("otel_inference_log", 7),
    ]


def test_otel_session_model_and_time_fall_back_as_ccusage_does():
    base = {"gen_ai.usage.input_tokens": 1}
    lines = [
        {
            "type": "span",
            "traceId": "t",
            "spanId": "1",
            "name": "execute_tool x",
            "attributes": {
                "github.copilot.interaction_id": "low",
                "gen_ai.request.model": "gpt-5.4-1m",
            },
        },
        {
            "type": "span",
            "traceId": "t",
            "spanId": "2",
            "name": "execute_tool x",
            "attributes": {"copilot_chat.session_id": "first-high"},
        },
        {
            "type": "span",
            "traceId": "t",
            "spanId": "3",
            "name": "execute_tool x",
            "attributes": {"gen_ai.conversation.id": "later-high"},
        },
        {
            "type": "span",
            "traceId": "t",
            "spanId": "4",
            "name": "chat x",
            "timestamp": MIDNIGHT * 1000,
            "attributes": base,
        },
        {
            "type": "span",
            "spanId": "5",
            "name": "chat x",
            "time": [MIDNIGHT, 7_000_000],
            "attributes": {**base, "session.id": "own", "gen_ai.conversation.id": "not-last"},
        },
        {
            "type": "span",
            "traceId": "u",
            "spanId": "6",
            "name": "chat x",
            "attributes": {**base, "gen_ai.response.id": "resp"},
        },
        {"type": "span", "spanId": "7", "name": "chat x", "attributes": base},
        'no "attributes" key here',
        {"type": "span", "traceId": "t", "name": "chat x", "attributes": "not an object"},
    ]
    parsed = otel(lines)
    assert [(r["session_id"], r["model"]) for r in parsed.rows] == [
        ("first-high", "gpt-5.4"),
        ("own", "unknown"),
        ("resp", "unknown"),
        ("unknown-session", "unknown"),
    ]
    assert parsed.rows[0]["occurred_at"] == datetime(2026, 3, 3, tzinfo=UTC)
    assert parsed.rows[1]["occurred_at"] == datetime(2026, 3, 3, 0, 0, 0, 7000, tzinfo=UTC)
    # No time of its own: the file's (here, the load's clock: the file is not on disk).
    assert parsed.rows[2]["occurred_at"] > datetime(2026, 3, 4, tzinfo=UTC)
    # The line without attributes is read and holds nothing; the bad JSON one is quarantined.
    assert parsed.records_read == 9
    assert [r.reason_code for r in parsed.rejections] == ["malformed_json"]


def test_otel_tool_and_error_rows():
    failed = _chat("t", "c", [MIDNIGHT, 0], "s", "m")
    failed["status"] = {"code": 2}
    found, tools = copilot.read_otel(
        (
            json.dumps(
                {
                    "type": "span",
                    "traceId": "t",
                    "spanId": "x",
                    "name": "execute_tool grep",
                    "startTime": [MIDNIGHT, 0],
                    "endTime": [MIDNIGHT, 250_000_000],
                    "attributes": {"gen_ai.conversation.id": "s"},
                }
            )
            + "\n"
            + json.dumps(failed)
            + "\n"
        ).encode(),
        LogFile(Path("/nonexistent"), "k/otel/a.jsonl", "otel/a.jsonl"),
        context(),
    )
    assert found.rows == []
    assert [
        (t["record_key"], t["tool_name"], t["is_error"], t["error_type"], t["duration_ms"])
        for t in tools
    ] == [
        ("1", "grep", False, None, 250),
        ("2", None, True, "status_error", None),
    ]


# --- hostile input -------------------------------------------------------------------------

_MODELS = st.sampled_from(["gpt-5.4", "claude-opus-4.6-1m", "", " ", "-1m", SECRET, "x\x00"])
_COUNT = st.one_of(
    st.integers(min_value=-5, max_value=2**64),
    st.sampled_from([SECRET, "12", 1.0, 2.5, None, True]),
    JSON_VALUES,
)
_USAGE = st.fixed_dictionaries(
    {},
    optional={
        k: _COUNT
        for k in (
            "inputTokens",
            "outputTokens",
            "cacheReadTokens",
            "cacheWriteTokens",
            "reasoningTokens",
        )
    },
)
_METRICS = st.one_of(
    st.fixed_dictionaries(
        {"usage": st.one_of(_USAGE, JSON_VALUES)},
        optional={"requests": st.one_of(st.fixed_dictionaries({"count": _COUNT}), JSON_VALUES)},
    ),
    JSON_VALUES,
)
_STAMPS = st.one_of(
    st.sampled_from(
        [
            "2026-03-01T00:00:00Z",
            "2026-03-02T00:00:00.500Z",
            "2199-01-01T00:00:00Z",
            "2019-01-01T00:00:00Z",
            SECRET,
        ]
    ),
    JSON_VALUES,
)
_SHUTDOWNS = st.fixed_dictionaries(
    {"type": st.just("session.shutdown"), "timestamp": _STAMPS},
    optional={
        "id": st.one_of(st.sampled_from(["e1", SECRET, 5]), JSON_VALUES),
        "data": st.one_of(
            st.fixed_dictionaries(
                {
                    "modelMetrics": st.one_of(
                        st.dictionaries(_MODELS, _METRICS, max_size=3), JSON_VALUES
                    )
                }
            ),
            JSON_VALUES,
        ),
    },
)
_ATTRIBUTE_KEYS = st.sampled_from(
    [
        "gen_ai.operation.name",
        "gen_ai.response.model",
        "gen_ai.conversation.id",
        "gen_ai.response.id",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.total_tokens",
        "event.name",
        "gen_ai.tool.name",
        "error.type",
    ]
)
_FLAT = st.fixed_dictionaries(
    {
        "attributes": st.one_of(
            st.dictionaries(
                _ATTRIBUTE_KEYS, st.one_of(_COUNT, _MODELS, st.just("chat")), max_size=6
            ),
            JSON_VALUES,
        )
    },
    optional={
        "type": st.sampled_from(["span", "log", 3]),
        "traceId": st.one_of(st.sampled_from(["t1", "t2", SECRET]), JSON_VALUES),
        "spanId": st.sampled_from(["s1", "s2", "x\x00"]),
        "name": st.sampled_from(["chat x", "invoke_agent y", "execute_tool z", SECRET]),
        "endTime": st.one_of(st.lists(_COUNT, max_size=3), JSON_VALUES),
        "timeUnixNano": _COUNT,
        "status": st.one_of(
            st.fixed_dictionaries({"code": st.sampled_from([0, 1, 2, "ERROR"])}), JSON_VALUES
        ),
    },
)


def _lines(strategy):
    as_bytes = strategy.map(
        lambda v: json.dumps(v, allow_nan=True).encode("utf-8", "surrogatepass")
    )
    return st.lists(
        st.one_of(
            as_bytes,
            st.binary(max_size=40),
            JSON_VALUES.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
        ),
        max_size=12,
    )


def assert_accounted(parsed: Parsed, data: bytes, file_key: str) -> None:
    """Every line is a row's source, rejected, or holds no usage; rejections name no value."""
    lines = [n for n, line in enumerate(data.split(b"\n"), 1) if line.strip()]
    assert parsed.records_read == len(lines)
    rejected = [r.source_key.removeprefix(f"{file_key}:") for r in parsed.rejections]
    assert len(rejected) == len(set(rejected))
    sources = {r["record_key"].split(":")[0] for r in parsed.rows}
    assert not sources & set(rejected)
    assert {int(k) for k in sources | set(rejected)} <= set(lines)
    for rejection in parsed.rejections:
        assert SECRET not in rejection.detail and "sk-ant" not in rejection.detail
    for row in parsed.rows:
        assert SECRET not in json.dumps(row, default=str)
        for column in (
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_creation_tokens",
            "total_tokens",
        ):
            assert 0 <= row[column] <= BIGINT_MAX
    assert len({r["record_key"] for r in parsed.rows}) == len(parsed.rows)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=_lines(_SHUTDOWNS))
def test_any_event_log_is_read_or_quarantined_line_by_line(lines):
    data = b"\n".join(lines) + b"\n"
    log = LogFile(
        Path("/nonexistent"), "k/session-state/s/events.jsonl", "session-state/s/events.jsonl", "s"
    )
    assert_accounted(copilot.parse_events(data, log, context()), data, log.key)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=_lines(_FLAT))
def test_any_otel_file_is_read_or_quarantined_line_by_line(lines):
    data = b"\n".join(lines) + b"\n"
    log = LogFile(Path("/nonexistent"), "k/otel/a.jsonl", "otel/a.jsonl")
    found, tools = copilot.read_otel(data, log, context())
    assert_accounted(found, data, log.key)
    rejected = {r.source_key.removeprefix(f"{log.key}:") for r in found.rejections}
    assert not {t["record_key"] for t in tools} & rejected
    assert all(SECRET not in json.dumps(t, default=str) for t in tools)


def test_a_secret_in_a_broken_field_never_reaches_the_rejection():
    parsed = events(
        [
            _shutdown(
                "2026-03-01T00:00:00Z", {SECRET: {"usage": {"inputTokens": {"k": SECRET}}}}, SECRET
            )
        ]
    )
    [rejection] = parsed.rejections
    assert rejection.reason_code == "wrong_type"
    assert SECRET not in rejection.detail and "sk-ant" not in rejection.detail


def test_a_failed_span_that_is_not_genai_is_no_agent_error():
    """An exporter carries the application's other traces too: a failed HTTP span is not an
    agent's API error; a failed GenAI span is."""

    def failed(name: str, **attributes) -> dict:
        return {
            "type": "span",
            "traceId": f"t-{name}",
            "spanId": "s",
            "name": name,
            "endTime": [1780920000, 0],
            "status": {"code": 2},
            "attributes": attributes,
        }

    data = "".join(
        json.dumps(record) + "\n"
        for record in (
            failed("GET /health", **{"http.response.status_code": 500}),
            failed("chat gpt-5.4", **{"gen_ai.operation.name": "chat", "error.type": "timeout"}),
        )
    )
    _, tools = copilot.read_otel(
        data.encode(), LogFile(Path("/nonexistent"), "k/otel/a.jsonl", "otel/a.jsonl"), context()
    )
    assert [(tool["is_error"], tool["error_type"]) for tool in tools] == [(True, "timeout")]
