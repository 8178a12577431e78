"""Which rows a run validates: the rows written since the check last passed.

A nightly run adds a day to months of history; validating every row again each night made the
checks' cost grow with the history instead of with the new data. The blocking half of a suite
with a window therefore reads only what was written since its last passing validation began
(from a horizon that still holds writes committed after that start), and every row when it
has never passed, when the run is a full validation (the weekly `full_validation` job, or
`atw validate`), or when the suite has no window. Rules that need more than the window (row
conservation against the load log, freshness, volume) read the table itself (sql_rules.py).

A failed validation leaves its watermark where it was, so the rows it failed on are read
again by the next run until they are fixed: a failure never scrolls out of the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from psycopg import sql

from ingestion.core import settings, watermarks


def horizon(conn) -> datetime:
    """Where the window of a validation starting now will start next time: every row
    stamped before it is visible now (raw.write_horizon: the start of the oldest transaction
    still open, at most ATW_DQ_WINDOW_MARGIN_HOURS ago). The database's clock, which stamps
    the rows, never the client's."""
    return watermarks.write_horizon(conn, settings.number("ATW_DQ_WINDOW_MARGIN_HOURS"))


@dataclass(frozen=True)
class LoadedSince:
    """A table whose rows carry the time they were written (`_loaded_at` in raw,
    `rebuilt_at` in an incremental model): the rows written since the watermark."""

    column: str

    def predicate(self, conn, since: datetime) -> sql.Composable:
        return sql.SQL("t.{} >= {}").format(sql.Identifier(self.column), sql.Literal(since))


@dataclass(frozen=True)
class DaysLoadedSince:
    """A staging view over raw tables: its rows on the UTC days (of `column`) that its raw
    tables got, changed or lost rows on since the watermark. Whole days, because a view's row
    can depend on other raw rows of its day (the first copy of a retried event), and ranges
    on the view's time column reach the raw table's index through the view."""

    column: str
    # (raw table, its event-time column)
    sources: tuple[tuple[str, str], ...]

    def days(self, conn, since: datetime) -> list[date]:
        parts = [
            sql.SQL(
                "select ({time} at time zone 'UTC')::date from {table} "
                "where _loaded_at >= {since} and {time} is not null"
            ).format(
                time=sql.Identifier(time_column),
                table=sql.Identifier(*table.split(".")),
                since=sql.Literal(since),
            )
            for table, time_column in self.sources
        ]
        names = [table.split(".")[-1] for table, _ in self.sources]
        parts.append(
            sql.SQL(
                "select day from raw.changed_days where changed_at >= {} and table_name = any({})"
            ).format(sql.Literal(since), sql.Literal(names))
        )
        # A purged day has no raw rows left to validate: after a purge of months, the window
        # would be every one of them.
        query = sql.SQL(
            "select distinct day from ({}) as days (day) where day >= ("
            "select coalesce(max(cutoff), '-infinity')::date from raw.retention_runs"
            ") order by day"
        ).format(sql.SQL(" union all ").join(parts))
        with conn.cursor() as cursor:
            return [row[0] for row in cursor.execute(query)]

    def predicate(self, conn, since: datetime) -> sql.Composable:
        days = self.days(conn, since)
        if not days:
            return sql.SQL("false")
        column = sql.Identifier("t", self.column)
        return sql.SQL("({})").format(
            sql.SQL(" or ").join(
                sql.SQL("({column} >= {start} and {column} < {end})").format(
                    column=column,
                    start=sql.Literal(f"{day.isoformat()} 00:00+00"),
                    end=sql.Literal(f"{(day + timedelta(days=1)).isoformat()} 00:00+00"),
                )
                for day in days
            )
        )


Window = LoadedSince | DaysLoadedSince

# The raw tables behind the staging views, each with its event-time columns (as dbt's
# raw_event_sources() macro lists them): a Claude Code response is dated by the message whose
# usage a line reports, the day before the line's own for a progress line after midnight.
RAW_EVENT_TIMES = {
    "raw.collector_events": ("created_at",),
    "raw.landed_collector_events": ("created_at",),
    "raw.landed_metric_events": ("occurred_at",),
    "raw.claude_code_lines": ("occurred_at", "usage_at"),
    "raw.agent_cli_usage": ("occurred_at",),
}


def days_of(*tables: str) -> DaysLoadedSince:
    """The window of views over `tables` (all of the raw event tables when none is named)."""
    return DaysLoadedSince(
        "occurred_at",
        tuple((t, column) for t in tables or RAW_EVENT_TIMES for column in RAW_EVENT_TIMES[t]),
    )


def watermark(conn, check_name: str) -> datetime | None:
    """Where the check's window starts: the horizon taken when its last passing validation
    began, or None if it never passed."""
    with conn.cursor() as cursor:
        row = cursor.execute(
            "select passed_from from ops.dq_watermarks where check_name = %s", (check_name,)
        ).fetchone()
    return row[0] if row else None


def passed(conn, check_name: str, started: datetime, scope: str) -> None:
    """Move the check's watermark to `started`, the horizon taken when a validation that
    passed began."""
    with conn.cursor() as cursor:
        cursor.execute(
            """
            insert into ops.dq_watermarks (check_name, passed_from, scope)
            values (%s, %s, %s)
            on conflict (check_name) do update
                set passed_from = greatest(ops.dq_watermarks.passed_from, excluded.passed_from),
                    scope = excluded.scope,
                    updated_at = now()
            """,
            (check_name, started, scope),
        )
