"""Monthly partitions of the raw event tables (sql/raw_schema.sql, "Monthly partitions").

A load first adds the partitions of the months its rows fall in, so that they go straight to
them; a row whose month still has none lands in the table's default partition, and moves out
when the load finishes. Retention drops the months wholly before its cutoff
(warehouse/retention.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import psycopg

from ingestion.core.connections import LOADER_ROLE, acting_as
from ingestion.core.contract_fields import MAX_FUTURE, timestamp_floor

# Each partitioned raw table and its event-time column, the partition key.
PARTITIONED = {
    "raw.collector_events": "created_at",
    "raw.landed_collector_events": "created_at",
    "raw.landed_metric_events": "occurred_at",
    "raw.claude_code_lines": "_event_at",
}


def add_months(
    conn: psycopg.Connection, table: str, times: Iterable[datetime | date | None] = ()
) -> int:
    """Inside the caller's transaction: partitions of `table` for the UTC months of `times`
    (event times, or any day of a month), and for the rows waiting in its default partition.
    Returns the rows moved out of the default. Only times the record contract lets in make a
    month, so a hostile timestamp never makes a partition (its row is quarantined)."""
    floor, ceiling = timestamp_floor(), datetime.now(UTC) + MAX_FUTURE
    months = set()
    for at in times:
        if isinstance(at, datetime):
            if not floor <= at <= ceiling:
                continue
            at = at.astimezone(UTC).date()
        elif at is None or not floor.date() <= at <= ceiling.date():
            continue
        months.add(at.replace(day=1))
    with acting_as(conn, LOADER_ROLE):  # partitions belong to the loaders, as their table does
        return conn.execute(
            "select raw.add_month_partitions(%s::regclass, %s, %s::date[])",
            (table, PARTITIONED[table], sorted(months)),
        ).fetchone()[0]


def month_partitions(conn: psycopg.Connection, table: str) -> list[tuple[str, datetime, datetime]]:
    """`table`'s month partitions, oldest first: (qualified name, first instant, end)."""
    schema = table.split(".")[0]
    return [
        (f"{schema}.{partition}", low, high)
        for partition, low, high in conn.execute(
            """
            select name, (month::timestamp at time zone 'UTC'),
                ((month + interval '1 month')::timestamp at time zone 'UTC')
            from (
                select c.relname as name, to_date(substring(c.relname
                    from '_p([0-9]{4}_[0-9]{2})(_[0-9]+)?$'), 'YYYY_MM') as month
                from pg_inherits as i
                join pg_class as c on c.oid = i.inhrelid
                where i.inhparent = %s::regclass
            ) as partitions
            where month is not null
            order by month
            """,
            (table,),
        )
    ]
