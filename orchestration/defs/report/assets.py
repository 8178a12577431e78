"""The HTML report as an asset downstream of the marts it reads: a failed blocking check on any
of them holds it back, so it is never rendered from data that failed."""

from __future__ import annotations

import dagster as dg

from ingestion.core.connections import connect
from ingestion.core.settings import report_path
from orchestration.defs.report.render import write_report
from orchestration.lib.resources import TelemetryDatabases

MARTS_READ = (
    "fct_daily_token_trends",
    "fct_activity_heatmap",
    "fct_agent_monthly_usage",
    "dim_models",
    "fct_sessions_daily",
    "fct_tool_usage",
    "fct_tool_sequences",
    "fct_alerts",
    "alert_inbox",
    "fct_recommendations",
    "fct_agent_comparison_daily",
)


@dg.asset(
    key=["reports", "telemetry_report"],
    group_name="dashboards",
    kinds={"python", "html"},
    deps=[dg.AssetKey(["marts", name]) for name in MARTS_READ],
    description="One self-contained HTML file (Plotly inlined, works offline) over the marts "
    "and the data-quality history; ATW_REPORT_PATH, default reports/telemetry-report.html.",
)
def telemetry_report(databases: TelemetryDatabases) -> dg.MaterializeResult:
    path = report_path()
    with connect(databases.urls().warehouse) as conn:
        rows = write_report(conn, path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "size_bytes": path.stat().st_size,
            **{f"rows_{key}": count for key, count in rows.items()},
        }
    )
