"""Collector batch files and metric/value files dropped in the landing folder."""

import dagster as dg

from ingestion.core.connections import connect
from ingestion.file_drops import loader as file_drops
from orchestration.lib.resources import TelemetryDatabases
from orchestration.lib.source_assets import (
    load_metadata,
    reconciles_everything,
    skip_reason,
    skipped_metadata,
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", "landed_collector_events"],
            group_name="ingestion",
            kinds={"python", "postgres"},
            description="Collector batch payloads dropped in ATW_LANDING_DIR (*.json).",
        ),
        dg.AssetSpec(
            ["raw", "landed_metric_events"],
            group_name="ingestion",
            kinds={"python", "postgres"},
            description="metric/value events dropped in ATW_LANDING_DIR (*.ndjson).",
        ),
    ],
)
def landing_files_asset(context: dg.AssetExecutionContext, databases: TelemetryDatabases):
    urls = databases.urls()
    if reason := skip_reason(context, urls, "landing"):
        for key, source in (
            (["raw", "landed_collector_events"], file_drops.BATCH_SOURCE),
            (["raw", "landed_metric_events"], file_drops.METRIC_SOURCE),
        ):
            yield dg.MaterializeResult(asset_key=key, metadata=skipped_metadata(reason, source))
        return
    with connect(urls.warehouse) as warehouse:
        totals = file_drops.load_landing_dir(
            warehouse,
            run_id=context.run_id,
            reconcile_all=reconciles_everything(
                context, warehouse, file_drops.BATCH_SOURCE, file_drops.METRIC_SOURCE
            ),
        )
    yield dg.MaterializeResult(
        asset_key=["raw", "landed_collector_events"],
        metadata=load_metadata(totals[file_drops.BATCH_SOURCE]),
    )
    yield dg.MaterializeResult(
        asset_key=["raw", "landed_metric_events"],
        metadata=load_metadata(totals[file_drops.METRIC_SOURCE]),
    )
