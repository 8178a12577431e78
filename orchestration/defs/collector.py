"""Ingestion assets: the collector's events and transcripts into the warehouse's raw schema."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg

from ingestion import claude_code, collector_events, collector_transcripts, file_drops, settings
from ingestion.connections import connect
from ingestion.load_log import LoadCounts
from ingestion.warehouse_schema import ensure_raw_schema
from orchestration.partitions import DAILY, SINGLE_RUN, run_window
from orchestration.resources import TelemetryDatabases

# Source reads can fail on a flaky network; a few spaced retries heal that.
SOURCE_RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL)
# Invalid authorization (class 28) and a missing database (3D000) do not heal by waiting.
# A missing table (42P01: COLLECTOR_URL names a database that is not a collector's) neither.
_HOPELESS_STATES = ("28000", "28P01", "3D000", "42P01")


def _is_hopeless(error: psycopg.Error) -> bool:
    if error.sqlstate in _HOPELESS_STATES:
        return True
    # A failed connection attempt carries no SQLSTATE, only the server's message.
    message = str(error)
    return "password authentication failed" in message or (
        "does not exist" in message and ("role " in message or "database " in message))


@contextmanager
def source_errors() -> Iterator[None]:
    """Errors that cannot heal fail at once; the rest go to the asset's RetryPolicy."""
    try:
        yield
    except psycopg.Error as error:
        if _is_hopeless(error):
            raise dg.Failure(
                description=f"Not retried, fix the configuration: {error}".strip(),
                allow_retries=False,
            ) from error
        raise


def _reconciles_everything(context: dg.AssetExecutionContext) -> bool:
    """Micro-batches reconcile the days and files they read; every other run (the nightly
    `everything`, `atw run`, a backfill) every day inside retention and every file."""
    return context.run.job_name != "micro_batch"


def _metadata(counts) -> dict:
    return {name: dg.MetadataValue.int(value) for name, value in counts.as_dict().items()
            if name != "source"}


def _skip_reason(context: dg.AssetExecutionContext, urls, source: str) -> str | None:
    """Why `source` is not configured (logged once), or None when it is."""
    reason = settings.skipped_sources(urls).get(source)
    if reason:
        context.log.info(f"skipped: {reason}")
        with connect(urls.warehouse) as warehouse:
            ensure_raw_schema(warehouse)  # dbt's sources exist even when no source is read
    return reason


def _skipped(reason: str, source: str) -> dict:
    return {**_metadata(LoadCounts(source)), "skipped": reason}


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
    if reason := _skip_reason(context, urls, "collector"):
        return dg.MaterializeResult(metadata=_skipped(reason, collector_events.SOURCE))
    with source_errors(), connect(urls.collector) as source, connect(urls.warehouse) as warehouse:
        counts = collector_events.pull_events(source, warehouse, run_id=context.run_id,
                                              window=run_window(context),
                                              reconcile_all=_reconciles_everything(context))
    return dg.MaterializeResult(metadata=_metadata(counts))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", "collector_session_transcripts"], group_name="ingestion",
                     kinds={"python", "postgres"},
                     description="One row per collector transcript (latest version)."),
        dg.AssetSpec(["raw", "collector_transcript_messages"], group_name="ingestion",
                     kinds={"python", "postgres"},
                     description="Transcript messages: redacted text and tiktoken estimates."),
    ],
    retry_policy=SOURCE_RETRY,
)
def collector_transcripts_asset(context: dg.AssetExecutionContext,
                                databases: TelemetryDatabases):
    urls = databases.urls()
    if reason := _skip_reason(context, urls, "collector"):
        metadata = _skipped(reason, collector_transcripts.SOURCE)
    else:
        with source_errors(), connect(urls.collector) as source, \
                connect(urls.warehouse) as warehouse:
            counts, message_counts = collector_transcripts.pull_transcripts(
                source, warehouse, run_id=context.run_id)
        metadata = {**_metadata(counts),
                    **{f"messages_{k}": v for k, v in _metadata(message_counts).items()}}
    yield dg.MaterializeResult(asset_key=["raw", "collector_session_transcripts"],
                               metadata=metadata)
    yield dg.MaterializeResult(asset_key=["raw", "collector_transcript_messages"],
                               metadata=metadata)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", "landed_collector_events"], group_name="ingestion",
                     kinds={"python", "postgres"},
                     description="Collector batch payloads dropped in LANDING_DIR (*.json)."),
        dg.AssetSpec(["raw", "landed_metric_events"], group_name="ingestion",
                     kinds={"python", "postgres"},
                     description="metric/value events dropped in LANDING_DIR (*.ndjson)."),
    ],
)
def landing_files_asset(context: dg.AssetExecutionContext, databases: TelemetryDatabases):
    urls = databases.urls()
    if reason := _skip_reason(context, urls, "landing"):
        for key, source in ((["raw", "landed_collector_events"], file_drops.BATCH_SOURCE),
                            (["raw", "landed_metric_events"], file_drops.METRIC_SOURCE)):
            yield dg.MaterializeResult(asset_key=key, metadata=_skipped(reason, source))
        return
    with connect(urls.warehouse) as warehouse:
        totals = file_drops.load_landing_dir(warehouse, run_id=context.run_id,
                                             reconcile_all=_reconciles_everything(context))
    yield dg.MaterializeResult(asset_key=["raw", "landed_collector_events"],
                               metadata=_metadata(totals[file_drops.BATCH_SOURCE]))
    yield dg.MaterializeResult(asset_key=["raw", "landed_metric_events"],
                               metadata=_metadata(totals[file_drops.METRIC_SOURCE]))


@dg.asset(
    key=["raw", "claude_code_lines"],
    group_name="ingestion",
    kinds={"python", "postgres"},
    description="Claude Code session logs under CLAUDE_PROJECTS_DIR, read incrementally.",
)
def claude_code_logs_asset(context: dg.AssetExecutionContext, databases: TelemetryDatabases):
    urls = databases.urls()
    if reason := _skip_reason(context, urls, "claude_code"):
        return dg.MaterializeResult(metadata=_skipped(reason, claude_code.SOURCE))
    with connect(urls.warehouse) as warehouse:
        counts = claude_code.load_projects(warehouse, run_id=context.run_id,
                                           reconcile_all=_reconciles_everything(context))
    return dg.MaterializeResult(metadata=_metadata(counts))
