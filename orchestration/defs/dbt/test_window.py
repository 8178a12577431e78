"""The days whose rows the dbt tests of the staging views read (macros/test_window.sql).

The staging views are the raw tables, cleaned: their tests scanned all of history in every
run. They now read the UTC days whose raw rows were written, changed or deleted since the tests
last passed (from the horizon taken then, expectations/windows.py), and every row when they never
passed or the run is a full validation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from expectations import windows
from ingestion.core.connections import connect

VARIABLE = "ATW_DBT_TEST_DAYS"
WATERMARK = "dbt_staging_tests"
RAW_SOURCES = windows.days_of()


@contextmanager
def test_days(warehouse_url: str, full: bool) -> Iterator[dict[str, str]]:
    """The variable for the dbt process; when the body ends without an error (every test
    passed), the watermark moves to the start of this validation."""
    with connect(warehouse_url) as conn:
        started = windows.horizon(conn)
        mark = None if full else windows.watermark(conn, WATERMARK)
        if mark is None:
            value = ""
        else:
            days = RAW_SOURCES.days(conn, mark)
            value = ",".join(day.isoformat() for day in days) or "none"
    yield {VARIABLE: value}
    with connect(warehouse_url) as conn:
        windows.passed(conn, WATERMARK, started, "table" if mark is None else "window")
