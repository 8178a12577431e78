"""Seed 003's storage policy as two assets, last in every `everything` run:
- ops/retention: after the models that keep detail have absorbed the raw rows, raw rows older
  than ATW_RETENTION_DAYS go (warehouse/retention.py);
- ops/downsample: after the daily marts have counted them (and passed their checks), the
  detailed marts' rows older than ATW_DOWNSAMPLE_DAYS go (warehouse/downsampling.py).
Separate, so that a failed mart check never holds back the purge of raw text."""

import dagster as dg

from ingestion.core.connections import connect
from ingestion.core.raw_schema import ensure_raw_schema
from orchestration.lib.resources import TelemetryDatabases
from warehouse.downsampling import downsample
from warehouse.retention import purge

RETENTION = dg.AssetKey(["ops", "retention"])
DOWNSAMPLE = dg.AssetKey(["ops", "downsample"])
# The models that carry days before the retention horizon over from their own last build.
KEEPERS = (
    ["intermediate", "int_agent_calls_unioned"],
    ["intermediate", "int_tool_calls"],
    ["intermediate", "int_claude_code_responses_priced"],
    ["intermediate", "int_claude_code_session_responses_priced"],
    ["marts", "dim_hosts"],
    ["marts", "fct_data_quality_daily"],
)
# The detailed marts it downsamples, and the daily marts that keep what they lose.
DOWNSAMPLED = (
    ["marts", "fct_session_summaries"],
    ["marts", "fct_sessions_daily"],
    ["marts", "fct_usage_blocks"],
    ["marts", "fct_usage_blocks_daily"],
    ["marts", "fct_anomalies"],
    ["marts", "fct_anomalies_daily"],
)


@dg.asset(
    key=RETENTION,
    group_name="retention",
    kinds={"python", "postgres"},
    deps=[dg.AssetKey(path) for path in KEEPERS],
    description="Deletes raw events, and blanks raw transcript text, older than "
    "ATW_RETENTION_DAYS (default 90) UTC days; deletes check results as old. Runs after the "
    "models that keep detail, which treat days before the cutoff as final: no mart changes.",
)
def retention(
    context: dg.AssetExecutionContext, databases: TelemetryDatabases
) -> dg.MaterializeResult:
    with connect(databases.urls().warehouse) as conn:
        ensure_raw_schema(conn)
        purged = purge(conn, context.run_id)
    return _result(context, purged)


@dg.asset(
    key=DOWNSAMPLE,
    group_name="retention",
    kinds={"python", "postgres"},
    deps=[dg.AssetKey(path) for path in DOWNSAMPLED],
    description="Deletes the detailed marts' rows (sessions, usage blocks, anomalies) older than "
    "ATW_DOWNSAMPLE_DAYS (default 30) UTC days, and records the cutoff that their dbt models "
    "filter on. Runs after their _daily marts, which keep every day, passed their checks.",
)
def downsample_detail(
    context: dg.AssetExecutionContext, databases: TelemetryDatabases
) -> dg.MaterializeResult:
    with connect(databases.urls().warehouse) as conn:
        ensure_raw_schema(conn)
        downsampled = downsample(conn, context.run_id)
    return _result(context, downsampled)


def _result(context: dg.AssetExecutionContext, items: list) -> dg.MaterializeResult:
    for item in items:
        context.log.info(f"{item.table}: {item.rows:,} rows before {item.cutoff:%Y-%m-%d}")
    return dg.MaterializeResult(
        metadata={
            "cutoff": dg.MetadataValue.text(f"{items[0].cutoff:%Y-%m-%d} 00:00 UTC"),
            **{f"rows_{item.table.replace('.', '_')}": item.rows for item in items},
        }
    )
