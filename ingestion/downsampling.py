"""Downsampling (seed 003: `downsample_after: 30` days): the detailed marts - one row per
session, billing block or anomaly - keep only rows newer than the cutoff; their `_daily`
companions keep every day. Both read intermediate models that keep everything, so no daily
number changes. The cutoff is recorded in raw.downsample_runs, and dbt filters the detailed marts
on the latest one (dbt_project/macros/retention.sql), so a rebuild does not bring rows back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from ingestion.connections import usable_role
from ingestion.dbt_env import TRANSFORMER_ROLE
from ingestion.retention import cutoff_for, days_setting

DEFAULT_DOWNSAMPLE_DAYS = 30

# Each detailed mart and the column its rows are dated by (as in its dbt model's filter).
DETAILED_MARTS = (
    ("marts.fct_session_summaries", "started_at"),
    ("marts.fct_usage_blocks", "block_start_at"),
    ("marts.fct_anomalies", "started_at"),
)


@dataclass(frozen=True)
class Downsampled:
    table: str
    cutoff: datetime
    rows: int


def downsample_days() -> int:
    """ATW_DOWNSAMPLE_DAYS, default 30."""
    return days_setting("ATW_DOWNSAMPLE_DAYS", DEFAULT_DOWNSAMPLE_DAYS, 1)


def downsample(conn: psycopg.Connection, run_id: str, now: datetime | None = None,
               days: int | None = None) -> list[Downsampled]:
    """Record the cutoff and delete the detailed marts' rows before it, in one transaction, so
    the marts never show detail the next build would drop. A mart dbt has not built yet is
    skipped (its first build filters on the recorded cutoff)."""
    days = downsample_days() if days is None else days
    cutoff = cutoff_for(now or datetime.now(UTC), days)
    done = []
    with conn.transaction():
        # The marts belong to the transformer once `atw roles` has run; as their owner the
        # delete is not narrowed by row-level security.
        previous = conn.execute("select current_setting('role')").fetchone()[0]
        if usable_role(conn, TRANSFORMER_ROLE):
            conn.execute(f"set local role {TRANSFORMER_ROLE}")
        for table, when in DETAILED_MARTS:
            if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is None:
                rows = 0
            else:
                rows = conn.execute(f"delete from {table} where {when} < %s",
                                    (cutoff,)).rowcount
            done.append(Downsampled(table, cutoff, rows))
        conn.execute("select set_config('role', %s, true)", (previous,))
        # dbt filters on the latest cutoff of all runs: a later, longer setting cannot bring
        # back rows an earlier run deleted, nor make the marts disagree on them.
        for item in done:
            conn.execute(
                "insert into raw.downsample_runs (run_id, table_name, cutoff, rows_affected) "
                "values (%s, %s, %s, %s) "
                "on conflict (run_id, table_name) do update "
                "set rows_affected = raw.downsample_runs.rows_affected "
                "+ excluded.rows_affected",
                (run_id, item.table, item.cutoff, item.rows))
    return done
