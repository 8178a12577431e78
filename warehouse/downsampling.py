"""Downsampling (seed 003: `downsample_after: 30` days): the detailed marts - one row per
session, billing block or anomaly - keep only rows newer than the cutoff; their `_daily`
companions keep every day. Both read intermediate models that keep everything, so no daily
number changes. The cutoff is recorded in raw.downsample_runs, and dbt filters the detailed marts
on the latest one (dbt_project/macros/retention.sql), so a rebuild does not bring rows back.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from psycopg import sql

from ingestion.core.connections import TRANSFORMER_ROLE, acting_as
from warehouse.retention import Cut, cutoff_for, days_setting, record

RUNS = "raw.downsample_runs"

# Each detailed mart and the column its rows are dated by (as in its dbt model's filter).
DETAILED_MARTS = (
    ("marts.fct_session_summaries", "started_at"),
    ("marts.fct_usage_blocks", "block_start_at"),
    ("marts.fct_anomalies", "started_at"),
)


def downsample_days() -> int:
    """ATW_DOWNSAMPLE_DAYS, default 30."""
    return days_setting("ATW_DOWNSAMPLE_DAYS", 1)


def downsample(
    conn: psycopg.Connection, run_id: str, now: datetime | None = None, days: int | None = None
) -> list[Cut]:
    """Record the cutoff and delete the detailed marts' rows before it, in one transaction, so
    the marts never show detail the next build would drop. A mart dbt has not built yet is
    skipped (its first build filters on the recorded cutoff)."""
    days = downsample_days() if days is None else days
    cutoff = cutoff_for(now or datetime.now(UTC), days)
    cuts = []
    with conn.transaction():
        # The marts belong to the transformer once `atw roles` has run; as their owner the
        # delete is not narrowed by row-level security.
        with acting_as(conn, TRANSFORMER_ROLE):
            for table, when in DETAILED_MARTS:
                rows = 0
                if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None:
                    rows = conn.execute(
                        sql.SQL("delete from {} where {} < %s").format(
                            sql.Identifier(*table.split(".")), sql.Identifier(when)
                        ),
                        (cutoff,),
                    ).rowcount
                cuts.append((table, rows))
        # dbt filters on the latest cutoff of all runs: a later, longer setting cannot bring
        # back rows an earlier run deleted, nor make the marts disagree on them.
        done = [record(conn, RUNS, run_id, table, cutoff, rows) for table, rows in cuts]
    return done
