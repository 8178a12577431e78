"""The retention asset: after the models that keep detail have absorbed the raw rows, raw rows
older than ATW_RETENTION_DAYS go (see ingestion/retention.py)."""

import dagster as dg

from ingestion.connections import connect
from ingestion.retention import purge
from ingestion.warehouse_schema import ensure_raw_schema
from orchestration.resources import TelemetryDatabases

RETENTION = dg.AssetKey(["ops", "retention"])
# The models that carry days before the retention horizon over from their own last build.
KEEPERS = (["intermediate", "int_agent_calls_unioned"], ["intermediate", "int_tool_calls"],
           ["intermediate", "int_claude_code_responses_priced"], ["marts", "dim_hosts"],
           ["marts", "fct_data_quality_daily"])


@dg.asset(
    key=RETENTION,
    group_name="retention",
    kinds={"python", "postgres"},
    deps=[dg.AssetKey(path) for path in KEEPERS],
    description="Deletes raw events, and blanks raw transcript text, older than "
    "ATW_RETENTION_DAYS (default 90) UTC days; deletes check results as old. Runs after the "
    "models that keep detail, which treat days before the cutoff as final: no mart changes.",
)
def retention(context: dg.AssetExecutionContext,
              databases: TelemetryDatabases) -> dg.MaterializeResult:
    with connect(databases.urls().warehouse) as conn:
        ensure_raw_schema(conn)
        purged = purge(conn, context.run_id)
    for item in purged:
        context.log.info(f"{item.table}: {item.rows:,} rows before {item.cutoff:%Y-%m-%d}")
    return dg.MaterializeResult(metadata={
        "cutoff": dg.MetadataValue.text(f"{purged[0].cutoff:%Y-%m-%d} 00:00 UTC"),
        **{f"rows_{item.table.replace('.', '_')}": item.rows for item in purged},
    })
