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


# Routine runs (the nightly schedule, `atw run`, micro-batches) rebuild in dbt only what changed:
# their partition is today's or yesterday's, which the loaders re-read, and change detection
# already rebuilds a day whose rows that re-read changed. Forcing the day anyway rebuilt it, and
# every session crossing into it, in each run, changed or not. A backfill, or a partition a
# person materializes in the UI, still rebuilds its days whatever changed.
REBUILD_TAG = "atw/rebuild"
CHANGED_ONLY = {REBUILD_TAG: "changed"}


def rebuild_window(context) -> tuple[datetime, datetime] | None:
    """The days the dbt build must rebuild whatever changed: the run's window, unless the run is
    a routine one (tagged CHANGED_ONLY)."""
    if context.run.tags.get(REBUILD_TAG) == CHANGED_ONLY[REBUILD_TAG]:
        return None
    return run_window(context)


PARTITION_START = "ATW_DBT_PARTITION_START"
PARTITION_END = "ATW_DBT_PARTITION_END"


def partition_env(window: tuple[datetime, datetime] | None) -> dict[str, str]:
    """The run's window (end exclusive, ISO days) for macros/incremental_days.sql, as the
    environment of the dbt process; empty without one. Not dbt vars: dbt keeps its
    partial-parse state only while the vars stay the same, and a window changes every day."""
    if window is None:
        return {PARTITION_START: "", PARTITION_END: ""}
    start, end = window
    return {PARTITION_START: start.date().isoformat(), PARTITION_END: end.date().isoformat()}
