"""The collector's events and transcripts into the warehouse's raw schema."""

import dagster as dg

from ingestion.collector import events as collector_events
from ingestion.collector import transcripts as collector_transcripts
from ingestion.core.connections import connect
from orchestration.lib.partitions import DAILY, SINGLE_RUN, run_window
from orchestration.lib.resources import TelemetryDatabases
from orchestration.lib.source_assets import (
    SOURCE_RETRY,
    load_metadata,
    reconciles_everything,
    skip_reason,
    skipped_metadata,
    source_errors,
)


@dg.asset(
    key=["raw", "collector_events"],
    group_name="ingestion",
    kinds={"python", "postgres"},
    retry_policy=SOURCE_RETRY,
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    description="collector.telemetry_events → raw.collector_events (COPY, merged by source id). "
    "Every run loads what is new; a partition (range) also re-reads the events created in it.",
)
def collector_events_asset(context: dg.AssetExecutionContext, databases: TelemetryDatabases):
    urls = databases.urls()
    if reason := skip_reason(context, urls, "collector"):
        return dg.MaterializeResult(metadata=skipped_metadata(reason, collector_events.SOURCE))
    with source_errors(), connect(urls.collector) as source, connect(urls.warehouse) as warehouse:
        counts = collector_events.pull_events(
            source,
            warehouse,
            run_id=context.run_id,
            window=run_window(context),
            reconcile_all=reconciles_everything(context, warehouse, collector_events.SOURCE),
        )
    return dg.MaterializeResult(metadata=load_metadata(counts))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", "collector_session_transcripts"],
            group_name="ingestion",
            kinds={"python", "postgres"},
            description="One row per collector transcript (latest version).",
        ),
        dg.AssetSpec(
            ["raw", "collector_transcript_messages"],
            group_name="ingestion",
            kinds={"python", "postgres"},
            description="Transcript messages: redacted text and tiktoken estimates.",
        ),
    ],
    retry_policy=SOURCE_RETRY,
)
def collector_transcripts_asset(context: dg.AssetExecutionContext, databases: TelemetryDatabases):
    urls = databases.urls()
    if reason := skip_reason(context, urls, "collector"):
        metadata = skipped_metadata(reason, collector_transcripts.SOURCE)
    else:
        with (
            source_errors(),
            connect(urls.collector) as source,
            connect(urls.warehouse) as warehouse,
        ):
            counts, message_counts = collector_transcripts.pull_transcripts(
                source, warehouse, run_id=context.run_id
            )
        metadata = {
            **load_metadata(counts),
            **{f"messages_{k}": v for k, v in load_metadata(message_counts).items()},
        }
    yield dg.MaterializeResult(
        asset_key=["raw", "collector_session_transcripts"], metadata=metadata
    )
    yield dg.MaterializeResult(
        asset_key=["raw", "collector_transcript_messages"], metadata=metadata
    )
