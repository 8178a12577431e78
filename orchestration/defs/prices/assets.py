"""The price catalogue asset: the dated prices of every model the sources logged, looked up in
the maintained catalogue (genai-prices, offline) after the loads and before dbt prices calls."""

import dagster as dg

from ingestion.core.connections import connect
from ingestion.core.raw_schema import ensure_raw_schema
from ingestion.prices import catalogue as price_catalogue
from orchestration.lib.resources import TelemetryDatabases

PRICE_CATALOGUE = dg.AssetKey(["raw", "model_price_catalogue"])
LOADED = [
    ["raw", "collector_events"],
    ["raw", "landed_collector_events"],
    ["raw", "landed_metric_events"],
    ["raw", "claude_code_lines"],
    ["raw", "agent_cli_usage"],
]


@dg.asset(
    key=PRICE_CATALOGUE,
    group_name="ingestion",
    kinds={"python", "postgres"},
    deps=[dg.AssetKey(key) for key in LOADED],
    description="Dated per-MTok prices (genai-prices, offline) of every model name in the raw "
    "tables; dbt's reference/model_prices adds the override and alias seeds.",
)
def model_price_catalogue(context: dg.AssetExecutionContext, databases: TelemetryDatabases):
    with connect(databases.urls().warehouse) as warehouse:
        ensure_raw_schema(warehouse)
        names = price_catalogue.logged_model_names(warehouse)
        counts = price_catalogue.refresh(warehouse, names)
    context.log.info(
        f"{price_catalogue.catalogue_name()}: {counts['models_priced']} models "
        f"priced, {counts['models_not_in_catalogue']} not in the catalogue"
    )
    return dg.MaterializeResult(metadata={**counts, "catalogue": price_catalogue.catalogue_name()})
