"""A run's checks read the rows written since they last passed (expectations/windows.py),
against a real PostgreSQL and real GX: the window leaves out what passed before, keeps what
was written, edited or deleted since, and never starts after a write still in flight."""

from datetime import UTC, date, datetime, timedelta

import pytest

from expectations import windows
from expectations.gx_classes import gxe
from expectations.runner import run_suite
from expectations.suites import SuiteSpec
from ingestion.core.connections import connect
from ingestion.core.raw_schema import ensure_raw_schema
from warehouse import retention

LATENCY = SuiteSpec(
    "window_probe",
    "raw",
    "collector_events",
    ("source_id",),
    lambda: [gxe.ExpectColumnValuesToBeBetween(column="latency_ms", min_value=0)],
    window=windows.LoadedSince("_loaded_at"),
)
DAYS = windows.DaysLoadedSince("occurred_at", (("raw.collector_events", "created_at"),))


def _insert(conn, source_id: int, latency: int, created_at: datetime, loaded_at=None) -> None:
    conn.execute(
        "insert into raw.collector_events (source_id, host_id, session_id, event_type, "
        "agent_name, hook_name, decision, latency_ms, created_at, _run_id, _loaded_at) "
        "values (%s, 'h', 's', 'hook', 'a', 'PreToolUse', 'ALLOW', %s, %s, 'test', "
        "coalesce(%s, now()))",
        (source_id, latency, created_at, loaded_at),
    )


@pytest.fixture
def warehouse(urls) -> str:
    with connect(urls.warehouse) as conn:
        ensure_raw_schema(conn)
    return urls.warehouse


def _validate(url: str, since: datetime | None):
    with connect(url) as conn:
        where = None if since is None else LATENCY.window.predicate(conn, since)
    return run_suite(url, LATENCY, where=where)


def test_a_window_leaves_out_the_rows_that_passed_before(warehouse):
    long_ago = datetime(2026, 1, 5, 12, tzinfo=UTC)
    with connect(warehouse) as conn:
        # Written before the window: a bad row only a whole-table validation sees.
        _insert(conn, 1, -5, long_ago, long_ago)
        _insert(conn, 2, 10, long_ago)
    since = datetime.now(UTC) - timedelta(hours=1)
    assert _validate(warehouse, since).success
    whole = _validate(warehouse, None)
    assert not whole.success
    assert whole.failed[0].failing_keys == [{"source_id": "1"}]


def test_a_row_written_or_edited_since_is_in_the_window(warehouse):
    long_ago = datetime(2026, 1, 5, 12, tzinfo=UTC)
    with connect(warehouse) as conn:
        _insert(conn, 1, 10, long_ago, long_ago)
        since = windows.horizon(conn)
        _insert(conn, 2, -1, long_ago, long_ago)
    # Stamped in the past by hand: outside the window.
    assert _validate(warehouse, since).success
    with connect(warehouse) as conn:
        # An edit around the loader restamps the row (raw.bump_loaded_at).
        conn.execute("update raw.collector_events set latency_ms = -2 where source_id = 1")
    outcome = _validate(warehouse, since)
    assert not outcome.success
    assert outcome.failed[0].failing_keys == [{"source_id": "1"}]


def test_a_view_window_holds_the_days_written_changed_or_deleted_since(warehouse):
    long_ago = datetime(2026, 1, 5, 12, tzinfo=UTC)
    with connect(warehouse) as conn:
        _insert(conn, 1, 10, long_ago, long_ago)
        _insert(conn, 2, 10, datetime(2026, 1, 7, 8, tzinfo=UTC), long_ago)
        since = windows.horizon(conn)
        assert DAYS.days(conn, since) == []
        assert DAYS.predicate(conn, since).as_string() == "false"
        _insert(conn, 3, 10, datetime(2026, 1, 6, 23, 59, tzinfo=UTC))
        conn.execute("delete from raw.collector_events where source_id = 2")
        assert DAYS.days(conn, since) == [date(2026, 1, 6), date(2026, 1, 7)]
        text = DAYS.predicate(conn, since).as_string()
    assert text.count(" or ") == 1
    assert "'2026-01-06 00:00+00'" in text and "'2026-01-08 00:00+00'" in text


def test_a_view_window_leaves_out_the_days_a_purge_took(warehouse):
    """A purged day has no raw rows left to check: after a purge of months, the window would
    otherwise hold every one of those days."""
    long_ago = datetime(2026, 1, 5, 12, tzinfo=UTC)
    with connect(warehouse) as conn:
        _insert(conn, 1, 10, datetime(2026, 1, 6, 8, tzinfo=UTC), long_ago)
        since = windows.horizon(conn)
        _insert(conn, 2, 10, datetime(2026, 1, 9, 8, tzinfo=UTC))
        cutoff = datetime(2026, 1, 8, tzinfo=UTC)
        cuts = retention.purge(conn, "window", now=cutoff + timedelta(days=35), days=35)
        assert {cut.cutoff for cut in cuts} == {cutoff}
        assert conn.execute(
            "select count(*) from raw.changed_days where day = '2026-01-06'"
        ).fetchone()[0]
        assert DAYS.days(conn, since) == [date(2026, 1, 9)]


def test_the_horizon_waits_for_a_write_still_in_flight(warehouse, monkeypatch):
    """A load stamps its rows when its transaction starts and may commit after a validation
    began: the next window starts no later than that transaction, but no more than the margin
    ago."""
    with connect(warehouse) as writer, connect(warehouse) as conn:
        begun = writer.execute("select now()").fetchone()[0]
        writer.execute("select pg_sleep(0.2)")
        assert windows.horizon(conn) == begun
        writer.rollback()
        monkeypatch.setenv("ATW_DQ_WINDOW_MARGIN_HOURS", "0")
        writer.execute("select 1")
        horizon = windows.horizon(conn)
        assert horizon > begun
        conn.rollback()
    with connect(warehouse) as conn:
        first = windows.horizon(conn)
        conn.rollback()
        assert windows.horizon(conn) > first


def test_a_watermark_only_moves_forward(warehouse):
    earlier = datetime(2026, 3, 1, tzinfo=UTC)
    later = datetime(2026, 3, 2, tzinfo=UTC)
    with connect(warehouse) as conn:
        assert windows.watermark(conn, "gx_probe") is None
        windows.passed(conn, "gx_probe", later, "table")
        windows.passed(conn, "gx_probe", earlier, "window")
        assert windows.watermark(conn, "gx_probe") == later
