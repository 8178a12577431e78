"""The agent CLI loader against a real warehouse: files read incrementally (grown, rewritten,
unchanged, still being written), several folders, and hostile files: the load never raises,
every record is a usage row, quarantined with a reason, or holds no usage, and no reason echoes
a value."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.agent_cli import loader
from ingestion.agent_cli.sources import BY_NAME
from ingestion.core.connections import connect
from tests.agent_cli_rule_logs import _meta, _token_count, _turn, _usage
from warehouse import embedded_server

SECRET = "sk-ant-api03-" + "Q" * 40


def _rollout(*events: tuple[str, int]) -> str:
    lines = [
        _meta("2026-06-08T10:00:00.000Z", "thread"),
        _turn("2026-06-08T10:00:00.100Z", "gpt-5"),
    ]
    lines += [_token_count(stamp, _usage(n, 0, 1, 0), None) for stamp, n in events]
    return "\n".join(lines) + "\n"


def _held(url: str, query: str, params=()) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _load(url: str, cli: str, roots: list[Path]):
    with connect(url) as conn:
        return loader.load_cli(conn, f"run-{uuid.uuid4().hex[:6]}", BY_NAME[cli], roots)


def _age(path: Path, seconds: float = 600) -> None:
    """As if the file had been left alone for a while (settled)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_grown_rewritten_and_unchanged_files(urls, tmp_path, monkeypatch):
    monkeypatch.setenv("ATW_AGENT_LOG_SETTLE_SECONDS", "60")
    home = tmp_path / ".codex"
    rollout = home / "sessions" / "2026" / "06" / "08" / "rollout-a.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_text(_rollout(("2026-06-08T10:01:00.000Z", 100)))
    _age(rollout)
    first = _load(urls.warehouse, "codex", [home])
    assert (first.rows_loaded, first.rows_quarantined) == (1, 0)
    # Unchanged and settled: not even opened (no load recorded for it).
    assert _load(urls.warehouse, "codex", [home]).rows_read == 0
    # Grown, with a last line still being written: the whole lines are read, the rest waits.
    partial = _token_count("2026-06-08T10:03:00.000Z", _usage(7, 0, 1, 0), None)[:30]
    rollout.write_text(
        _rollout(("2026-06-08T10:01:00.000Z", 100), ("2026-06-08T10:02:00.000Z", 200)) + partial
    )
    grown = _load(urls.warehouse, "codex", [home])
    assert (grown.rows_loaded, grown.rows_quarantined) == (2, 0)
    # Settled with the broken last line: it is quarantined, the rest stays.
    _age(rollout)
    settled = _load(urls.warehouse, "codex", [home])
    assert (settled.rows_loaded, settled.rows_quarantined) == (2, 1)
    # Rewritten (same size, other numbers): its rows are replaced, not added.
    text = rollout.read_text().replace('"input_tokens":200', '"input_tokens":300')
    rollout.write_text(text)
    _age(rollout)
    _load(urls.warehouse, "codex", [home])
    rows = _held(
        urls.warehouse,
        "select record_key, input_tokens from raw.agent_cli_usage order by record_index",
    )
    assert [r[1] for r in rows] == [100, 300]
    missing = _held(
        urls.warehouse,
        "select count(*) from raw.reconciliation where source = 'codex.rollouts' "
        "and source_rows <> warehouse_rows",
    )
    assert missing == [(0,)]


def test_several_folders_keep_their_files_apart(urls, tmp_path):
    roots = [tmp_path / "alice" / ".codex", tmp_path / "bob" / ".codex"]
    for root in roots:
        path = root / "sessions" / "2026" / "06" / "08" / "rollout-same-name.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text(_rollout(("2026-06-08T10:01:00.000Z", 100)))
    counts = _load(urls.warehouse, "codex", roots)
    assert counts.rows_loaded == 2
    keys = _held(urls.warehouse, "select distinct file_path from raw.agent_cli_usage")
    assert len(keys) == 2


def test_unreadable_entries_are_quarantined_and_the_rest_loads(urls, tmp_path):
    home = tmp_path / ".codex"
    good = home / "sessions" / "good.jsonl"
    good.parent.mkdir(parents=True)
    good.write_text(_rollout(("2026-06-08T10:01:00.000Z", 100)))
    (home / "sessions" / "folder.jsonl").mkdir()
    counts = _load(urls.warehouse, "codex", [home])
    assert (counts.rows_loaded, counts.rows_quarantined) == (1, 1)
    reasons = _held(
        urls.warehouse, "select reason_code from raw.quarantine where source = 'codex.rollouts'"
    )
    assert reasons == [("unreadable_file",)]


# Where each CLI keeps a file, and what a file of it may hold.
_LAYOUT = {
    "codex": "sessions/2026/06/08/rollout-x.jsonl",
    "gemini_cli": "project/chats/session-x.json",
    "opencode": "storage/message/ses_x/msg_x.json",
    "copilot_cli": "session-state/s1/events.jsonl",
    "otlp": "exports/x.jsonl",
}
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.just(SECRET)
    | st.sampled_from(["2026-06-08T10:00:00Z", "gpt-5", "session.shutdown", "gemini"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "payload",
                    "info",
                    "timestamp",
                    "tokens",
                    "input",
                    "messages",
                    "model",
                    "data",
                    "modelMetrics",
                    "usage",
                    "inputTokens",
                    "resourceSpans",
                    "scopeSpans",
                    "spans",
                    "attributes",
                    "last_token_usage",
                    "input_tokens",
                    "time",
                    "created",
                    "modelID",
                    "providerID",
                ]
            )
            | st.text(max_size=6),
            inner,
            max_size=5,
        )
    ),
    max_leaves=15,
)
_LINE = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ")),
    _VALUES.map(lambda v: json.dumps(v, separators=(",", ":")).encode()),
)


@pytest.fixture(scope="module")
def hostile_warehouse(pg_base_url):
    return embedded_server.ensure_database(pg_base_url, f"wh_agents_{uuid.uuid4().hex[:8]}")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(cli=st.sampled_from(sorted(_LAYOUT)), lines=st.lists(_LINE, min_size=1, max_size=6))
def test_any_file_loads_or_is_quarantined(hostile_warehouse, tmp_path_factory, cli, lines):
    home = tmp_path_factory.mktemp("home")
    path = home / _LAYOUT[cli]
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    _age(path)
    with connect(hostile_warehouse) as conn:
        counts = loader.load_cli(conn, "hostile", BY_NAME[cli], [home])
        key = conn.execute(
            "select file_path, records_read, records_quarantined, usage_rows_read "
            "from raw.agent_cli_files where agent_cli = %s and processed_at >= now() "
            "- interval '1 minute' order by processed_at desc limit 1",
            (cli,),
        ).fetchone()
        assert counts.rows_read == counts.rows_loaded + counts.rows_quarantined
        if key is not None:
            file_path, records, quarantined, usage = key
            held = conn.execute(
                "select count(*) from raw.agent_cli_usage where agent_cli = %s and file_path = %s",
                (cli, file_path),
            ).fetchone()[0]
            assert held == usage and usage + quarantined <= max(records, 1)
        details = conn.execute(
            "select detail from raw.quarantine where detail like %s", (f"%{SECRET[:12]}%",)
        ).fetchall()
        assert details == []
        # Nor is it kept where an analyst could read it: ids, models, projects are redacted.
        kept = conn.execute(
            "select (select count(*) from raw.agent_cli_usage as u where u::text like %(s)s)"
            " + (select count(*) from raw.agent_cli_tool_events as t where t::text like %(s)s)",
            {"s": f"%{SECRET[13:30]}%"},
        ).fetchone()[0]
        assert kept == 0


def test_a_count_past_the_integer_columns_is_quarantined_not_built(urls, tmp_path):
    """One record's count past 2**31 - 1 would fail the calls fact's build: it is set aside,
    the file's other records load."""
    home = tmp_path / ".codex"
    rollout = home / "sessions" / "huge.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_text(
        _rollout(("2026-06-08T10:01:00.000Z", 100), ("2026-06-08T10:02:00.000Z", 2**31))
    )
    counts = _load(urls.warehouse, "codex", [home])
    assert (counts.rows_loaded, counts.rows_quarantined) == (1, 1)
    assert _held(
        urls.warehouse, "select reason_code from raw.quarantine where source = 'codex.rollouts'"
    ) == [("out_of_range",)]


def test_a_file_that_cannot_be_read_as_a_whole_keeps_what_was_read_before(urls, tmp_path):
    """A settled chat that no longer parses (or a locked database): quarantined, its rows from
    the last good read stay, and it is read again next time."""
    home = tmp_path / "tmp"
    chat = home / "project" / "chats" / "session-a.json"
    chat.parent.mkdir(parents=True)
    message = {
        "id": "m1",
        "timestamp": "2026-06-08T10:00:00.000Z",
        "type": "gemini",
        "model": "gemini-2.5-pro",
        "tokens": {"input": 100, "output": 10, "cached": 0, "thoughts": 0, "tool": 0, "total": 110},
    }
    chat.write_text(json.dumps({"sessionId": "s1", "messages": [message]}))
    _age(chat)
    assert _load(urls.warehouse, "gemini_cli", [home]).rows_loaded == 1
    chat.write_text('{"sessionId": "s1", "messages": [')
    _age(chat)
    broken = _load(urls.warehouse, "gemini_cli", [home])
    assert (broken.rows_loaded, broken.rows_quarantined) == (0, 1)
    assert _held(urls.warehouse, "select count(*) from raw.agent_cli_usage") == [(1,)]
    # Read again next time (still broken: quarantined again, nothing lost).
    assert _load(urls.warehouse, "gemini_cli", [home]).rows_quarantined == 1


def test_an_archived_rollout_counts_once_under_its_new_path(urls, tmp_path):
    """Codex moves a session's rollout to archived_sessions/: its rows move with it."""
    home = tmp_path / ".codex"
    active = home / "sessions" / "2026" / "06" / "08" / "rollout-x.jsonl"
    active.parent.mkdir(parents=True)
    active.write_text(_rollout(("2026-06-08T10:01:00.000Z", 100)))
    _age(active)
    _load(urls.warehouse, "codex", [home])
    archived = home / "archived_sessions" / "rollout-x.jsonl"
    archived.parent.mkdir(parents=True)
    active.rename(archived)
    _load(urls.warehouse, "codex", [home])
    sessions = _held(
        urls.warehouse, "select session_id, count(*) from raw.agent_cli_usage group by 1"
    )
    assert sessions == [("rollout-x", 1)]


def test_a_row_lost_from_raw_fails_the_reconciliation(urls, tmp_path):
    """A usage row deleted around the loader is seen by the next comparison of every file."""
    from ingestion.core import reconciliation

    home = tmp_path / ".codex"
    rollout = home / "sessions" / "r.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_text(
        _rollout(("2026-06-08T10:01:00.000Z", 100), ("2026-06-08T10:02:00.000Z", 200))
    )
    _age(rollout)
    _load(urls.warehouse, "codex", [home])
    with connect(urls.warehouse) as conn:
        assert reconciliation.out_of_balance(conn, ("codex.rollouts",)) == []
        conn.execute("delete from raw.agent_cli_usage where input_tokens = 200")
        conn.commit()
        loader.load_cli(conn, "again", BY_NAME["codex"], [home], reconcile_all=True)
        [problem] = reconciliation.out_of_balance(conn, ("codex.rollouts",))
    assert problem["missing_rows"] == 1


def test_an_opencode_database_is_read_with_its_write_ahead_log(urls, tmp_path):
    """OpenCode writes its database in WAL mode: rows not yet checkpointed into opencode.db
    are new all the same."""
    import sqlite3

    home = tmp_path / "opencode"
    home.mkdir()

    def message(n: int) -> tuple:
        data = {
            "role": "assistant",
            "modelID": "claude-sonnet-4-5-20250929",
            "providerID": "anthropic",
            "time": {"created": 1780920000000 + n},
            "tokens": {
                "input": 10 * n,
                "output": 1,
                "reasoning": 0,
                "cache": {"read": 0, "write": 0},
            },
            "cost": 0,
        }
        return (f"msg_{n}", "ses_1", json.dumps(data))

    writer = sqlite3.connect(home / "opencode.db")
    writer.execute("pragma journal_mode=wal")
    writer.execute("pragma wal_autocheckpoint=0")
    writer.execute("create table message (id text primary key, session_id text, data text)")
    writer.execute("insert into message values (?, ?, ?)", message(1))
    writer.commit()
    try:
        assert _load(urls.warehouse, "opencode", [home]).rows_loaded == 1
        writer.execute("insert into message values (?, ?, ?)", message(2))
        writer.commit()
        assert (home / "opencode.db-wal").stat().st_size > 0
        assert _load(urls.warehouse, "opencode", [home]).rows_loaded == 2
    finally:
        writer.close()


def test_files_read_under_older_rules_of_their_kind_are_read_again(urls, tmp_path):
    """An OpenCode database read before the reader knew `session_message` is read again once,
    and its newer table's messages load; the storage files, whose rules did not change, are
    not read again."""
    from tests.agent_cli_rule_logs import write_opencode_database

    home = tmp_path / "opencode"
    home.mkdir()
    write_opencode_database(home)
    for path in home.rglob("*"):
        _age(path)
    first = _load(urls.warehouse, "opencode", [home])
    assert first.rows_loaded == 5  # `message` 1, `session_message` 3 (a prompt holds none), file 1
    with connect(urls.warehouse) as conn:
        conn.execute(
            "delete from raw.agent_cli_usage where origin = 'db_v2'; "
            "update raw.agent_cli_files set rules_version = 1 where file_kind = 'database'"
        )
    again = _load(urls.warehouse, "opencode", [home])
    assert again.rows_loaded == 4  # the database's rows again; the file is unchanged
    assert _held(
        urls.warehouse,
        "select file_kind, rules_version from raw.agent_cli_files order by file_kind",
    ) == [("database", 2), ("message", 1)]
    assert _held(
        urls.warehouse, "select count(*) from raw.agent_cli_usage where origin = 'db_v2'"
    ) == [(3,)]
    assert _load(urls.warehouse, "opencode", [home]).rows_loaded == 0
