"""Retention: raw events and transcript text older than ATW_RETENTION_DAYS go, and no mart
number changes: not in the next run, not after a backfill of a purged day, not after a full
refresh of every model."""

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from dagster import DagsterInstance
from psycopg import sql

from ingestion.core.connections import connect
from orchestration.defs.dbt.manifest import run_dbt
from orchestration.lib.runs import run_job
from tests.conftest import SAMPLE_END, fill_every_source, fresh_databases, mart_checksums
from warehouse import retention

# The sample's last 5 days stay, its first 7 go.
CUTOFF = datetime.combine(SAMPLE_END.date() - timedelta(days=4), time(0), tzinfo=UTC)


def _run(job="everything", start=None, end=None):
    result = run_job(job, start, end, instance=DagsterInstance.ephemeral())
    assert result.success
    return result


def _oldest(url: str, table: str, column: str | sql.Composable):
    """`column`: a column name, or an expression (as retention.EVENT_TABLES has them)."""
    if isinstance(column, str):
        column = sql.Identifier(column)
    with connect(url) as conn:
        return conn.execute(
            sql.SQL("select min({}) from {}").format(column, sql.Identifier(*table.split(".")))
        ).fetchone()[0]


def _write_response_across_the_cutoff(claude_dir: Path) -> None:
    """One Claude Code response logged as two lines either side of the cutoff's midnight, with
    the same usage: the first line is the copy counted, and only it is purged."""
    session = "0b5e1d7e-5a1f-4c8e-9d61-3f0c2a7e9b11"
    lines = []
    for index, moment in enumerate(
        (CUTOFF - timedelta(milliseconds=200), CUTOFF + timedelta(milliseconds=300))
    ):
        lines.append(
            {
                "type": "assistant",
                "sessionId": session,
                "uuid": f"{session[:-1]}{index}",
                "parentUuid": None,
                "isSidechain": False,
                "cwd": "/home/dev/midnight",
                "version": "1.0.108",
                "gitBranch": "main",
                "requestId": "req_midnight_1",
                "timestamp": moment.isoformat().replace("+00:00", "Z"),
                "message": {
                    "id": "msg_midnight_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-20250514",
                    "stop_reason": None,
                    "content": [{"type": "text", "text": f"block {index}"}],
                    "usage": {
                        "input_tokens": 12,
                        "output_tokens": 40,
                        "cache_read_input_tokens": 900,
                        "cache_creation_input_tokens": 0,
                    },
                },
            }
        )
    folder = claude_dir / "-home-dev-midnight"
    folder.mkdir(parents=True)
    # Compact, as Claude Code writes its logs (and as ccusage needs to read their usage).
    (folder / f"{session}.jsonl").write_text(
        "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    )


@pytest.fixture
def built(pg_base_url, tmp_path, monkeypatch):
    urls = fresh_databases(pg_base_url, monkeypatch)
    fill_every_source(urls, tmp_path / "claude", monkeypatch)
    _write_response_across_the_cutoff(tmp_path / "claude")
    monkeypatch.setenv("ATW_REPORT_PATH", str(tmp_path / "report.html"))
    _run()
    return urls


def test_purging_raw_data_changes_no_mart(built, monkeypatch):
    url = built.warehouse
    before = mart_checksums(url)
    assert sum(count for count, _ in before.values()) > 1000
    # The default 90 days purged nothing from 5 to 16 day old sample data.
    assert _oldest(url, "raw.collector_events", "created_at") < SAMPLE_END - timedelta(days=10)

    cutoff = CUTOFF
    with connect(url) as conn:
        assert conn.execute(
            "select occurred_at < %s from intermediate.int_claude_code_responses_priced "
            "where message_id = 'msg_midnight_1'",
            (cutoff,),
        ).fetchall() == [(True,)]
    days = (datetime.now(UTC).date() - cutoff.date()).days
    monkeypatch.setenv("ATW_RETENTION_DAYS", str(days))
    _run()
    with connect(url) as conn:
        purged = dict(
            conn.execute(
                "select table_name, rows_affected from raw.retention_runs where cutoff = %s",
                (cutoff,),
            ).fetchall()
        )
        blanked = conn.execute(
            "select count(*) filter (where m.content = '' and m.content_purged_at is not null), "
            "count(*) filter (where m.content <> '') "
            "from raw.collector_transcript_messages m "
            "join raw.collector_session_transcripts t using (session_id) "
            "where t.updated_at < %s",
            (cutoff,),
        ).fetchone()
    for table, column in retention.EVENT_TABLES:
        assert purged[table] > 0, table
        assert _oldest(url, table, column) >= cutoff, table
    assert purged[retention.TRANSCRIPT_TEXT] == blanked[0] > 0
    assert blanked[1] == 0
    assert mart_checksums(url) == before
    with connect(url) as conn:
        # Only the line after midnight is left; the response is still counted once.
        assert (
            conn.execute(
                "select count(*) from raw.claude_code_lines where message_id = 'msg_midnight_1'"
            ).fetchone()[0]
            == 1
        )

    # The next run sees the deleted days (the delete triggers logged them) and leaves them be.
    _run()
    assert mart_checksums(url) == before
    with connect(url) as conn:
        assert (
            conn.execute(
                "select count(*) from intermediate.int_claude_code_responses_priced "
                "where message_id = 'msg_midnight_1'"
            ).fetchone()[0]
            == 1
        )

    # A backfill of a purged day re-reads the collector into raw but never rebuilds the day.
    purged_day = cutoff.date() - timedelta(days=2)
    _run("backfill", purged_day, purged_day)
    assert _oldest(url, "raw.collector_events", "created_at").date() == purged_day
    assert mart_checksums(url) == before

    # A full refresh rebuilds from raw what raw holds and carries the purged days over.
    run_dbt(
        url,
        ["run", "--quiet", "--full-refresh", "--select", "intermediate", "marts"],
        "target/test-retention",
        check=True,
    )
    assert mart_checksums(url) == before


def test_the_cutoff_is_a_utc_midnight_and_the_retention_is_checked(monkeypatch):
    now = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    assert retention.cutoff_for(now, 90) == datetime(2026, 8, 25, tzinfo=UTC)
    monkeypatch.setenv("ATW_RETENTION_DAYS", "3")
    with pytest.raises(ValueError, match="at least 7"):
        retention.retention_days()
    monkeypatch.setenv("ATW_RETENTION_DAYS", "ninety")
    with pytest.raises(ValueError, match="whole number"):
        retention.retention_days()
    monkeypatch.delenv("ATW_RETENTION_DAYS")
    assert retention.retention_days() == 90
    assert date(2026, 8, 25) == retention.cutoff_for(now, retention.retention_days()).date()
