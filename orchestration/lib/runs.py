"""Running the jobs without the daemon: `atw run`, `atw backfill`, the demo and the tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

# Step-by-step DEBUG events stay in the instance (and the UI); the console gets warnings.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def today() -> date:
    return datetime.now(UTC).date()


def partition_tags(start: date, end: date) -> dict:
    """Tags that make one run cover the daily partitions start..end (both included)."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }


def range_problem(start: date, end: date) -> str | None:
    """Why start..end cannot be run as daily partitions (one line naming the setting to
    change), or None."""
    from orchestration.lib.partitions import daily_partitions

    first = daily_partitions().start.date()
    if end < start:
        return f"the range ends ({end}) before it starts ({start})"
    if start < first:
        return (
            f"{start} is before the first daily partition, {first}: no record may be "
            f"dated earlier (ATW_TIMESTAMP_FLOOR), so there is nothing to backfill there"
        )
    if end > today():
        return f"{end} is after today ({today()}, UTC): there is nothing to backfill there yet"
    return None


def run_job(
    job_name: str = "everything",
    start: date | None = None,
    end: date | None = None,
    instance=None,
    output=None,
    tags: dict[str, str] | None = None,
):
    """Execute `job_name` in this process for the partitions start..end (default: today's),
    recorded in `instance` (the one under DAGSTER_HOME unless another is given). `output` (a
    `progress.Session`) adds the stage lines and the run's log file; `tags` go on the run."""
    from dagster import DagsterInstance

    from orchestration.defs.dbt.manifest import ensure_dbt_manifest

    # The definitions read dbt's manifest: rebuilt first if a dbt file changed.
    ensure_dbt_manifest()
    from orchestration.definitions import defs
    from orchestration.lib.instance import prepare_dagster_home

    job = defs.resolve_job_def(job_name)
    run_config = QUIET
    if output is not None:
        from orchestration.lib.progress import LOGGERS

        job = job.with_logger_defs({**job.loggers, **LOGGERS})
        run_config = output.run_config()
    start = start or today()
    tags = {
        **(partition_tags(start, end or start) if job.partitions_def is not None else {}),
        **(tags or {}),
    }
    if instance is not None:
        return job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config, tags=tags
        )
    prepare_dagster_home()
    with DagsterInstance.get() as home_instance:
        return job.execute_in_process(
            instance=home_instance, raise_on_error=False, run_config=run_config, tags=tags
        )
