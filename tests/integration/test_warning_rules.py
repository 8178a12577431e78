"""The freshness and volume warnings (expectations/sql_rules.py), run by GX on a whole table, as
the warning checks run them (expectations/runner.py)."""

from copy import copy
from datetime import UTC, datetime, timedelta

import pytest

from expectations import sql_rules
from expectations.runner import run_suite
from expectations.suites import SuiteSpec
from ingestion.core.connections import connect


class Table:
    def __init__(self, url, conn):
        self.url, self.conn = url, conn

    def fill(self, times) -> None:
        self.conn.execute("truncate public.warned")
        with self.conn.cursor().copy("copy public.warned (at) from stdin") as copy:
            for at in times:
                copy.write_row((at,))
        self.conn.execute("analyze public.warned")

    def problems(self, expectation) -> list[tuple]:
        """The rule's problem rows ([] when it passes): GX validates (its count must agree),
        and the rows are read with the table's name in place of `{batch}`."""
        spec = SuiteSpec("warned", "public", "warned", ("at",), list, lambda: [copy(expectation)])
        (outcome,) = run_suite(self.url, spec, blocking=False).outcomes
        observed = outcome.observed_value
        assert not isinstance(observed, dict), observed  # {"error": ...}: the query broke
        rows = self.conn.execute(
            expectation.unexpected_rows_query.format(batch="public.warned")
        ).fetchall()
        assert outcome.success == (rows == []) and observed == len(rows)
        return rows


@pytest.fixture
def table(urls, monkeypatch):
    monkeypatch.setenv("ATW_DQ_FRESHNESS_HOURS", "26")
    with connect(urls.warehouse) as conn:
        conn.autocommit = True
        conn.execute("create table public.warned (at timestamptz)")
        conn.execute("create index on public.warned using brin (at)")
        yield Table(urls.warehouse, conn)


def test_freshness_warns_of_a_stale_or_empty_table_only(table):
    now = datetime.now(UTC)
    fresh = sql_rules.fresh("at")
    table.fill([now - timedelta(days=30), now - timedelta(hours=25)])
    assert table.problems(fresh) == []
    # A clock ahead of the warehouse's is not stale.
    table.fill([now - timedelta(days=30), now + timedelta(hours=5)])
    assert table.problems(fresh) == []
    table.fill([now - timedelta(days=30), now - timedelta(hours=27)])
    ((newest, age),) = table.problems(fresh)
    assert newest == now - timedelta(hours=27) and 26.9 <= age <= 27.1
    table.fill([])
    assert table.problems(fresh) == [(None, None)]


def test_volume_warns_when_yesterday_has_under_half_the_trailing_average(table):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    volume = sql_rules.volume("at")

    def day(days_ago, rows):
        return [today - timedelta(days=days_ago) + timedelta(minutes=m) for m in range(rows)]

    # Seven days of ten rows before yesterday; rows outside the eight days do not count.
    history = [at for ago in range(2, 9) for at in day(ago, 10)] + day(30, 500) + day(0, 500)
    table.fill(history + day(1, 5))
    assert table.problems(volume) == []
    table.fill(history + day(1, 4))
    ((yesterday, rows, average),) = table.problems(volume)
    assert (yesterday, rows, float(average)) == ((today - timedelta(days=1)).date(), 4, 10.0)
    # A day of the trailing week without a row counts as zero rows: 9 is over half of 120 / 7,
    # under half of 120 / 6.
    table.fill([at for ago in range(3, 9) for at in day(ago, 20)] + day(1, 9))
    assert table.problems(volume) == []
