"""Loads whose cost follows what is new: a Claude Code log whose stat is the one recorded when
it was read is not opened again, one whose stat changed is read as before (a rewrite found by
its hash, an append read on from where the load stopped); the collector pull reconciles the
days it read, however far apart, and a re-read row whose time moved keeps one version."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, timedelta
from pathlib import Path

from ingestion.claude_code.loader import load_projects
from ingestion.collector.events import pull_events
from ingestion.core import reconciliation
from ingestion.core.connections import connect
from tests.conftest import SAMPLE_END

AN_HOUR_NS = 3600 * 10**9


def _line(message_id: str) -> bytes:
    return json.dumps(
        {
            "type": "assistant",
            "sessionId": "S",
            "version": "2.1.14",
            "cwd": "/repo",
            "timestamp": "2026-01-05T10:00:00.000Z",
            "requestId": f"req-{message_id}",
            "message": {
                "id": message_id,
                "role": "assistant",
                "model": "claude-opus-4-6",
                "usage": {"input_tokens": 1, "output_tokens": 1},
                "content": [],
            },
        },
        separators=(",", ":"),
    ).encode()


def _write(log: Path, *message_ids: str, hours_ago: float = 1) -> None:
    """The log holding these lines, last changed `hours_ago` (still long enough to be trusted
    by its stat once read)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"".join(_line(m) + b"\n" for m in message_ids))
    when = time.time_ns() - int(hours_ago * AN_HOUR_NS)
    os.utime(log, ns=(when, when))


def _garble(log: Path) -> None:
    """Garbage of the log's size in place of its lines, its modification time put back: a read
    would find its read part changed (and its one line broken); a stat finds nothing."""
    status = log.stat()
    log.write_bytes(b"x" * (status.st_size - 1) + b"\n")
    os.utime(log, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert log.stat().st_mtime_ns == status.st_mtime_ns


def _messages(conn, log: str) -> list[tuple]:
    return conn.execute(
        "select line_number, message_id from raw.claude_code_lines "
        "where file_path = %s order by line_number",
        (f"projects/p/{log}",),
    ).fetchall()


def _quarantined(conn, run_id: str) -> list[tuple]:
    return conn.execute(
        "select source_key, reason_code from raw.quarantine where run_id = %s order by 1",
        (run_id,),
    ).fetchall()


def test_an_unchanged_log_is_not_opened_again(urls, tmp_path):
    projects = tmp_path / "projects"
    _write(projects / "p" / "A.jsonl", "a1", "a2")
    _write(projects / "p" / "B.jsonl", "b1")
    with connect(urls.warehouse) as conn:
        assert load_projects(conn, "1", [projects]).rows_loaded == 3
        _garble(projects / "p" / "A.jsonl")
        counts = load_projects(conn, "2", [projects], reconcile_all=True)
        assert (counts.rows_read, counts.rows_quarantined) == (0, 0)
        assert _messages(conn, "A.jsonl") == [(1, "a1"), (2, "a2")]
        assert _quarantined(conn, "2") == []
        # The full reconciliation still covers every log, read or not, from what raw holds.
        assert conn.execute(
            "select scope, source_rows, warehouse_rows from raw.reconciliation "
            "where run_id = '2' order by scope"
        ).fetchall() == [("projects/p/A.jsonl", 2, 2), ("projects/p/B.jsonl", 1, 1)]
        # Asked to, the load reads it all the same: its hash finds the rewrite.
        load_projects(conn, "3", [projects], reread_unchanged=True)
        assert _messages(conn, "A.jsonl") == []
        assert _quarantined(conn, "3") == [("projects/p/A.jsonl:1", "malformed_json")]
        assert _messages(conn, "B.jsonl") == [(1, "b1")]
        assert reconciliation.out_of_balance(conn, ("claude_code.session_logs",)) == []


def test_a_log_changed_moments_ago_is_read_again_whatever_its_stat(urls, tmp_path):
    """Its stat is not trusted: a write within the granularity of file times (or the last line
    settling) would not show in it."""
    projects = tmp_path / "projects"
    _write(projects / "p" / "A.jsonl", "a1", hours_ago=0)
    with connect(urls.warehouse) as conn:
        load_projects(conn, "1", [projects])
        _garble(projects / "p" / "A.jsonl")
        load_projects(conn, "2", [projects])
        assert _messages(conn, "A.jsonl") == []
        assert _quarantined(conn, "2") == [("projects/p/A.jsonl:1", "malformed_json")]


def test_a_log_rewritten_with_a_new_time_is_read_again_from_the_start(urls, tmp_path):
    projects = tmp_path / "projects"
    log = projects / "p" / "A.jsonl"
    _write(log, "a1", "a2")
    with connect(urls.warehouse) as conn:
        load_projects(conn, "1", [projects])
        _write(log, "r1", "r2", hours_ago=0.5)  # same size, new content and time
        counts = load_projects(conn, "2", [projects])
        assert (counts.rows_read, counts.rows_loaded) == (2, 2)
        assert _messages(conn, "A.jsonl") == [(1, "r1"), (2, "r2")]
        assert conn.execute(
            "select lines_consumed, lines_read from raw.claude_code_files"
        ).fetchall() == [(2, 2)]
        assert reconciliation.out_of_balance(conn, ("claude_code.session_logs",)) == []
        # Read and recorded again, it is trusted by its new stat.
        _garble(log)
        assert load_projects(conn, "3", [projects]).rows_read == 0
        assert _messages(conn, "A.jsonl") == [(1, "r1"), (2, "r2")]


def test_an_appended_log_is_read_from_where_the_last_load_stopped(urls, tmp_path):
    projects = tmp_path / "projects"
    log = projects / "p" / "A.jsonl"
    _write(log, "a1", "a2")
    with connect(urls.warehouse) as conn:
        load_projects(conn, "1", [projects])
        with log.open("ab") as appending:
            appending.write(_line("a3") + b"\n")
        counts = load_projects(conn, "2", [projects])
        assert (counts.rows_read, counts.rows_loaded) == (1, 1)
        assert _messages(conn, "A.jsonl") == [(1, "a1"), (2, "a2"), (3, "a3")]


def test_a_warehouse_from_before_gains_the_stat_columns_in_place(urls, tmp_path):
    projects = tmp_path / "projects"
    _write(projects / "p" / "A.jsonl", "a1")
    with connect(urls.warehouse) as conn:
        load_projects(conn, "1", [projects])
        conn.execute("alter table raw.claude_code_files drop column modified_ns, drop column inode")
        conn.commit()
        # Its logs are read once more (nothing new in them), and their stat recorded.
        assert load_projects(conn, "2", [projects]).rows_read == 0
        assert conn.execute(
            "select modified_ns is not null, inode is not null from raw.claude_code_files"
        ).fetchall() == [(True, True)]
        _garble(projects / "p" / "A.jsonl")
        load_projects(conn, "3", [projects])
        assert _messages(conn, "A.jsonl") == [(1, "a1")]


def test_a_pull_reconciles_the_days_it_read_however_far_apart(small_collector):
    """A row moved 40 days back and one rewritten today: the pull reads both and reconciles
    their days and the day the moved row left, not the days between."""
    with connect(small_collector.collector) as source, connect(small_collector.warehouse) as wh:
        pull_events(source, wh, "first", now=SAMPLE_END)
        (moved_id, moved_at), (rewritten_id, rewritten_at) = source.execute(
            "(select id, created_at from telemetry_events order by id limit 1) union all "
            "(select id, created_at from telemetry_events order by id desc limit 1)"
        ).fetchall()
        moved_to = moved_at - timedelta(days=40)
        source.execute(
            "update telemetry_events set created_at = %s where id = %s", (moved_to, moved_id)
        )
        source.execute(
            "update telemetry_events set prompt_tokens = coalesce(prompt_tokens, 0) + 7 "
            "where id = %s",
            (rewritten_id,),
        )
        source.commit()
        counts = pull_events(source, wh, "second", now=SAMPLE_END)
        assert counts.rows_updated == 2
        scopes = wh.execute(
            "select scope, source_rows - set_aside_rows - warehouse_rows, "
            "source_tokens = warehouse_tokens from raw.reconciliation "
            "where run_id = 'second' order by scope"
        ).fetchall()
        days = sorted(
            {
                moved_to.astimezone(UTC).date(),
                moved_at.astimezone(UTC).date(),
                rewritten_at.astimezone(UTC).date(),
            }
        )
        assert scopes == [(day.isoformat(), 0, True) for day in days]
        assert (
            wh.execute(
                "select count(*) from raw.collector_events where source_id = %s", (moved_id,)
            ).fetchone()[0]
            == 1
        )
        assert reconciliation.out_of_balance(wh, ("collector.telemetry_events",)) == []


def test_a_pull_reconciles_the_day_of_a_row_it_set_aside(small_collector):
    """A row rewritten at the collector so that it breaks the contract: the pull quarantines it
    and reconciles its day (one row set aside there), found by its id, not the days read."""
    with connect(small_collector.collector) as source, connect(small_collector.warehouse) as wh:
        pull_events(source, wh, "first", now=SAMPLE_END)
        broken_id, broken_at = source.execute(
            "select id, created_at from telemetry_events order by id limit 1"
        ).fetchone()
        source.execute("update telemetry_events set latency_ms = -1 where id = %s", (broken_id,))
        source.commit()
        counts = pull_events(source, wh, "second", now=SAMPLE_END)
        assert counts.rows_quarantined == 1
        scopes = wh.execute(
            "select scope, set_aside_rows, source_rows - set_aside_rows - warehouse_rows "
            "from raw.reconciliation where run_id = 'second' order by scope"
        ).fetchall()
        assert [(scope, off) for scope, _, off in scopes] == [
            (broken_at.astimezone(UTC).date().isoformat(), 0)
        ]
        assert scopes[0][1] >= 1
        assert reconciliation.out_of_balance(wh, ("collector.telemetry_events",)) == []
