"""The OpenCode reader: ccusage's stored reports for a real set recomputed from its rows, each
counting rule as a small case (storage files and a database, also run through the real
ccusage 20.0.24 when it is installed), and hostile messages and databases."""

import json
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.agent_cli import opencode
from ingestion.agent_cli.usage import BIGINT_MAX, USAGE_COLUMNS, LogFile, Parsed
from ingestion.core import quarantine
from tests.unit.test_agent_cli_gemini import (
    AGENT_LOGS,
    ANY_JSON,
    MARK,
    REPORTS,
    accounted,
    aggregate,
    assert_matches,
    context,
    read_folder,
    run_ccusage,
    spoiled,
)

# USD per million tokens (input, output, cache read, cache write), as ccusage 20.0.24 prices
# them offline (a GPT cache write at 1.25 times input). No case comes near a long-context
# threshold.
PRICES = {
    "claude-sonnet-4-5-20250929": (3, 15, 0.30, 3.75),
    "gpt-5": (1.25, 10, 0.125, 1.5625),
    "gpt-5.4": (2.5, 15, 0.25, 3.125),
}


def opencode_cost(row: dict) -> float:
    if row["logged_cost_usd"] is not None:
        return row["logged_cost_usd"]
    rate = PRICES[row["model"]]
    billed_output = row["output_tokens"] + row["extra_output_tokens"]
    return (
        row["input_tokens"] * rate[0]
        + billed_output * rate[1]
        + row["cache_read_tokens"] * rate[2]
        + row["cache_creation_tokens"] * rate[3]
    ) / 1e6


def counted_once(rows: list[dict]) -> list[dict]:
    """ccusage's de-duplication (done in SQL by the warehouse): a message id counts once, a
    database row before a file (`message` before `session_message`), files in path order (as
    `read_folder` reads them)."""
    seen, kept = set(), []
    for row in sorted(rows, key=lambda row: ["db", "db_v2", "file"].index(row["origin"])):
        if row["message_id"] is not None and row["message_id"] in seen:
            continue
        seen.add(row["message_id"])
        kept.append(row)
    return kept


def read_data_folder(root: Path) -> tuple[list[dict], list]:
    rows, rejections = read_folder(root, opencode.is_message_file, opencode.parse)
    name = opencode.database_name(p.name for p in root.iterdir())
    if name:
        parsed = opencode.parse_database(root / name, LogFile(root / name, name, name), context())
        rows, rejections = rows + parsed.rows, rejections + parsed.rejections
    return rows, rejections


# --- the real set -------------------------------------------------------------------------

OPENCODE_SET = AGENT_LOGS / "opencode" / "jwp23-dotfiles"


@pytest.mark.parametrize("report", REPORTS)
def test_real_messages_match_ccusage_reports(report):
    if not OPENCODE_SET.is_dir():
        pytest.skip(f"{OPENCODE_SET} is absent (../shared is not checked out)")
    rows, rejections = read_data_folder(OPENCODE_SET / "home" / ".local" / "share" / "opencode")
    assert rejections == []
    assert len(rows) == 7  # 13 messages: 5 from the user, 1 failed call (all zeros)
    stored = json.loads((OPENCODE_SET / "ccusage-20.0.24" / f"{report}-UTC.json").read_text())
    assert_matches(aggregate(counted_once(rows), report, opencode_cost), stored, report)


def test_which_files_are_read():
    assert opencode.is_message_file("storage/message/ses_1/msg_1.json")
    assert opencode.is_message_file("storage/message/loose.json")
    for other in (
        "storage/part/msg_1/prt_1.json",
        "storage/session/proj/ses_1.json",
        "storage/message/ses_1/msg_1.json.tmp",
        "message/ses_1/msg_1.json",
    ):
        assert not opencode.is_message_file(other)
    assert opencode.database_name(["opencode-beta.db", "opencode.db"]) == "opencode.db"
    assert (
        opencode.database_name(["opencode-z.db", "opencode-beta.db", "x.db"]) == "opencode-beta.db"
    )
    assert opencode.database_name(["opencode-a.b.db", "storage"]) is None


# --- the rules, one case each ---------------------------------------------------------------


def _ms(day: int, hour: int = 1) -> int:
    return int(datetime(2026, 5, day, hour, tzinfo=UTC).timestamp() * 1000)


def _message(name: str, day: int, tokens, **changes) -> dict:
    message = {
        "id": f"msg_{name}",
        "sessionID": f"ses_{name}",
        "role": "assistant",
        "time": {"created": _ms(day), "completed": _ms(day) + 5000},
        "parentID": "msg_parent",
        "modelID": "claude-sonnet-4-5-20250929",
        "providerID": "anthropic",
        "mode": "build",
        "path": {"cwd": "/home/me/project", "root": "/home/me"},
        "cost": 0,
        "tokens": tokens,
        "finish": "stop",
    }
    message.update(changes)
    return {k: v for k, v in message.items() if v is not None}


def _tokens(inp=0, out=0, reasoning=0, read=0, write=0, **more) -> dict:
    return {
        "input": inp,
        "output": out,
        "reasoning": reasoning,
        "cache": {"read": read, "write": write},
        **more,
    }


# name: (the message, what its session must count: input, output, cache read, cache write,
# extra, total; None: nothing).
CASES = {
    "plain": (
        _message("plain", 1, _tokens(6, 402, 0, 10075, 1270)),
        (6, 402, 10075, 1270, 0, 11753),
    ),
    "reasoning-as-extra": (
        _message("reasoning-as-extra", 2, _tokens(100, 50, 40)),
        (100, 50, 0, 0, 40, 190),
    ),
    "recorded-cost": (
        _message("recorded-cost", 3, _tokens(100, 50), cost=0.5),
        (100, 50, 0, 0, 0, 150),
    ),
    "no-provider": (_message("no-provider", 4, _tokens(100, 50), providerID=None), None),
    "empty-model": (_message("empty-model", 4, _tokens(100, 50), modelID=" "), None),
    "zero-usage": (_message("zero-usage", 5, _tokens(), error={"name": "APIError"}), None),
    "user": (_message("user", 5, None, role="user", modelID=None, model={"modelID": "m"}), None),
    # Created 23:00, completed after midnight: the day it was created.
    "created-not-completed": (
        _message(
            "created-not-completed",
            6,
            _tokens(10, 5),
            time={"created": _ms(6, 23), "completed": _ms(7, 1)},
        ),
        (10, 5, 0, 0, 0, 15),
    ),
    "shortfall-to-extra": (
        _message("shortfall-to-extra", 8, _tokens(100, 50, total=300)),
        (100, 50, 0, 0, 150, 300),
    ),
    "shortfall-to-output": (
        _message("shortfall-to-output", 9, _tokens(100, 0, total=300)),
        (100, 200, 0, 0, 0, 300),
    ),
    "no-cache": (_message("no-cache", 10, {"input": 7, "output": 3}), (7, 3, 0, 0, 0, 10)),
    "no-session": (_message("no-session", 11, _tokens(1, 1), sessionID=None), (1, 1, 0, 0, 0, 2)),
}
# Database rows: (id, session_id, data). A row's columns name the message, not its JSON; a row
# counts over a file with the same message id.
DB_ROWS = [
    ("msg_db", "ses_db", {**_message("ignored", 12, _tokens(11, 5)), "id": "x", "sessionID": "y"}),
    ("msg_plain", "ses_plain", _message("plain", 1, _tokens(1, 1))),
    ("msg_broken", "ses_db", "{not json"),
]
DB_SESSIONS = {"ses_db": (11, 5, 0, 0, 0, 16), "ses_plain": (1, 1, 0, 0, 0, 2)}


def _newer(day: int, tokens, model=None, **changes) -> dict:
    """A `session_message` row's JSON: the model as an object, no id, session or role."""
    data = {
        "time": {"created": _ms(day)},
        "model": {"id": "gpt-5", "providerID": "openai"} if model is None else model,
        "cost": 0,
        "tokens": tokens,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


SECRET_IN_ROWID = "sk-ant-api03-" + "R" * 40
# The newer table's rows: (id, session_id, type, time_created, data).
NEWER_ROWS = [
    ("msg_v2", "ses_v2", "assistant", _ms(13), _newer(13, _tokens(20, 4, 3, 100, 10))),
    (
        "msg_v2_flat",
        "ses_v2_flat",
        "assistant",
        _ms(14),
        _newer(14, _tokens(21, 4), model={}, modelID="gpt-5.4", providerID="openai"),
    ),
    # model.id over modelID; model.providerID missing: the flat providerID.
    (
        "msg_v2_both",
        "ses_v2_both",
        "assistant",
        _ms(14),
        _newer(14, _tokens(22, 4), model={"id": "gpt-5"}, modelID="o3", providerID="openai"),
    ),
    ("msg_v2_user", "ses_v2_user", "user", _ms(15), _newer(15, _tokens(23, 4))),
    ("msg_v2_case", "ses_v2_case", "Assistant", _ms(15), _newer(15, _tokens(24, 4))),
    (
        "msg_v2_no_provider",
        "ses_v2_np",
        "assistant",
        _ms(15),
        _newer(15, _tokens(25, 4), {"id": "gpt-5"}),
    ),
    # No usable time of its own: the row's column.
    ("msg_v2_col_time", "ses_v2_ct", "assistant", _ms(20), _newer(13, _tokens(26, 4), time={})),
    (
        "msg_v2_bad_time",
        "ses_v2_bt",
        "assistant",
        _ms(21),
        _newer(13, _tokens(27, 4), time={"created": "soon"}),
    ),
    # The id `message` holds: counted from there.
    ("msg_db", "ses_v2_dup", "assistant", _ms(16), _newer(16, _tokens(999, 9))),
    ("msg_v2_broken", "ses_v2", "assistant", _ms(13), "{not json"),
]
NEWER_SESSIONS = {
    "ses_v2": (20, 4, 100, 10, 3, 137),
    "ses_v2_flat": (21, 4, 0, 0, 0, 25),
    "ses_v2_both": (22, 4, 0, 0, 0, 26),
    "ses_v2_ct": (26, 4, 0, 0, 0, 30),
    "ses_v2_bt": (27, 4, 0, 0, 0, 31),
}


def write_newer_table(path: Path, rows) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "create table session_message (id text primary key, session_id text not null, "
            "type text not null, seq integer not null, time_created integer not null, "
            "time_updated integer not null, data text not null)"
        )
        connection.executemany(
            "insert into session_message values (?, ?, ?, ?, ?, ?, ?)",
            [
                (i, s, t, n, c, c, d if isinstance(d, str) else json.dumps(d))
                for n, (i, s, t, c, d) in enumerate(rows)
            ],
        )
    connection.close()


def write_database(path: Path, rows, schema="id text primary key, session_id text, data text"):
    with sqlite3.connect(path) as connection:
        connection.execute(f"create table message ({schema})")
        connection.executemany(
            "insert into message (id, session_id, data) values (?, ?, ?)",
            [(i, s, d if isinstance(d, str) else json.dumps(d)) for i, s, d in rows],
        )
    connection.close()


@pytest.fixture(scope="module")
def case_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("opencode")
    for name, (message, _) in CASES.items():
        folder = root / "storage" / "message" / message.get("sessionID", "none")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"msg_{name}.json").write_text(json.dumps(message, indent=2))
    write_database(root / "opencode.db", DB_ROWS)
    write_newer_table(root / "opencode.db", NEWER_ROWS)
    return root


def _by_session(rows: list[dict]) -> dict[str, tuple]:
    columns = (
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
        "extra_output_tokens",
        "total_tokens",
    )
    sums: dict[str, list] = {}
    for row in rows:
        total = sums.setdefault(row["session_id"], [0] * len(columns))
        for i, column in enumerate(columns):
            total[i] += row[column]
    return {session: tuple(total) for session, total in sums.items()}


def test_each_rule(case_folder):
    rows, rejections = read_data_folder(case_folder)
    assert [(r.source_key, r.reason_code) for r in rejections] == [
        ("opencode.db:msg_broken", quarantine.MALFORMED_JSON),
        ("opencode.db:session_message:msg_v2_broken", quarantine.MALFORMED_JSON),
    ]
    expected = {
        f"ses_{name}": want for name, (_, want) in CASES.items() if want and name != "no-session"
    }
    expected["unknown"] = CASES["no-session"][1]
    assert _by_session(counted_once(rows)) == {**expected, **DB_SESSIONS, **NEWER_SESSIONS}
    by_id = {(row["origin"], row["message_id"]): row for row in rows}
    assert by_id[("file", "msg_created-not-completed")]["occurred_at"] == datetime(
        2026, 5, 6, 23, tzinfo=UTC
    )
    assert by_id[("file", "msg_recorded-cost")]["logged_cost_usd"] == 0.5
    assert by_id[("file", "msg_plain")] | {"occurred_at": None} == dict.fromkeys(USAGE_COLUMNS) | {
        "record_key": "msg_plain",
        "record_index": 0,
        "record_kind": "message",
        "session_id": "ses_plain",
        "message_id": "msg_plain",
        "project": "/home/me/project",
        "model": "claude-sonnet-4-5-20250929",
        "provider": "anthropic",
        "input_tokens": 6,
        "output_tokens": 402,
        "cache_read_tokens": 10075,
        "cache_creation_tokens": 1270,
        "reasoning_tokens": 0,
        "extra_output_tokens": 0,
        "total_tokens": 11753,
        "request_count": 1,
        "tier_rule": "model",
        "origin": "file",
    }
    newer = by_id[("db_v2", "msg_v2_col_time")]
    assert (newer["record_key"], newer["session_id"], newer["occurred_at"]) == (
        "session_message:msg_v2_col_time",
        "ses_v2_ct",
        datetime(2026, 5, 20, 1, tzinfo=UTC),
    )
    assert (by_id[("db_v2", "msg_v2_both")]["model"], by_id[("db_v2", "msg_v2_flat")]["model"]) == (
        "gpt-5",
        "gpt-5.4",
    )
    db_row = by_id[("db", "msg_db")]
    assert (db_row["record_key"], db_row["session_id"], db_row["record_index"]) == (
        "msg_db",
        "ses_db",
        0,
    )


@pytest.mark.parametrize("report", ["daily", "session"])
def test_each_rule_as_the_real_ccusage_counts_it(case_folder, report):
    rows, _ = read_data_folder(case_folder)
    live = run_ccusage("opencode", "OPENCODE_DATA_DIR", case_folder, report)
    assert_matches(aggregate(counted_once(rows), report, opencode_cost), live, report)


# --- what is quarantined ------------------------------------------------------------------

KEY = "opencode/storage/message/ses_1/msg_1.json"


def _parse(data: bytes | str) -> Parsed:
    data = data.encode() if isinstance(data, str) else data
    relative = KEY.removeprefix("opencode/")
    return opencode.parse(data, LogFile(Path(relative), KEY, relative), context())


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"tokens": {"input": "100", "output": 1}}, quarantine.WRONG_TYPE),
        ({"tokens": {"input": 100.0, "output": 1}}, quarantine.WRONG_TYPE),
        ({"tokens": {"input": -1}}, quarantine.NEGATIVE_VALUE),
        ({"tokens": {"input": BIGINT_MAX, "output": 1}}, quarantine.OUT_OF_RANGE),
        ({"tokens": {"cache": {"read": True}}}, quarantine.WRONG_TYPE),
        ({"tokens": []}, quarantine.WRONG_TYPE),
        ({"time": {"created": 1778720400000.0}}, quarantine.BAD_TIMESTAMP),
        ({"time": {"created": "2026-05-14T01:00:00Z"}}, quarantine.BAD_TIMESTAMP),
        ({"time": {"created": 10**30}}, quarantine.BAD_TIMESTAMP),
        ({"time": {"completed": 1}}, quarantine.MISSING_REQUIRED_KEY),
        ({"cost": -1}, quarantine.NEGATIVE_VALUE),
        ({"modelID": "claude\x00"}, quarantine.NUL_BYTE),
        ({"path": {"cwd": "/" * 5000}}, quarantine.OVERSIZE),
    ],
)
def test_a_broken_message_is_rejected(changes, reason):
    parsed = _parse(json.dumps(_message("1", 1, _tokens(1, 1)) | changes))
    assert (parsed.rows, parsed.records_read) == ([], 1)
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [(KEY, reason)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("[]", quarantine.WRONG_TYPE),
        ("{", quarantine.MALFORMED_JSON),
        (b"\xc3\x28", quarantine.INVALID_UTF8),
    ],
)
def test_a_broken_file_is_rejected(data, reason):
    assert [r.reason_code for r in _parse(data).rejections] == [reason]


def test_a_rejection_never_quotes_the_value():
    secret = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789"
    broken = {"time": {"created": secret}, "cost": secret, "modelID": secret * 20}
    [rejection] = _parse(json.dumps(_message("1", 1, _tokens(1, 1)) | broken)).rejections
    assert "abcdefghijklmnop" not in rejection.detail and "sk-ant" not in rejection.detail


def test_a_message_without_usage_is_not_checked():
    # ccusage skips it before reading anything else; so does the reader.
    parsed = _parse(json.dumps({"role": "user", "time": {"created": "soon"}, "tokens": None}))
    assert parsed == Parsed(records_read=1)


def test_a_database_that_cannot_be_read_is_one_rejection(tmp_path):
    (tmp_path / "garbage.db").write_bytes(b"not a database at all" * 100)
    with sqlite3.connect(tmp_path / "other.db") as connection:
        connection.execute("create table session (id text)")
    connection.close()
    for name in ("garbage.db", "other.db", "missing.db"):
        parsed = opencode.parse_database(
            tmp_path / name, LogFile(tmp_path / name, name, name), context()
        )
        assert (parsed.rows, parsed.records_read) == ([], 1)
        assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
            (name, quarantine.UNREADABLE_FILE)
        ]
        assert str(tmp_path) not in parsed.rejections[0].detail


def test_database_rows_are_read_one_by_one(tmp_path):
    rows = [
        ("a", "s", _message("a", 1, _tokens(1, 1))),
        (None, "s", _message("b", 1, _tokens(1, 1))),
        ("c", 7, _message("c", 1, _tokens(1, 1))),
        ("d", "s", "[1]"),
        ("e", "s", _message("e", 1, {"input": "lots"})),
        ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789", "s", "{"),
        ("f", "s", _message("f", 1, _tokens(2, 2))),
    ]
    # No column types: SQLite keeps each value's own type.
    write_database(tmp_path / "opencode.db", rows, schema="id, session_id, data")
    parsed = opencode.parse_database(
        tmp_path / "opencode.db", LogFile(None, "db", "opencode.db"), context()
    )
    assert parsed.records_read == 7
    assert [(row["message_id"], row["record_index"], row["origin"]) for row in parsed.rows] == [
        ("a", 0, "db"),
        ("f", 6, "db"),
    ]
    keys = [(r.source_key, r.reason_code) for r in parsed.rejections]
    assert keys[:4] == [
        ("db:row 2", quarantine.WRONG_TYPE),
        ("db:c", quarantine.WRONG_TYPE),
        ("db:d", quarantine.WRONG_TYPE),
        ("db:e", quarantine.WRONG_TYPE),
    ]
    assert keys[4][0].startswith("db:") and "abcdefghijklmnop" not in keys[4][0]


def test_a_database_table_without_rowid(tmp_path):
    path = tmp_path / "opencode.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "create table message (id text primary key, session_id text, data text) without rowid"
        )
        connection.execute(
            "insert into message values ('a', 's', ?)",
            (json.dumps(_message("a", 1, _tokens(1, 1))),),
        )
        connection.execute("insert into message values (?, 's', '{')", (b"\xff",))
        # Text that is not UTF-8 reaches the contract.
        broken = b'{"modelID": "\xff", "providerID": "p", "tokens": {"input": 1}}'
        connection.execute("insert into message values ('g', 's', cast(? as text))", (broken,))
    connection.close()
    parsed = opencode.parse_database(path, LogFile(None, "db", "opencode.db"), context())
    assert [row["message_id"] for row in parsed.rows] == ["a"]
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
        ("db:g", quarantine.INVALID_UTF8),
        ("db:row 2", quarantine.WRONG_TYPE),
    ]


def test_a_table_that_cannot_be_read_leaves_the_other(tmp_path):
    path = tmp_path / "opencode.db"
    write_database(path, [("a", "s", _message("a", 1, _tokens(1, 1)))])
    with sqlite3.connect(path) as connection:
        connection.execute("create table session_message (id, session_id, type)")  # no data
    connection.close()
    parsed = opencode.parse_database(path, LogFile(None, "db", "opencode.db"), context())
    assert [row["message_id"] for row in parsed.rows] == ["a"]
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
        ("db:session_message", quarantine.UNREADABLE_FILE)
    ]


def test_a_column_named_rowid_is_not_the_row_number(tmp_path):
    """A table may declare its own `rowid` column: its value (a secret, text that is not
    UTF-8) never becomes a quarantine key."""
    path = tmp_path / "opencode.db"
    with sqlite3.connect(path) as connection:
        connection.execute("create table message (rowid text, id, session_id, data)")
        connection.execute("insert into message values (?, null, 's', '{')", (SECRET_IN_ROWID,))
        connection.execute("insert into message values (cast(? as text), 7, 's', '{')", (b"\xff",))
    connection.close()
    parsed = opencode.parse_database(path, LogFile(None, "db", "opencode.db"), context())
    assert [(r.source_key, r.reason_code) for r in parsed.rejections] == [
        ("db:row 0", quarantine.WRONG_TYPE),
        ("db:row 1", quarantine.WRONG_TYPE),
    ]


# --- anything at all ------------------------------------------------------------------------

_COUNT = st.integers(0, 10**6)
GOOD_MESSAGES = st.fixed_dictionaries(
    {
        "id": st.text("abc123_", min_size=1, max_size=6),
        "sessionID": st.text("abc123_", min_size=1, max_size=6),
        "role": st.just("assistant"),
        "modelID": st.just("claude-sonnet-4-5-20250929"),
        "providerID": st.just("anthropic"),
        "time": st.fixed_dictionaries({"created": st.integers(_ms(1), _ms(28))}),
        "tokens": st.fixed_dictionaries(
            {
                "input": _COUNT,
                "output": _COUNT,
                "reasoning": _COUNT,
                "cache": st.fixed_dictionaries({"read": _COUNT, "write": _COUNT}),
            },
            optional={"total": _COUNT},
        ),
        "cost": st.sampled_from([0, 0.5]),
    },
    optional={"path": st.fixed_dictionaries({"cwd": st.just("/home/me")})},
)
MESSAGES = (
    GOOD_MESSAGES
    | spoiled(
        GOOD_MESSAGES,
        [("id",), ("sessionID",), ("modelID",), ("providerID",), ("cost",), ("path", "cwd")]
        + [("time",), ("time", "created"), ("tokens",), ("tokens", "cache", "read")]
        + [("tokens", k) for k in ("input", "output", "reasoning", "total", "cache")],
    )
    | ANY_JSON
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=MESSAGES)
def test_any_message_is_read_or_quarantined(message):
    accounted(_parse(json.dumps(message)), KEY, 1)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_any_bytes_never_raise(data):
    accounted(_parse(data), KEY, 1)


_CELLS = (
    st.none()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.binary(max_size=8)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=8).map(lambda s: MARK + s)
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(_CELLS, _CELLS, MESSAGES.map(json.dumps) | _CELLS), max_size=5))
def test_any_database_rows_are_read_or_quarantined(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "opencode.db"
        with sqlite3.connect(path) as connection:
            connection.execute("create table message (id, session_id, data)")
            connection.executemany("insert into message values (?, ?, ?)", rows)
        connection.close()
        parsed = opencode.parse_database(path, LogFile(None, "db", "opencode.db"), context())
    assert parsed.records_read == len(rows)
    assert len(parsed.rows) + len(parsed.rejections) <= len(rows)
    for rejection in parsed.rejections:
        assert rejection.reason_code in quarantine.REASON_CODES - {quarantine.UNEXPECTED_ERROR}
        assert MARK not in rejection.detail


def _as_newer(message):
    """A message with its model as the newer table's object."""
    if not (isinstance(message, dict) and "modelID" in message and "providerID" in message):
        return message
    rest = {k: v for k, v in message.items() if k not in ("modelID", "providerID")}
    return {**rest, "model": {"id": message["modelID"], "providerID": message["providerID"]}}


NEWER_MESSAGES = MESSAGES.map(_as_newer) | spoiled(
    st.fixed_dictionaries(
        {
            "model": st.fixed_dictionaries({"id": st.just("gpt-5"), "providerID": st.just("o")}),
            "time": st.fixed_dictionaries({"created": st.integers(_ms(1), _ms(28))}),
            "tokens": st.fixed_dictionaries({"input": _COUNT, "output": _COUNT}),
        }
    ),
    [("model",), ("model", "id"), ("model", "providerID"), ("time", "created")],
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            _CELLS,
            _CELLS,
            st.just("assistant") | _CELLS,
            st.integers(_ms(1), _ms(28)) | _CELLS,
            NEWER_MESSAGES.map(json.dumps) | _CELLS,
        ),
        max_size=5,
    )
)
def test_any_newer_table_rows_are_read_or_quarantined(rows):
    """`session_message` rows of any type, time and JSON: each is a usage row, no usage or
    one quarantined row, and no rejection quotes a value."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "opencode.db"
        with sqlite3.connect(path) as connection:
            connection.execute(
                "create table session_message (id, session_id, type, time_created, data)"
            )
            connection.executemany("insert into session_message values (?, ?, ?, ?, ?)", rows)
        connection.close()
        parsed = opencode.parse_database(path, LogFile(None, "db", "opencode.db"), context())
    assert parsed.records_read == len(rows)
    assert len(parsed.rows) + len(parsed.rejections) <= len(rows)
    assert all(row["origin"] == "db_v2" for row in parsed.rows)
    for rejection in parsed.rejections:
        assert rejection.source_key.startswith("db:session_message:")
        assert rejection.reason_code in quarantine.REASON_CODES - {quarantine.UNEXPECTED_ERROR}
        assert MARK not in rejection.detail
