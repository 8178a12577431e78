"""Resources: the project's settings as the assets, checks and sensors receive them."""

from __future__ import annotations

import dagster as dg

from ingestion.core.settings import Urls, resolve_urls


class TelemetryDatabases(dg.ConfigurableResource):
    """Where the warehouse and the collector are, resolved when a run starts.

    A field left empty falls back to the settings (ingestion/core/settings.py: ATW_WAREHOUSE_URL,
    ATW_COLLECTOR_URL, else the embedded server's databases), read at call time. A deployment
    whose URLs live in its own secret variables binds them in `definitions.py` with EnvVar,
    which Dagster resolves when the run starts and never shows in the UI:
    `TelemetryDatabases(warehouse_url=dg.EnvVar("PROD_WAREHOUSE_URL"))`.
    """

    warehouse_url: str = ""
    collector_url: str = ""

    def urls(self) -> Urls:
        if self.warehouse_url and self.collector_url:
            return Urls(warehouse=self.warehouse_url, collector=self.collector_url)
        resolved = resolve_urls()
        return Urls(
            warehouse=self.warehouse_url or resolved.warehouse,
            collector=self.collector_url or resolved.collector,
        )
