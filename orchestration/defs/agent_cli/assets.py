"""The logs of Codex, Gemini CLI, OpenCode and Copilot CLI, and OTLP file exports."""

import dagster as dg

from ingestion.agent_cli import loader as agent_cli
from ingestion.agent_cli.sources import CLIS
from ingestion.core.connections import connect
from ingestion.core.load_log import LoadCounts
from ingestion.core.raw_schema import ensure_raw_schema
from orchestration.lib.resources import TelemetryDatabases
from orchestration.lib.source_assets import (
    load_metadata,
    reconciles_everything,
    skip_reason,
    skipped_metadata,
)

USAGE = dg.AssetKey(["raw", "agent_cli_usage"])
TOOLS = dg.AssetKey(["raw", "agent_cli_tool_events"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            USAGE,
            group_name="ingestion",
            kinds={"python", "postgres"},
            description="Token usage from the logs of Codex (ATW_CODEX_HOME), Gemini CLI "
            "(ATW_GEMINI_DIR), OpenCode (ATW_OPENCODE_DIR), Copilot CLI (ATW_COPILOT_HOME) and "
            "OTLP/JSON file exports (ATW_OTLP_DIR), counted by ccusage's rules per CLI.",
        ),
        dg.AssetSpec(
            TOOLS,
            group_name="ingestion",
            kinds={"python", "postgres"},
            description="Tool calls and API errors from the same files.",
        ),
    ],
    name="agent_cli_logs_asset",
)
def agent_cli_logs_asset(context: dg.AssetExecutionContext, databases: TelemetryDatabases):
    urls = databases.urls()
    if reason := skip_reason(context, urls, "agent_cli"):
        metadata = skipped_metadata(reason, "agent_cli")
        yield dg.MaterializeResult(asset_key=USAGE, metadata=metadata)
        yield dg.MaterializeResult(asset_key=TOOLS, metadata=metadata)
        return
    totals, per_cli = LoadCounts("agent_cli"), {}
    with connect(urls.warehouse) as warehouse:
        ensure_raw_schema(warehouse)  # once, not once per CLI
        for cli in CLIS:
            if not cli.roots():
                context.log.info(f"{cli.name}: skipped, {cli.setting} is not set")
                continue
            counts = agent_cli.load_cli(
                warehouse,
                run_id=context.run_id,
                cli=cli,
                reconcile_all=reconciles_everything(context, warehouse, cli.source),
                schema_ready=True,
            )
            totals.add(counts)
            per_cli[cli.name] = dg.MetadataValue.int(counts.rows_loaded)
    metadata = {**load_metadata(totals), **{f"rows_loaded_{k}": v for k, v in per_cli.items()}}
    yield dg.MaterializeResult(asset_key=USAGE, metadata=metadata)
    yield dg.MaterializeResult(asset_key=TOOLS, metadata={})
