"""The reconciliation checks: blocking, one per source asset, failing while any day or file of
that source is out of balance with the source (ingestion/core/reconciliation.py)."""

import dagster as dg

from ingestion.agent_cli.sources import CLIS
from ingestion.claude_code import loader as claude_code
from ingestion.collector import events as collector_events
from ingestion.core import reconciliation
from ingestion.core.connections import connect
from ingestion.file_drops import loader as file_drops
from orchestration.lib.resources import TelemetryDatabases

SHOWN = 10

RECONCILED = {
    ("raw", "collector_events"): (collector_events.SOURCE, "UTC day"),
    ("raw", "landed_collector_events"): (file_drops.BATCH_SOURCE, "file"),
    ("raw", "landed_metric_events"): (file_drops.METRIC_SOURCE, "file"),
    ("raw", "claude_code_lines"): (claude_code.SOURCE, "log file"),
    ("raw", "agent_cli_usage"): (tuple(cli.source for cli in CLIS), "agent CLI file"),
}


def reconciliation_check(
    asset_key: tuple[str, str], source: str | tuple[str, ...], scope: str
) -> dg.AssetChecksDefinition:
    sources = source if isinstance(source, tuple) else (source,)
    source = ", ".join(sources)

    @dg.asset_check(
        asset=dg.AssetKey(list(asset_key)),
        name="reconciliation",
        blocking=True,
        description=f"Blocking: every {scope} of {source} holds in the warehouse what the "
        "source holds (rows net of quarantine and duplicates; for collector days also token "
        "and cost sums), as last compared; stays failed until a later comparison balances.",
    )
    def _check(databases: TelemetryDatabases) -> dg.AssetCheckResult:
        with connect(databases.urls().warehouse) as conn:
            exists = conn.execute("select to_regclass('raw.reconciliation')").fetchone()[0]
            problems = reconciliation.out_of_balance(conn, sources) if exists else []
        metadata = {
            "scopes_out_of_balance": len(problems),
            "missing_rows": sum(max(p["missing_rows"], 0) for p in problems),
        }
        days = sorted(p["scope"] for p in problems if scope == "UTC day")
        if days:
            metadata["to_fix"] = f"atw backfill {days[0]} {days[-1]}"
        elif problems:
            metadata["to_fix"] = (
                "read the files anew: delete their rows from "
                "raw.landed_files, raw.claude_code_files or raw.agent_cli_files, then run again"
            )
        for index, problem in enumerate(problems[:SHOWN], start=1):
            metadata[f"out_of_balance_{index}"] = dg.MetadataValue.json(
                {
                    k: (str(v) if v is not None and k.endswith("cost") else v)
                    for k, v in problem.items()
                }
            )
        return dg.AssetCheckResult(
            passed=not problems, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata
        )

    return _check


def reconciliation_checks() -> list[dg.AssetChecksDefinition]:
    return [reconciliation_check(key, source, scope) for key, (source, scope) in RECONCILED.items()]
