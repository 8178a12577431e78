"""Daily UTC partitions for the time-based assets, and how a run's partitions become the
window that loaders re-read and incremental dbt models rebuild."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

# The first daily partition: the earliest day a record may be dated (ATW_TIMESTAMP_FLOOR's
# default), so every loadable day can be backfilled. A constant, not a setting: partitions are
# part of the definitions, and loading them reads no environment.
FIRST_PARTITION = "2020-01-01"


def daily_partitions() -> dg.DailyPartitionsDefinition:
    # end_offset=1: today is a partition too, so the micro-batch runs can target it.
    return dg.DailyPartitionsDefinition(
        start_date=FIRST_PARTITION,
        timezone="UTC",
        end_offset=1,
    )


DAILY = daily_partitions()
# A backfill of many days is one run, one loader pass and one dbt invocation.
SINGLE_RUN = dg.BackfillPolicy.single_run()


def run_window(context) -> tuple[datetime, datetime] | None:
    """The UTC window of the run's partition or partition range."""
    if not context.has_partition_key and not context.has_partition_key_range:
        return None
    window = context.partition_time_window
    return window.start, window.end


def dbt_vars(window: tuple[datetime, datetime] | None) -> dict:
    """`partition_start`/`partition_end` (end exclusive) for macros/incremental_days.sql."""
    if window is None:
        return {}
    start, end = window
    return {"partition_start": start.date().isoformat(), "partition_end": end.date().isoformat()}
