"""Retention (seed 003: 90 days): raw events and transcript text older than the retention go.

The marts keep what they were built from: each table's purge commits with its row in
raw.retention_runs, and dbt treats days before the latest cutoff as final (never rebuilt from
raw, never deleted; dbt_project/macros/retention.sql). Quarantine and the load log stay: they
hold hashes and counts, no payload, and account for every row that ever came in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import psycopg
from psycopg import sql

from ingestion.core import partitions, settings

# The calls fact re-reads its last few days on every build; a retention that short would purge
# days that are still being rebuilt.
MINIMUM_RETENTION_DAYS = 7

# How long retention waits to drop a month partition (its whole table is locked meanwhile).
DROP_LOCK_TIMEOUT = "10s"

# Raw event tables and the column that says when the event happened: their partition key. A
# Claude Code line without a time of its own (a summary, say) goes by when it was loaded
# (`_event_at`, set by the loader, is the one or the other). Where rows come from files, the
# purge is also counted per file, so the files' reconciliation still balances.
EVENT_TABLES = tuple(
    (table, sql.Identifier(column)) for table, column in partitions.PARTITIONED.items()
)
_PER_FILE = {
    "raw.landed_collector_events": sql.SQL("""
        update raw.landed_files as f set rows_purged = f.rows_purged + gone.n
        from (select file_path, count(*) as n from purged group by 1) as gone
        where f.file_path = gone.file_path"""),
    "raw.landed_metric_events": sql.SQL("""
        update raw.landed_files as f set rows_purged = f.rows_purged + gone.n
        from (select file_path, count(*) as n from purged group by 1) as gone
        where f.file_path = gone.file_path"""),
    "raw.claude_code_lines": sql.SQL("""
        update raw.claude_code_files as f set lines_purged = f.lines_purged + gone.n,
            responses_purged = f.responses_purged + gone.responses
        from (select file_path, count(*) as n,
                count(*) filter (where message_id is not null and input_tokens is not null)
                    as responses
              from purged group by 1) as gone
        where f.file_path = gone.file_path"""),
}
# A dropped partition fires no delete trigger: its lines are logged as removed here, for the
# Claude Code staging tables (raw_schema.sql, raw.claude_code_removed_lines).
_DROPPED_LOG = {
    "raw.claude_code_lines": sql.SQL("""
        insert into raw.claude_code_removed_lines (file_path, line_number, message_id, tool_ids,
            has_task)
        select file_path, line_number, message_id,
            raw.claude_code_tool_ids(tool_uses, tool_results), raw.claude_code_has_task(tool_uses)
        from purged"""),
}
# The staging tables that read that log; what all of them have read since is forgotten.
REMOVED_LINES = "raw.claude_code_removed_lines"
REMOVED_LINES_READERS = (
    "stg_claude_code__api_responses",
    "stg_claude_code__session_responses",
    "stg_claude_code__tool_calls",
)
TRANSCRIPT_TEXT = "raw.collector_transcript_messages"
DQ_RESULTS = "ops.dq_validation_results"
RUNS = "raw.retention_runs"


@dataclass(frozen=True)
class Cut:
    """The rows one table lost (deleted or blanked) before a cutoff."""

    table: str
    cutoff: datetime
    rows: int


def days_setting(variable: str, minimum: int, why: str = "") -> int:
    """A whole number of days from the environment, at least `minimum` (`why` says why)."""
    return settings.integer(variable, minimum, why)


def retention_days() -> int:
    """ATW_RETENTION_DAYS, default 90."""
    return days_setting(
        "ATW_RETENTION_DAYS",
        MINIMUM_RETENTION_DAYS,
        " (the incremental models re-read recent days)",
    )


def cutoff_for(now: datetime, days: int) -> datetime:
    """Midnight UTC `days` days before today: whole UTC days go, never part of one."""
    today = now.astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=days), time(0), tzinfo=UTC)


def record(
    conn: psycopg.Connection, log: str, run_id: str, table: str, cutoff: datetime, rows: int
) -> Cut:
    """Log a cut in `log` (raw.retention_runs or raw.downsample_runs, one shape)."""
    conn.execute(
        sql.SQL(
            "insert into {} as logged (run_id, table_name, cutoff, rows_affected) "
            "values (%s, %s, %s, %s) on conflict (run_id, table_name) do update "
            "set rows_affected = logged.rows_affected + excluded.rows_affected"
        ).format(sql.Identifier(*log.split("."))),
        (run_id, table, cutoff, rows),
    )
    return Cut(table, cutoff, rows)


def _count_purged(
    conn: psycopg.Connection,
    table: str,
    purging: sql.Composable,
    params,
    dropping: bool = False,
) -> int:
    """Run `purging` (a query returning the purged rows) and count them, per file too where
    the rows come from files; `dropping` (the rows of a partition about to be dropped) logs
    them where a delete trigger would have."""
    side_effects = [_PER_FILE.get(table), _DROPPED_LOG.get(table) if dropping else None]
    ctes = [
        sql.SQL("effect_{} as ({} returning 1)").format(sql.Literal(i), statement)
        for i, statement in enumerate(side_effects)
        if statement is not None
    ]
    query = sql.SQL("with {} select count(*) from purged").format(
        sql.SQL(", ").join([sql.SQL("purged as ({})").format(purging), *ctes])
    )
    return conn.execute(query, params).fetchone()[0]


def _drop_months(conn: psycopg.Connection, run_id: str, table: str, cutoff: datetime) -> int:
    """Drop the month partitions of `table` that end by `cutoff`, each in a transaction of its
    own recorded with the cutoff; returns their rows. Dropping a partition locks the whole
    table: one that cannot get the lock within DROP_LOCK_TIMEOUT (a long query reads the table)
    is left, and its rows are deleted instead (then dropped by a later purge)."""
    rows = 0
    lock_timeout = conn.execute("select current_setting('lock_timeout')").fetchone()[0]
    for partition, _, end in partitions.month_partitions(conn, table):
        if end > cutoff:
            break
        name = sql.Identifier(*partition.split("."))
        try:
            with conn.transaction():
                conn.execute("select set_config('lock_timeout', %s, true)", (DROP_LOCK_TIMEOUT,))
                conn.execute(
                    sql.SQL("lock table {} in access exclusive mode").format(
                        sql.Identifier(*table.split("."))
                    )
                )
                dropped = _count_purged(
                    conn, table, sql.SQL("select * from {}").format(name), (), dropping=True
                )
                conn.execute(sql.SQL("drop table {}").format(name))
                record(conn, RUNS, run_id, table, cutoff, dropped)
        except psycopg.errors.LockNotAvailable:
            continue
        finally:
            conn.execute("select set_config('lock_timeout', %s, true)", (lock_timeout,))
        rows += dropped
    return rows


def purge(
    conn: psycopg.Connection, run_id: str, now: datetime | None = None, days: int | None = None
) -> list[Cut]:
    """Delete raw events and blank transcript text older than the retention; delete check
    results as old (marts.fct_data_quality_daily keeps their daily counts). Each table in its
    own transaction (a month partition dropped whole in one of its own), recorded with its
    cutoff in that same transaction."""
    days = retention_days() if days is None else days
    cutoff = cutoff_for(now or datetime.now(UTC), days)
    purged = []
    for table, when in EVENT_TABLES:
        dropped = _drop_months(conn, run_id, table, cutoff)
        with conn.transaction():
            # What is left before the cutoff: the month it falls in, and the default partition.
            purging = sql.SQL("delete from {} where {} < %s returning *").format(
                sql.Identifier(*table.split(".")), when
            )
            rows = _count_purged(conn, table, purging, (cutoff,))
            record(conn, RUNS, run_id, table, cutoff, rows)
        purged.append(Cut(table, cutoff, dropped + rows))
    with conn.transaction():
        # The counts stay (sessions' message counts and token estimates come from them).
        rows = conn.execute(
            sql.SQL(
                "update {} as m set content = '', content_purged_at = now() "
                "from raw.collector_session_transcripts as t "
                "where t.session_id = m.session_id and t.updated_at < %s "
                "and m.content_purged_at is null"
            ).format(sql.Identifier(*TRANSCRIPT_TEXT.split("."))),
            (cutoff,),
        ).rowcount
        purged.append(record(conn, RUNS, run_id, TRANSCRIPT_TEXT, cutoff, rows))
    with conn.transaction():
        rows = conn.execute(
            sql.SQL("delete from {} where validated_at < %s").format(
                sql.Identifier(*DQ_RESULTS.split("."))
            ),
            (cutoff,),
        ).rowcount
        purged.append(record(conn, RUNS, run_id, DQ_RESULTS, cutoff, rows))
    with conn.transaction():
        forget_read_removals(conn)
    return purged


def forget_read_removals(conn: psycopg.Connection) -> int:
    """Delete the removed Claude Code lines that every staging table reading them has built
    past (intermediate.build_watermarks); none while one of them has not been built."""
    # A login without the transformer's rights may not even look into its schema.
    schema_usable = conn.execute(
        "select exists (select 1 from pg_namespace where nspname = 'intermediate') "
        "and has_schema_privilege('intermediate', 'usage')"
    ).fetchone()[0]
    if not schema_usable:
        return 0
    readable = conn.execute(
        "select to_regclass('intermediate.build_watermarks') is not null "
        "and has_table_privilege('intermediate.build_watermarks', 'select')"
    ).fetchone()[0]
    if not readable:
        return 0
    return conn.execute(
        sql.SQL(
            "delete from {log} where removed_at < ("
            "select case when count(*) = %(readers)s then min(built_from) end "
            "from intermediate.build_watermarks where model_name = any(%(names)s))"
        ).format(log=sql.Identifier(*REMOVED_LINES.split("."))),
        {"readers": len(REMOVED_LINES_READERS), "names": list(REMOVED_LINES_READERS)},
    ).rowcount
