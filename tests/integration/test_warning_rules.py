"""The freshness and volume warnings (expectations/sql_rules.py), run as GX runs them on a
whole table: `{batch}` becomes the table's name, the session's time zone is UTC."""

from datetime import UTC, datetime, timedelta

import pytest

from expectations import sql_rules
from ingestion.core.connections import connect

TABLE = "public.warned"


def _problems(conn, expectation) -> list[tuple]:
    query = expectation.unexpected_rows_query.format(batch=TABLE)
    return conn.execute(query).fetchall()


def _fill(conn, times) -> None:
    conn.execute("truncate warned")
    with conn.cursor().copy("copy warned (at) from stdin") as copy:
        for at in times:
            copy.write_row((at,))
    conn.execute("analyze warned")


@pytest.fixture
def conn(urls, monkeypatch):
    monkeypatch.setenv("ATW_DQ_FRESHNESS_HOURS", "26")
    with connect(urls.warehouse) as conn:
        conn.execute("set time zone 'UTC'")
        conn.execute("create table warned (at timestamptz)")
        conn.execute("create index on warned using brin (at)")
        yield conn


def test_freshness_warns_of_a_stale_or_empty_table_only(conn):
    now = datetime.now(UTC)
    fresh = sql_rules.fresh("at")
    _fill(conn, [now - timedelta(days=30), now - timedelta(hours=25)])
    assert _problems(conn, fresh) == []
    # A clock ahead of the warehouse's is not stale.
    _fill(conn, [now - timedelta(days=30), now + timedelta(hours=5)])
    assert _problems(conn, fresh) == []
    _fill(conn, [now - timedelta(days=30), now - timedelta(hours=27)])
    ((newest, age),) = _problems(conn, fresh)
    assert newest == now - timedelta(hours=27) and 26.9 <= age <= 27.1
    _fill(conn, [])
    assert _problems(conn, fresh) == [(None, None)]


def test_volume_warns_when_yesterday_has_under_half_the_trailing_average(conn):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    volume = sql_rules.volume("at")

    def day(days_ago, rows):
        return [today - timedelta(days=days_ago) + timedelta(minutes=m) for m in range(rows)]

    # Seven days of ten rows before yesterday; rows outside the eight days do not count.
    history = [at for ago in range(2, 9) for at in day(ago, 10)] + day(30, 500) + day(0, 500)
    _fill(conn, history + day(1, 5))
    assert _problems(conn, volume) == []
    _fill(conn, history + day(1, 4))
    ((yesterday, rows, average),) = _problems(conn, volume)
    assert (yesterday, rows, float(average)) == ((today - timedelta(days=1)).date(), 4, 10.0)
    # A day of the trailing week without a row counts as zero rows: 9 is over half of 120 / 7,
    # under half of 120 / 6.
    _fill(conn, [at for ago in range(3, 9) for at in day(ago, 20)] + day(1, 9))
    assert _problems(conn, volume) == []
