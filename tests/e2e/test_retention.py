"""Retention: raw events and transcript text older than ATW_RETENTION_DAYS go, and no mart
number changes: not in the next run, not after a backfill of a purged day, not after a full
refresh of every model."""

from datetime import UTC, date, datetime, timedelta

import pytest
from dagster import DagsterInstance
from psycopg import sql

from ingestion.core.connections import connect
from orchestration.defs.dbt.manifest import run_dbt
from orchestration.lib.runs import run_job
from tests.conftest import CUTOFF, SAMPLE_END, mart_checksums
from warehouse import retention


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


@pytest.fixture
def built(secured_clone, tmp_path, monkeypatch):
    """A copy of the shared secured build: every sample source, the roles set up, and one
    Claude Code response logged either side of the cutoff's midnight."""
    monkeypatch.setenv("ATW_REPORT_PATH", str(tmp_path / "report.html"))
    return secured_clone


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
        ["run", "--quiet", "--full-refresh", "--select", "staging", "intermediate", "marts"],
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
