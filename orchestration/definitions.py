"""The one `Definitions` of the project, built from explicit lists."""

from __future__ import annotations

import dagster as dg

from expectations.suites import SUITES
from orchestration.defs.collector import (
    claude_code_logs_asset,
    collector_events_asset,
    collector_transcripts_asset,
    landing_files_asset,
)
from orchestration.defs.dbt import dbt_mart_models, dbt_resource, dbt_staging_models
from orchestration.defs.quality import gx_check
from orchestration.resources import TelemetryDatabases

ASSETS = [
    collector_events_asset,
    collector_transcripts_asset,
    landing_files_asset,
    claude_code_logs_asset,
    dbt_staging_models,
    dbt_mart_models,
]

ASSET_CHECKS = [gx_check(spec) for spec in SUITES]

everything_job = dg.define_asset_job(
    name="everything",
    selection=dg.AssetSelection.all(),
    description="Pull from the collector, build every dbt model, run every check.",
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly",
    job=everything_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=ASSET_CHECKS,
    jobs=[everything_job],
    schedules=[nightly_schedule],
    resources={
        "databases": TelemetryDatabases(),
        "dbt": dbt_resource(),
    },
)
