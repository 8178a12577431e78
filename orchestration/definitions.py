"""The one `Definitions` of the project, built from explicit lists."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from expectations.suites import SUITES
from orchestration.defs.agent_cli.assets import agent_cli_logs_asset
from orchestration.defs.automation.sensors import SENSORS
from orchestration.defs.claude_code.assets import claude_code_logs_asset
from orchestration.defs.collector.assets import collector_events_asset, collector_transcripts_asset
from orchestration.defs.dbt.assets import DBT_ASSETS, dbt_resource
from orchestration.defs.file_drops.assets import landing_files_asset
from orchestration.defs.prices.assets import model_price_catalogue
from orchestration.defs.quality.gx_checks import gx_checks
from orchestration.defs.quality.reconciliation import reconciliation_checks
from orchestration.defs.report.assets import telemetry_report
from orchestration.defs.retention.assets import DOWNSAMPLE, RETENTION, downsample_detail, retention
from orchestration.lib.partitions import CHANGED_ONLY, DAILY
from orchestration.lib.resources import TelemetryDatabases
from orchestration.lib.validation_scope import FULL, VALIDATION_TAG

ASSETS = [
    collector_events_asset,
    collector_transcripts_asset,
    landing_files_asset,
    claude_code_logs_asset,
    agent_cli_logs_asset,
    model_price_catalogue,
    *DBT_ASSETS,
    telemetry_report,
    retention,
    downsample_detail,
]

ASSET_CHECKS = [*gx_checks(SUITES), *reconciliation_checks()]

# The run queue lets one run with this tag write the warehouse at a time (see instance.py).
WRITER_TAG = {"atw/writes": "warehouse"}

everything_job = dg.define_asset_job(
    name="everything",
    selection=dg.AssetSelection.all(),
    partitions_def=DAILY,
    tags={**WRITER_TAG, **CHANGED_ONLY},
    description="Pull everything new from every source, build every dbt model, run every "
    "check, then apply retention and downsampling. The partition (range) is re-read from the "
    "collector; dbt rebuilds the days that changed (the backfill job rebuilds its range "
    "whatever changed).",
)

backfill_job = dg.define_asset_job(
    name="backfill",
    selection=dg.AssetSelection.assets(["raw", "collector_events"]).downstream()
    - dg.AssetSelection.assets(RETENTION, DOWNSAMPLE),
    partitions_def=DAILY,
    tags=WRITER_TAG,
    description="Re-read a date range from the collector and rebuild it and everything "
    "downstream, as one run. Idempotent: a second run changes nothing.",
)

micro_batch_job = dg.define_asset_job(
    name="micro_batch",
    selection=dg.AssetSelection.all(),
    partitions_def=DAILY,
    tags={**WRITER_TAG, **CHANGED_ONLY},
    description="Launched by the micro_batch sensor with only the affected assets.",
)

full_validation_job = dg.define_asset_job(
    name="full_validation",
    selection=dg.AssetSelection.all_asset_checks(),
    tags={**WRITER_TAG, VALIDATION_TAG: FULL},
    description="Run every check over every row of its table. The other jobs validate the "
    "rows written since a check last passed; this job, weekly and on demand (`atw validate`), "
    "also covers what that cannot see: a row edited around the loaders, a rule changed.",
)


@dg.schedule(
    name="nightly",
    job=everything_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """02:00 UTC: the run for the day that just ended (the partition definition's last
    partition is today), which also loads everything new and applies retention and downsampling."""
    day = (context.scheduled_execution_time - timedelta(days=1)).strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=f"nightly-{day}", partition_key=day)


weekly_full_validation = dg.ScheduleDefinition(
    name="weekly_full_validation",
    job=full_validation_job,
    cron_schedule="0 4 * * 0",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Sundays 04:00 UTC, after the nightly run.",
)


defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=ASSET_CHECKS,
    jobs=[everything_job, backfill_job, micro_batch_job, full_validation_job],
    schedules=[nightly_schedule, weekly_full_validation],
    sensors=SENSORS,
    # Every job, and every materialization launched from the UI, runs its steps in the run's
    # own process: a process per step would import the definitions (and GX, and dbt) again
    # for each of some sixty steps, seconds each, where the steps themselves take a fraction
    # of that and run one after another anyway (the dbt layers, then the checks that gate the
    # next). One process also lets every dbt step use the run's warm dbt.
    executor=dg.in_process_executor,
    resources={
        "databases": TelemetryDatabases(),
        "dbt": dbt_resource(),
    },
)
