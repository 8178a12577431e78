"""Claude Code session logs, read incrementally."""

import dagster as dg

from ingestion.claude_code import loader as claude_code
from ingestion.core.connections import connect
from orchestration.lib.resources import TelemetryDatabases
from orchestration.lib.source_assets import (
    load_metadata,
    reconciles_everything,
    skip_reason,
    skipped_metadata,
)


@dg.asset(
    key=["raw", "claude_code_lines"],
    group_name="ingestion",
    kinds={"python", "postgres"},
    description="Claude Code session logs under ATW_CLAUDE_PROJECTS_DIR, read incrementally.",
)
def claude_code_logs_asset(context: dg.AssetExecutionContext, databases: TelemetryDatabases):
    urls = databases.urls()
    if reason := skip_reason(context, urls, "claude_code"):
        return dg.MaterializeResult(metadata=skipped_metadata(reason, claude_code.SOURCE))
    with connect(urls.warehouse) as warehouse:
        counts = claude_code.load_projects(
            warehouse,
            run_id=context.run_id,
            reconcile_all=reconciles_everything(context, warehouse, claude_code.SOURCE),
        )
    return dg.MaterializeResult(metadata=load_metadata(counts))
