"""The Gemini CLI reader: ccusage's stored reports for a real set recomputed from its rows, each
counting rule as a small case (also run through the real ccusage 20.0.24 when it is
installed), and hostile files that never raise or leak a value."""

import copy
import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.agent_cli import gemini
from ingestion.agent_cli.usage import BIGINT_MAX, USAGE_COLUMNS, LogFile, Parsed
from ingestion.core import quarantine
from ingestion.core.contract_fields import LoadContext

REPO = Path(__file__).resolve().parents[2]
AGENT_LOGS = REPO.parent / "shared" / "fixtures" / "agent-logs"
CCUSAGE = REPO / ".warehouse" / "ccusage-20.0.24" / "node_modules" / ".bin" / "ccusage"
NOW = datetime(2027, 1, 1, tzinfo=UTC)

# USD per million tokens (input, output, cache read), as ccusage 20.0.24 prices them offline;
# gemini-2.5-pro's second set applies to a message over 200k tokens of input and cache.
PRICES = {
    "gemini-2.5-pro": ((1.25, 10, 0.125), (2.5, 15, 0.25)),
    "gemini-2.5-flash": ((0.30, 2.50, 0.03), None),
}
TIER_TOKENS = 200_000
FIELDS = {
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "cacheReadTokens": "cache_read_tokens",
    "cacheCreationTokens": "cache_creation_tokens",
    "totalTokens": "total_tokens",
}
# How a ccusage report groups rows: its list, the key of a row, and that key of one of ours.
REPORTS = {
    "daily": ("daily", "date", lambda row: row["occurred_at"].astimezone(UTC).date().isoformat()),
    "monthly": (
        "monthly",
        "month",
        lambda row: row["occurred_at"].astimezone(UTC).strftime("%Y-%m"),
    ),
    "session": ("sessions", "sessionId", lambda row: row["session_id"]),
}


def context() -> LoadContext:
    return LoadContext(now=NOW, fingerprint_key=b"test-key")


def gemini_cost(row: dict) -> float:
    base, above = PRICES[row["model"]]
    rate = above if above and row["tier_basis_tokens"] > TIER_TOKENS else base
    billed_output = row["output_tokens"] + row["extra_output_tokens"]
    return (
        row["input_tokens"] * rate[0] + billed_output * rate[1] + row["cache_read_tokens"] * rate[2]
    ) / 1e6


def read_folder(root: Path, wanted, parse) -> tuple[list[dict], list]:
    """Every file below `root` that `wanted` picks, through `parse`: rows and rejections."""
    rows, rejections = [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if wanted(relative):
            parsed = parse(path.read_bytes(), LogFile(path, f"set/{relative}", relative), context())
            rows += parsed.rows
            rejections += parsed.rejections
    return rows, rejections


def aggregate(rows: list[dict], report: str, cost) -> dict[str, dict]:
    """Rows summed the way a ccusage report shows them: token columns and total cost."""
    _, _, key_of = REPORTS[report]
    grouped: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        group = grouped[key_of(row)]
        for shown, column in FIELDS.items():
            group[shown] += row[column]
        group["totalCost"] += cost(row)
    return {key: dict(group) for key, group in grouped.items()}


def assert_matches(ours: dict[str, dict], report: dict, report_name: str) -> None:
    entries, key, _ = REPORTS[report_name]
    theirs = {entry[key]: entry for entry in report[entries]}
    assert sorted(ours) == sorted(theirs)
    for period, entry in theirs.items():
        for shown in FIELDS:
            assert ours[period][shown] == entry[shown], (period, shown)
        assert ours[period]["totalCost"] == pytest.approx(entry["totalCost"], rel=0.005, abs=1e-12)


def run_ccusage(cli: str, variable: str, folder: Path, report: str) -> dict:
    """The report of the installed ccusage 20.0.24 for one folder, run as the stored reports
    were (an empty home, only the source's variable); skips when it is not installed."""
    node = shutil.which("node")
    if not CCUSAGE.is_file() or node is None:
        pytest.skip(f"ccusage 20.0.24 is not installed at {CCUSAGE}")
    with tempfile.TemporaryDirectory() as home:
        env = {
            "PATH": f"{os.path.dirname(node)}:/usr/bin:/bin",
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/x",
            "XDG_DATA_HOME": f"{home}/x",
            "LOG_LEVEL": "0",
            "NO_COLOR": "1",
            variable: str(folder),
        }
        done = subprocess.run(
            [str(CCUSAGE), cli, report, "--json", "--offline", "--timezone", "UTC"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    return json.loads(done.stdout)


# --- the real set -------------------------------------------------------------------------

GEMINI_SET = AGENT_LOGS / "gemini-cli" / "kuantumquest-hyde"


@pytest.mark.parametrize("report", REPORTS)
def test_real_chats_match_ccusage_reports(report):
    if not GEMINI_SET.is_dir():
        pytest.skip(f"{GEMINI_SET} is absent (../shared is not checked out)")
    rows, rejections = read_folder(
        GEMINI_SET / "home" / ".gemini" / "tmp", gemini.is_chat_file, gemini.parse
    )
    assert rejections == []
    stored = json.loads((GEMINI_SET / "ccusage-20.0.24" / f"{report}-UTC.json").read_text())
    assert_matches(aggregate(rows, report, gemini_cost), stored, report)


def test_which_files_are_chats():
    assert gemini.is_chat_file("a1b2/chats/session-2025-09-20T09-49-991f.json")
    assert gemini.is_chat_file("a1b2/chats/session-2026-05-17T11-07-0a1b2c3d.jsonl")
    assert gemini.is_chat_file("a1b2/chats/parent-session/subagent.jsonl")
    for other in (
        "a1b2/logs.json",
        "a1b2/checkpoint-notes.json",
        "a1b2/shell_history",
        "a1b2/chats/session-a.json.bak",
        "a1b2/chats/session-a.JSON",
        "chats/session-a.json",
    ):
        assert not gemini.is_chat_file(other)


# --- the rules, one case each ---------------------------------------------------------------


def _tokens(inp=0, out=0, cached=0, thoughts=0, tool=0, total=None) -> dict:
    tokens = {"input": inp, "output": out, "cached": cached, "thoughts": thoughts, "tool": tool}
    return tokens if total is None else {**tokens, "total": total}


def _message(day: int, tokens, model="gemini-2.5-flash", **changes) -> dict:
    message = {
        "id": f"m{day}",
        "timestamp": f"2026-04-{day:02d}T01:00:00.000Z",
        "type": "gemini",
        "content": "an answer",
        "thoughts": [{"subject": "s", "description": "d"}],
        "tokens": tokens,
        "model": model,
    }
    message.update(changes)
    return {k: v for k, v in message.items() if v is not None}


def _chat(session: str, *messages, **changes) -> dict:
    chat = {
        "sessionId": session,
        "projectHash": "h",
        "startTime": "2026-03-01T00:00:00.000Z",
        "lastUpdated": "2026-03-02T00:00:00.000Z",
        "messages": list(messages),
    }
    chat.update(changes)
    return {k: v for k, v in chat.items() if v is not None}


_USER = {"id": "u", "timestamp": "2026-04-01T00:59:00.000Z", "type": "user", "content": "hi"}
# name: (the chat, what its session must count: input, output, cache read, extra, total;
# None: nothing).
CASES = {
    "cache-inside-input": (
        _chat("cache-inside-input", _USER, _message(1, _tokens(1000, 100, 400, 50, 0, 1150))),
        (600, 100, 400, 50, 1150),
    ),
    "exclusive-cache": (
        _chat("exclusive-cache", _message(2, _tokens(1000, 100, 400, 50, 0, 1550))),
        (1000, 100, 400, 50, 1550),
    ),
    "tool-added-to-input": (
        _chat("tool-added-to-input", _message(3, _tokens(1000, 100, 400, 50, 30, 1180))),
        (630, 100, 400, 50, 1180),
    ),
    "thoughts-as-extra": (
        _chat("thoughts-as-extra", _message(4, _tokens(500, 50, 0, 20, 0, 570))),
        (500, 50, 0, 20, 570),
    ),
    "missing-total": (
        _chat("missing-total", _message(5, _tokens(1000, 100, 0, 20, 30))),
        (1030, 100, 0, 20, 1150),
    ),
    "shortfall-to-extra": (
        _chat("shortfall-to-extra", _message(6, _tokens(500, 50, 0, 20, 0, 670))),
        (500, 50, 0, 120, 670),
    ),
    "shortfall-to-output": (
        _chat("shortfall-to-output", _message(7, _tokens(500, 0, 0, 20, 0, 670))),
        (500, 150, 0, 20, 670),
    ),
    # A total below the parts: the shown sum is the total, the thoughts are still priced.
    "total-below-parts": (
        _chat("total-below-parts", _message(8, _tokens(1000, 100, 0, 50, 0, 900))),
        (1000, 100, 0, 50, 1100),
    ),
    "only-a-total": (_chat("only-a-total", _message(9, {"total": 654})), (0, 654, 0, 0, 654)),
    "no-model": (_chat("no-model", _message(10, _tokens(1000, 100), model=None)), None),
    "empty-model": (_chat("empty-model", _message(11, _tokens(1000, 100), model=" ")), None),
    "not-gemini": (
        _chat(
            "not-gemini",
            {**_message(12, _tokens(1000, 100)), "type": "user"},
            {**_message(12, _tokens(1000, 100)), "type": "Gemini"},
            "a string",
        ),
        None,
    ),
    "zero-usage": (_chat("zero-usage", _message(13, _tokens(total=0))), None),
    "no-tokens": (_chat("no-tokens", _message(14, None)), None),
    "created-at": (
        _chat(
            "created-at",
            _message(15, _tokens(10, 1), timestamp=None, created_at="2026-04-16T05:00:00Z"),
        ),
        (10, 1, 0, 0, 11),
    ),
    "start-time": (
        _chat(
            "start-time",
            _message(15, _tokens(20, 2), timestamp=None),
            startTime="2026-04-17T05:00:00.000Z",
        ),
        (20, 2, 0, 0, 22),
    ),
    "last-updated": (
        _chat(
            "last-updated",
            _message(15, _tokens(30, 3), timestamp=None),
            startTime="yesterday",
            lastUpdated="2026-04-18T23:30:00-02:00",
        ),
        (30, 3, 0, 0, 33),
    ),
    "trimmed": (
        _chat("  trimmed  ", _message(20, _tokens(40, 4), model=" gemini-2.5-flash ")),
        (40, 4, 0, 0, 44),
    ),
    # Over 200k of input and cache: the whole message at the higher prices (cost checked below).
    "pro-tier": (
        _chat("pro-tier", _message(21, _tokens(199_000, 1000, 0, 0, 2000), model="gemini-2.5-pro")),
        (201_000, 1000, 0, 0, 202_000),
    ),
    "pro-no-tier": (
        _chat(
            "pro-no-tier",
            _message(22, _tokens(190_000, 20_000, 10_000, 0, 0, 210_000), model="gemini-2.5-pro"),
        ),
        (180_000, 20_000, 10_000, 0, 210_000),
    ),
}


def _jsonl(*records) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


# A .jsonl chat: the model carries over to later lines, a message written again replaces its
# count, a rewind changes nothing, a later line's session id takes over.
JSONL_CASE = _jsonl(
    {"sessionId": "lines", "projectHash": "h", "startTime": "2026-04-25T00:00:00.000Z"},
    _message(25, _tokens(1000, 10), model="gemini-2.5-pro"),
    _message(26, _tokens(2000, 20), model=None),
    {
        **_message(26, _tokens(3000, 30), model=None),
        "id": "m26",
        "timestamp": "2026-04-27T00:00:00.000Z",
    },
    {"$rewindTo": "m25"},
    {"$set": {"sessionId": "ignored"}},
    {"sessionId": "lines-2"},
    _message(28, _tokens(5000, 50)),
)
JSONL_SESSIONS = {"lines": (4000, 40, 0, 0, 4040), "lines-2": (5000, 50, 0, 0, 5050)}


@pytest.fixture(scope="module")
def case_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gemini") / ".gemini" / "tmp"
    for number, (name, (chat, _)) in enumerate(CASES.items()):
        folder = root / f"project-{number % 3}" / "chats"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"session-{name}.json").write_text(json.dumps(chat))
    (root / "project-0" / "chats" / "session-lines.jsonl").write_text(JSONL_CASE)
    return root


def _by_session(rows: list[dict]) -> dict[str, tuple]:
    sums: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        for column in ("input_tokens", "output_tokens", "cache_read_tokens"):
            sums[row["session_id"]][column] += row[column]
        sums[row["session_id"]]["extra"] += row["extra_output_tokens"]
        sums[row["session_id"]]["total"] += row["total_tokens"]
    return {
        session: (
            s["input_tokens"],
            s["output_tokens"],
            s["cache_read_tokens"],
            s["extra"],
            s["total"],
        )
        for session, s in sums.items()
    }


def test_each_rule(case_folder):
    rows, rejections = read_folder(case_folder, gemini.is_chat_file, gemini.parse)
    assert rejections == []
    expected = {name.strip(): want for name, (_, want) in CASES.items() if want is not None}
    assert _by_session(rows) == {**expected, **JSONL_SESSIONS}
    days = {row["session_id"]: row["occurred_at"] for row in rows}
    assert days["created-at"] == datetime(2026, 4, 16, 5, tzinfo=UTC)
    assert days["start-time"] == datetime(2026, 4, 17, 5, tzinfo=UTC)
    assert days["last-updated"] == datetime(2026, 4, 19, 1, 30, tzinfo=UTC)
    tiered = next(row for row in rows if row["session_id"] == "pro-tier")
    assert gemini_cost(tiered) == pytest.approx((201_000 * 2.5 + 1000 * 15) / 1e6)
    first = next(row for row in rows if row["session_id"] == "cache-inside-input")
    assert first | {"occurred_at": None} == dict.fromkeys(USAGE_COLUMNS) | {
        "record_key": "1",
        "record_index": 1,
        "record_kind": "message",
        "session_id": "cache-inside-input",
        "message_id": "m1",
        "project": "project-0",
        "model": "gemini-2.5-flash",
        "provider": "google",
        "input_tokens": 600,
        "output_tokens": 100,
        "cache_read_tokens": 400,
        "cache_creation_tokens": 0,
        "reasoning_tokens": 50,
        "extra_output_tokens": 50,
        "total_tokens": 1150,
        "request_count": 1,
        "tier_rule": "whole",
        "tier_basis_tokens": 1000,
    }


@pytest.mark.parametrize("report", ["daily", "session"])
def test_each_rule_as_the_real_ccusage_counts_it(case_folder, report):
    rows, _ = read_folder(case_folder, gemini.is_chat_file, gemini.parse)
    live = run_ccusage("gemini", "GEMINI_DATA_DIR", case_folder, report)
    assert_matches(aggregate(rows, report, gemini_cost), live, report)


# --- what is quarantined ------------------------------------------------------------------


def _parse(data: bytes | str, relative="p1/chats/session-x.json") -> Parsed:
    data = data.encode() if isinstance(data, str) else data
    return gemini.parse(data, LogFile(Path(relative), f"tmp/{relative}", relative), context())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("[1, 2]", quarantine.WRONG_TYPE),
        ('"a string"', quarantine.WRONG_TYPE),
        ('{"sessionId": "s", "messages": [', quarantine.MALFORMED_JSON),
        (b'{"sessionId": "\xc3\x28"}', quarantine.INVALID_UTF8),
        ("", quarantine.MALFORMED_JSON),
    ],
)
def test_a_broken_file_is_one_rejection(data, reason):
    parsed = _parse(data)
    assert (parsed.rows, parsed.records_read) == ([], 1)
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
        ("tmp/p1/chats/session-x.json", reason)
    ]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"tokens": {"input": "1000", "output": 1}}, quarantine.WRONG_TYPE),
        ({"tokens": {"input": -5, "output": 1}}, quarantine.NEGATIVE_VALUE),
        ({"tokens": {"input": True, "output": 1}}, quarantine.WRONG_TYPE),
        ({"tokens": {"input": 10.5, "output": 1}}, quarantine.WRONG_TYPE),
        ({"tokens": {"input": BIGINT_MAX + 1}}, quarantine.OUT_OF_RANGE),
        ({"tokens": {"input": BIGINT_MAX, "output": 1}}, quarantine.OUT_OF_RANGE),
        ({"tokens": "lots"}, quarantine.WRONG_TYPE),
        # Forms ccusage cannot read (it would move on to the next field).
        ({"timestamp": "2026-04-18T23:30:00"}, quarantine.BAD_TIMESTAMP),
        ({"timestamp": "2026-04-18"}, quarantine.BAD_TIMESTAMP),
        ({"timestamp": 1776906000000}, quarantine.BAD_TIMESTAMP),
        ({"timestamp": "2026-04-18T01:00:00.1Z"}, quarantine.BAD_TIMESTAMP),
        ({"timestamp": "2026-02-30T01:00:00Z"}, quarantine.BAD_TIMESTAMP),
        ({"timestamp": "2026-04-18T01:00:00+05:60"}, quarantine.BAD_TIMESTAMP),
        ({"timestamp": "2019-04-18T01:00:00Z"}, quarantine.BEFORE_FLOOR),
        ({"model": "gemini\x00pro"}, quarantine.NUL_BYTE),
        ({"id": "x" * 600}, quarantine.OVERSIZE),
    ],
)
def test_a_broken_message_is_rejected_and_the_rest_is_read(changes, reason):
    chat = _chat(
        "s",
        _message(1, _tokens(1, 1)),
        {**_message(2, _tokens(1, 1)), **changes},
        _message(3, _tokens(1, 1)),
    )
    parsed = _parse(json.dumps(chat))
    assert parsed.records_read == 3
    assert [row["record_index"] for row in parsed.rows] == [0, 2]
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
        ("tmp/p1/chats/session-x.json:1", reason)
    ]


SECRET = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789"


def test_a_rejection_never_quotes_the_value():
    broken = {"tokens": {"input": SECRET}, "timestamp": SECRET, "id": SECRET + "\x00"}
    parsed = _parse(json.dumps(_chat("s", {**_message(1, _tokens(1, 1)), **broken})))
    [rejection] = parsed.rejections
    assert SECRET not in rejection.detail and "abcdefghijklmnop" not in rejection.detail
    assert rejection.detail.startswith("id: nul_byte")


def test_a_message_with_no_time_anywhere_is_rejected():
    message = _message(1, _tokens(1, 1), timestamp=None)
    parsed = _parse(json.dumps(_chat("s", message, startTime=None, lastUpdated="soon")))
    assert [r.reason_code for r in parsed.rejections] == [quarantine.BAD_TIMESTAMP]


def test_a_document_without_messages_holds_nothing():
    for chat in ({"sessionId": "s"}, {"sessionId": "s", "messages": {"a": 1}}):
        assert _parse(json.dumps(chat)) == Parsed()


def test_session_falls_back_to_the_file_name():
    for session in (None, "", 5):
        parsed = _parse(json.dumps(_chat(session, _message(1, _tokens(1, 1)))))
        assert parsed.rows[0]["session_id"] == "session-x"


def test_a_jsonl_line_being_written_waits():
    relative = "p1/chats/session-x.jsonl"
    whole = _jsonl({"sessionId": "s"}, _message(1, _tokens(1, 1)))
    parsed = _parse(whole + '{"id": "m2", "type": "gem', relative)
    assert (len(parsed.rows), parsed.rejections, parsed.records_read) == (1, [], 2)
    parsed = _parse(whole + "not json\n" + "[1]\n", relative)
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
        (f"tmp/{relative}:2", quarantine.MALFORMED_JSON),
        (f"tmp/{relative}:3", quarantine.WRONG_TYPE),
    ]


def test_secrets_are_redacted_and_counted():
    secret = SECRET
    ctx = context()
    chat = _chat(secret, _message(1, _tokens(1, 1), model=secret))
    parsed = gemini.parse(json.dumps(chat).encode(), LogFile(None, "k", "p/chats/s.json"), ctx)
    row = parsed.rows[0]
    assert secret not in row["session_id"] and secret not in row["model"]
    assert sum(ctx.redactions.values()) == 2


# --- anything at all ------------------------------------------------------------------------

# Every string the input holds starts with this mark, so a detail that quotes input shows it.
MARK = "\u00a7"
_STRINGS = st.text(max_size=12).map(lambda s: MARK + s) | st.sampled_from(
    [
        MARK + "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123",
        MARK + "\x00",
        MARK + "\udc80",
        MARK + "2026-04-01T01:00:00Z",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _STRINGS
)
ANY_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_STRINGS, inner, max_size=3),
    max_leaves=12,
)


def spoiled(good, paths: list[tuple[str, ...]]):
    """Records drawn from `good` with one field (a key path) replaced by anything at all."""

    def spoil(record: dict, path: tuple[str, ...], value) -> dict:
        record = copy.deepcopy(record)
        target = record
        for part in path[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[path[-1]] = value
        return record

    return st.builds(spoil, good, st.sampled_from(paths), ANY_JSON)


_TIME = st.sampled_from(["2026-04-01T01:00:00.000Z", "2026-04-01T01:00:00+09:00"])
GOOD_MESSAGES = st.fixed_dictionaries(
    {
        "id": st.text("abc123-", min_size=1, max_size=6),
        "type": st.just("gemini"),
        "timestamp": _TIME,
        "model": st.sampled_from(["gemini-2.5-pro", " gemini-2.5-flash "]),
        "tokens": st.fixed_dictionaries(
            {"input": st.integers(0, 10**7), "output": st.integers(0, 10**5)},
            optional={
                key: st.integers(0, 10**7) for key in ("cached", "thoughts", "tool", "total")
            },
        ),
    },
    optional={"content": ANY_JSON},
)
MESSAGES = (
    GOOD_MESSAGES
    | spoiled(
        GOOD_MESSAGES,
        [("id",), ("type",), ("timestamp",), ("created_at",), ("model",), ("sessionId",)]
        + [("tokens", k) for k in ("input", "output", "cached", "total", "prompt")]
        + [("tokens",)],
    )
    | ANY_JSON
)
CHATS = st.fixed_dictionaries(
    {"messages": st.lists(MESSAGES, max_size=6)},
    optional={
        "sessionId": st.text("abc", max_size=3) | ANY_JSON,
        "startTime": _TIME | ANY_JSON,
        "lastUpdated": _TIME | ANY_JSON,
    },
)


def accounted(parsed: Parsed, key: str, records: int) -> None:
    """Each of a file's `records` (messages, lines) is one row, one rejection or nothing;
    rejections hold reasons, never values; rows fit their columns."""
    rejected = [r.source_key.removeprefix(key).removeprefix(":") for r in parsed.rejections]
    indexes = [row["record_index"] for row in parsed.rows] + [int(i) for i in rejected if i]
    assert len(indexes) == len(set(indexes))
    assert all(0 <= index < records for index in indexes)
    assert len(parsed.rows) + len(parsed.rejections) <= max(parsed.records_read, 1)
    for rejection in parsed.rejections:
        assert rejection.reason_code in quarantine.REASON_CODES - {quarantine.UNEXPECTED_ERROR}
        assert MARK not in rejection.detail
    for row in parsed.rows:
        assert set(row) == set(USAGE_COLUMNS)
        counts = [
            row[c]
            for c in (
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "extra_output_tokens",
                "total_tokens",
            )
        ]
        assert all(type(c) is int and 0 <= c <= BIGINT_MAX for c in counts)
        assert (
            row["total_tokens"]
            >= row["input_tokens"] + row["output_tokens"] + row["cache_read_tokens"]
        )
        assert row["occurred_at"].tzinfo is not None and row["model"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chat=CHATS | ANY_JSON)
def test_any_chat_document_is_read_or_quarantined(chat):
    key = "tmp/p1/chats/session-x.json"
    parsed = _parse(json.dumps(chat))
    accounted(parsed, key, max(parsed.records_read, 1))
    whole = [r for r in parsed.rejections if r.source_key == key]
    if isinstance(chat, dict) and isinstance(chat.get("messages"), list) and not whole:
        assert parsed.records_read == len(chat["messages"])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(MESSAGES.map(json.dumps) | st.binary(max_size=30).map(repr), max_size=8))
def test_any_jsonl_chat_is_read_or_quarantined(lines):
    parsed = _parse("\n".join(lines), "p1/chats/session-x.jsonl")
    accounted(parsed, "tmp/p1/chats/session-x.jsonl", max(len(lines), 1))


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_any_bytes_never_raise(data):
    for relative in ("p1/chats/session-x.json", "p1/chats/session-x.jsonl"):
        accounted(_parse(data, relative), f"tmp/{relative}", max(data.count(b"\n") + 1, 1))
